package restate

import (
	"time"

	"github.com/qcodr/restate-sdk-go/internal/endpoint"
)

// Option configures a service (any kind) or a single handler: it is accepted
// by [NewService], [NewObject], [NewWorkflow] and by every handler
// constructor. Handler options override service options.
type Option interface {
	ServiceItem
	ObjectItem
	WorkflowItem
	HandlerOption
	applyService(*endpoint.Options)
}

// HandlerOption configures a handler: every [Option], plus codec options
// and the payload options of the manifest.
type HandlerOption interface {
	applyHandler(*handlerConfig)
}

// CodecOption sets the codec of a handler's input or output: [WithCodec],
// [WithInputCodec], [WithOutputCodec]. The handler constructors take it as
// a [HandlerOption]; [Remote] and [RemoteObject] take only these.
type CodecOption interface {
	HandlerOption
	codecOption()
}

type handlerConfig struct {
	opts         endpoint.Options
	inCodec      Codec
	outCodec     Codec
	inCT         string
	outCT        string
	inOptional   bool // the manifest's input.required is false
	outCTIfEmpty bool // the manifest's output.setContentTypeIfEmpty
}

type option func(*endpoint.Options)

func (o option) serviceItem()                     {}
func (o option) objectItem()                      {}
func (o option) workflowItem()                    {}
func (o option) applyService(e *endpoint.Options) { o(e) }
func (o option) applyHandler(c *handlerConfig)    { o(&c.opts) }

// WithDocumentation sets the documentation shown in the UI and the manifest.
func WithDocumentation(doc string) Option {
	return option(func(o *endpoint.Options) { o.Documentation = doc })
}

// WithMetadata adds a key/value pair to the manifest metadata.
func WithMetadata(key, value string) Option {
	return option(func(o *endpoint.Options) {
		if o.Metadata == nil {
			o.Metadata = map[string]string{}
		}
		o.Metadata[key] = value
	})
}

// WithIngressPrivate hides the service or handler from the HTTP and Kafka
// ingress: only other handlers can call it.
func WithIngressPrivate() Option {
	return option(func(o *endpoint.Options) { t := true; o.IngressPrivate = &t })
}

// WithJournalRetention keeps the journal of completed invocations for d.
func WithJournalRetention(d time.Duration) Option {
	return option(func(o *endpoint.Options) { o.JournalRetention = &d })
}

// WithIdempotencyRetention keeps the result of idempotent invocations for d.
func WithIdempotencyRetention(d time.Duration) Option {
	return option(func(o *endpoint.Options) { o.IdempotencyRetention = &d })
}

// WithWorkflowRetention keeps a completed workflow (its result, state and
// promises) for d. Only for workflow run handlers and workflows: given to
// [NewWorkflow] it applies to the run handler (unless that sets its own);
// [NewService], [NewObject] and [NewWorkflow] panic when a service or a
// handler other than a workflow's run handler carries it.
func WithWorkflowRetention(d time.Duration) Option {
	return option(func(o *endpoint.Options) { o.WorkflowCompletionRetention = &d })
}

// WithInactivityTimeout sets how long the runtime waits for the handler to
// make progress on an open stream before it asks it to suspend.
func WithInactivityTimeout(d time.Duration) Option {
	return option(func(o *endpoint.Options) { o.InactivityTimeout = &d })
}

// WithAbortTimeout sets how long the runtime waits after asking a handler to
// suspend before it aborts the attempt.
func WithAbortTimeout(d time.Duration) Option {
	return option(func(o *endpoint.Options) { o.AbortTimeout = &d })
}

// WithLazyState makes the runtime send no state with the invocation; every
// state read becomes a round trip. For objects with large state.
func WithLazyState() Option {
	return option(func(o *endpoint.Options) { t := true; o.EnableLazyState = &t })
}

// InvocationRetryPolicy is the runtime's retry policy for failed attempts of
// an invocation. Zero fields keep the runtime's defaults.
type InvocationRetryPolicy struct {
	InitialInterval time.Duration
	MaxInterval     time.Duration
	Factor          float64
	// MaxAttempts bounds the attempts; 0 = runtime default.
	MaxAttempts uint32
	// OnMaxAttempts is "pause" (keep the invocation for an operator to
	// resume) or "kill"; empty = runtime default.
	OnMaxAttempts OnMax
}

// OnMax says what the runtime does when the retry policy is exhausted.
type OnMax string

// The outcomes of an exhausted invocation retry policy.
const (
	OnMaxPause OnMax = "PAUSE"
	OnMaxKill  OnMax = "KILL"
)

// WithRetryPolicy sets the invocation retry policy (manifest v4, restate
// 1.5 and newer).
func WithRetryPolicy(p InvocationRetryPolicy) Option {
	return option(func(o *endpoint.Options) {
		rp := &endpoint.RetryPolicy{OnMaxAttempts: string(p.OnMaxAttempts)}
		if p.InitialInterval > 0 {
			rp.InitialInterval = &p.InitialInterval
		}
		if p.MaxInterval > 0 {
			rp.MaxInterval = &p.MaxInterval
		}
		if p.Factor > 0 {
			rp.Factor = &p.Factor
		}
		if p.MaxAttempts > 0 {
			rp.MaxAttempts = &p.MaxAttempts
		}
		o.RetryPolicy = rp
	})
}

type codecOption struct {
	in, out Codec
}

func (codecOption) codecOption() {}

func (c codecOption) applyHandler(h *handlerConfig) {
	if c.in != nil {
		h.inCodec = c.in
	}
	if c.out != nil {
		h.outCodec = c.out
	}
}

// WithCodec sets the codec of a handler's input and output (default JSON).
func WithCodec(c Codec) CodecOption { return codecOption{in: c, out: c} }

// WithInputCodec sets the codec of a handler's input.
func WithInputCodec(c Codec) CodecOption { return codecOption{in: c} }

// WithOutputCodec sets the codec of a handler's output.
func WithOutputCodec(c Codec) CodecOption { return codecOption{out: c} }

type contentTypeOption struct{ in, out string }

func (c contentTypeOption) applyHandler(h *handlerConfig) {
	if c.in != "" {
		h.inCT = c.in
	}
	if c.out != "" {
		h.outCT = c.out
	}
}

type payloadOption struct{ optionalInput, contentTypeIfEmpty bool }

func (p payloadOption) applyHandler(h *handlerConfig) {
	h.inOptional = h.inOptional || p.optionalInput
	h.outCTIfEmpty = h.outCTIfEmpty || p.contentTypeIfEmpty
}

// WithOptionalInput advertises the handler's input as optional in the
// manifest (input.required false): the runtime then accepts a request
// without a body, and the handler receives the zero value of In (the JSON
// codec decodes an empty body so).
func WithOptionalInput() HandlerOption { return payloadOption{optionalInput: true} }

// WithContentTypeIfEmpty makes the runtime set the output content type on
// responses whose body is empty too (output.setContentTypeIfEmpty in the
// manifest).
func WithContentTypeIfEmpty() HandlerOption { return payloadOption{contentTypeIfEmpty: true} }

// WithInputContentType overrides the input content type advertised in the
// manifest; it may contain wildcards like an Accept header ("*/*").
func WithInputContentType(ct string) HandlerOption { return contentTypeOption{in: ct} }

// WithOutputContentType overrides the output content type advertised in the
// manifest.
func WithOutputContentType(ct string) HandlerOption { return contentTypeOption{out: ct} }
