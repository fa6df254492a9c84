package restate

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// CallOption configures a request-response call (Call): [WithName] and
// every [RequestOption].
type CallOption interface {
	applyCall(*callConfig)
}

// SendOption configures a one-way call (Send): [WithDelay], [WithName] and
// every [RequestOption]. [WithDelay] is a SendOption only, so passing it to
// a call does not compile.
type SendOption interface {
	applySend(*callConfig)
}

// RequestOption configures both calls and one-way calls:
// [WithIdempotencyKey], [WithHeaders], [WithScope], [WithLimitKey].
type RequestOption interface {
	CallOption
	SendOption
}

type callConfig struct {
	idempotencyKey *string
	headers        map[string]string
	delay          time.Duration
	scope          *string
	limitKey       *string
	name           string
}

type requestOption func(*callConfig)

func (o requestOption) applyCall(c *callConfig) { o(c) }
func (o requestOption) applySend(c *callConfig) { o(c) }

type sendOption func(*callConfig)

func (o sendOption) applySend(c *callConfig) { o(c) }

// WithIdempotencyKey makes the call idempotent: calls with the same target
// and key run once, and later ones get the same result.
func WithIdempotencyKey(key string) RequestOption {
	return requestOption(func(c *callConfig) { c.idempotencyKey = &key })
}

// WithHeaders adds headers to the call; the callee sees them in
// Request().Headers.
func WithHeaders(h map[string]string) RequestOption {
	return requestOption(func(c *callConfig) {
		if c.headers == nil {
			c.headers = map[string]string{}
		}
		maps.Copy(c.headers, h)
	})
}

// WithDelay delays a one-way call (Send): the callee starts after d.
func WithDelay(d time.Duration) SendOption {
	return sendOption(func(c *callConfig) { c.delay = d })
}

// WithScope runs the callee in a scope (protocol V7; older versions fail
// the attempt with code 573).
func WithScope(scope string) RequestOption {
	return requestOption(func(c *callConfig) { c.scope = &scope })
}

// WithLimitKey sets the concurrency limit key of a scoped call (protocol V7).
func WithLimitKey(key string) RequestOption {
	return requestOption(func(c *callConfig) { c.limitKey = &key })
}

// NameOption names a durable operation in the journal (shown in the UI and
// in error messages). It is accepted by runs ([RunOption]), timers
// ([SleepOption]), calls ([CallOption]) and one-way calls ([SendOption]).
type NameOption struct{ name string }

// WithName names a durable operation in the journal.
func WithName(name string) NameOption { return NameOption{name: name} }

func (o NameOption) applyCall(c *callConfig)   { c.name = o.name }
func (o NameOption) applySend(c *callConfig)   { c.name = o.name }
func (o NameOption) applyRun(c *runConfig)     { c.name = o.name }
func (o NameOption) applySleep(c *sleepConfig) { c.name = o.name }

// callSpec is a resolved call target with its codecs.
type callSpec struct {
	service, handler, key string
	in, out               Codec
}

func (s callSpec) replayTarget(cfg *callConfig) replay.CallTarget {
	t := replay.CallTarget{
		Service:        s.service,
		Handler:        s.handler,
		Key:            s.key,
		IdempotencyKey: cfg.idempotencyKey,
		Scope:          cfg.scope,
		LimitKey:       cfg.limitKey,
		Name:           cfg.name,
	}
	// Sorted, so that a replay issues the same header list (map iteration
	// order is random and the journal compares headers in order).
	for _, k := range slices.Sorted(maps.Keys(cfg.headers)) {
		t.Headers = append(t.Headers, wire.HeaderEntry{Key: k, Value: cfg.headers[k]})
	}
	return t
}

// applyCallOptions and applySendOptions skip a nil option, as every
// option list of the SDK does.
func applyCallOptions(opts []CallOption) callConfig {
	var cfg callConfig
	for _, o := range opts {
		if o != nil {
			o.applyCall(&cfg)
		}
	}
	return cfg
}

func applySendOptions(opts []SendOption) callConfig {
	var cfg callConfig
	for _, o := range opts {
		if o != nil {
			o.applySend(&cfg)
		}
	}
	return cfg
}

func callTyped[In, Out any](ctx Context, spec callSpec, specErr error, in In, opts []CallOption) CallFuture[Out] {
	hc := ctx.base()
	if specErr != nil {
		return CallFuture[Out]{Future: failedFuture[Out](hc.inv, specErr), id: failedFuture[string](hc.inv, specErr)}
	}
	param, err := encode(spec.in, in)
	if err != nil {
		err = &TerminalError{Code: 400, Message: fmt.Sprintf("restate: cannot encode the parameter of %s/%s: %v", spec.service, spec.handler, err), Err: err}
		return CallFuture[Out]{Future: failedFuture[Out](hc.inv, err), id: failedFuture[string](hc.inv, err)}
	}
	return callRaw[Out](hc, spec, param, opts)
}

func callRaw[Out any](hc *handlerContext, spec callSpec, param []byte, opts []CallOption) CallFuture[Out] {
	cfg := applyCallOptions(opts)
	idH, resH, err := hc.inv.Call(spec.replayTarget(&cfg), param)
	if err != nil {
		return CallFuture[Out]{Future: failedFuture[Out](hc.inv, err), id: failedFuture[string](hc.inv, err)}
	}
	what := "call " + spec.service + "/" + spec.handler
	return CallFuture[Out]{
		Future: issued(hc.inv, resH, nil, asValue[Out](spec.out, what)),
		id:     issued(hc.inv, idH, nil, byConv(invocationIDConv)),
	}
}

func sendTyped[In any](ctx Context, spec callSpec, specErr error, in In, opts []SendOption) Invocation {
	hc := ctx.base()
	if specErr != nil {
		return Invocation{id: failedFuture[string](hc.inv, specErr)}
	}
	param, err := encode(spec.in, in)
	if err != nil {
		err = &TerminalError{Code: 400, Message: fmt.Sprintf("restate: cannot encode the parameter of %s/%s: %v", spec.service, spec.handler, err), Err: err}
		return Invocation{id: failedFuture[string](hc.inv, err)}
	}
	return sendRaw(hc, spec, param, opts)
}

func sendRaw(hc *handlerContext, spec callSpec, param []byte, opts []SendOption) Invocation {
	cfg := applySendOptions(opts)
	var invokeTime uint64
	if cfg.delay > 0 {
		invokeTime = dueMillis(hc.inv.Now(), cfg.delay)
	}
	idH, err := hc.inv.Send(spec.replayTarget(&cfg), param, invokeTime)
	return Invocation{id: issued(hc.inv, idH, err, byConv(invocationIDConv))}
}

// RemoteHandler calls a handler by name: the escape hatch for services
// defined elsewhere. Make one with [Remote] (services) or [RemoteObject]
// (virtual objects and workflows); In and Out are encoded with JSON unless
// a [CodecOption] says otherwise.
type RemoteHandler[In, Out any] struct {
	service, handler string
	in, out          Codec
}

// RemoteObjectHandler calls a keyed handler (virtual object or workflow) by
// name. Make one with [RemoteObject].
type RemoteObjectHandler[In, Out any] struct {
	r RemoteHandler[In, Out]
}

func newRemote[In, Out any](service, handler string, opts []CodecOption) RemoteHandler[In, Out] {
	cfg := handlerConfig{inCodec: JSON, outCodec: JSON}
	for _, o := range opts {
		if o != nil {
			o.applyHandler(&cfg)
		}
	}
	checkCodec[In](cfg.inCodec, service+"/"+handler+" input")
	checkCodec[Out](cfg.outCodec, service+"/"+handler+" output")
	return RemoteHandler[In, Out]{service: service, handler: handler, in: cfg.inCodec, out: cfg.outCodec}
}

// Remote returns a by-name handle to the handler of a stateless service.
// It takes only codec options ([WithCodec], [WithInputCodec],
// [WithOutputCodec]): the other handler options describe a handler this
// endpoint serves. It panics on a codec that cannot handle In or Out.
func Remote[In, Out any](service, handler string, opts ...CodecOption) RemoteHandler[In, Out] {
	return newRemote[In, Out](service, handler, opts)
}

// RemoteObject returns a by-name handle to a handler of a virtual object or
// workflow. It takes codec options and panics like [Remote].
func RemoteObject[In, Out any](service, handler string, opts ...CodecOption) RemoteObjectHandler[In, Out] {
	return RemoteObjectHandler[In, Out]{r: newRemote[In, Out](service, handler, opts)}
}

func (r RemoteHandler[In, Out]) spec(key string) callSpec {
	return callSpec{service: r.service, handler: r.handler, key: key, in: r.in, out: r.out}
}

// Call calls the handler and returns the future of its result.
func (r RemoteHandler[In, Out]) Call(ctx Context, in In, opts ...CallOption) CallFuture[Out] {
	return callTyped[In, Out](ctx, r.spec(""), nil, in, opts)
}

// Send starts an invocation of the handler without waiting for its result.
func (r RemoteHandler[In, Out]) Send(ctx Context, in In, opts ...SendOption) Invocation {
	return sendTyped(ctx, r.spec(""), nil, in, opts)
}

// Call calls the handler on key and returns the future of its result.
func (r RemoteObjectHandler[In, Out]) Call(ctx Context, key string, in In, opts ...CallOption) CallFuture[Out] {
	return callTyped[In, Out](ctx, r.r.spec(key), nil, in, opts)
}

// Send starts an invocation of the handler on key without waiting for its
// result.
func (r RemoteObjectHandler[In, Out]) Send(ctx Context, key string, in In, opts ...SendOption) Invocation {
	return sendTyped(ctx, r.r.spec(key), nil, in, opts)
}

// ---------------------------------------------------------------------------
// Other invocations

// CancelInvocation cancels another invocation by id: its awaits fail with
// code 409 and it cancels its own child calls.
func CancelInvocation(ctx Context, invocationID string) error {
	return ctx.base().inv.CancelInvocation(invocationID)
}

// AttachInvocation returns the future of another invocation's result, by
// invocation id, decoded with JSON.
func AttachInvocation[T any](ctx Context, invocationID string) Future[T] {
	return attach[T](ctx, wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: invocationID}, JSON)
}

// InvocationOutput returns the future of another invocation's result if it
// has completed (Maybe.Ok false otherwise), by invocation id, without
// waiting for it.
func InvocationOutput[T any](ctx Context, invocationID string) Future[Maybe[T]] {
	return output[T](ctx, wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: invocationID}, JSON)
}

// AttachIdempotent returns the future of the result of the invocation of
// target made with idempotency key idempotencyKey, decoded with the
// target's output codec. Take target from a handler value
// (h.Target(), h.Target(key)) or a [Remote] handle. A target that cannot be
// invoked (see [Target.Err]) gives a failed future.
func AttachIdempotent[In, Out any](ctx Context, target Target[In, Out], idempotencyKey string) Future[Out] {
	if target.err != nil {
		return failedFuture[Out](ctx.base().inv, target.err)
	}
	return attach[Out](ctx, idempotentTarget(target.Service, target.Key, target.Handler, idempotencyKey), target.codecOut())
}

func idempotentTarget(service, key, handler, idempotencyKey string) wire.InvocationTarget {
	t := wire.InvocationTarget{Kind: wire.TargetIdempotentRequest, IdempotentRequest: wire.IdempotentRequestTarget{
		ServiceName: service, HandlerName: handler, IdempotencyKey: idempotencyKey,
	}}
	if key != "" {
		t.IdempotentRequest.ServiceKey = &key
	}
	return t
}

func attach[T any](ctx Context, t wire.InvocationTarget, c Codec) Future[T] {
	hc := ctx.base()
	h, err := hc.inv.Attach(t)
	return issued(hc.inv, h, err, asValue[T](c, "attach"))
}

func output[T any](ctx Context, t wire.InvocationTarget, c Codec) Future[Maybe[T]] {
	hc := ctx.base()
	h, err := hc.inv.InvocationOutput(t)
	return issued(hc.inv, h, err, byConv(maybeConv[T](c, "get invocation output")))
}
