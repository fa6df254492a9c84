package restate

import (
	"fmt"
	"reflect"

	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// handlerCore is what every handler type shares: its name, options, codecs,
// and the service it was assembled into. The handler types differ only in
// the context they give the function, which is what lets the compiler check
// that a handler goes into the right kind of service.
type handlerCore[In, Out any] struct {
	name    string
	service string
	cfg     handlerConfig
}

func newCore[In, Out any](name string, fnIsNil bool, opts []HandlerOption) handlerCore[In, Out] {
	if !handlerNameRe.MatchString(name) {
		panic(fmt.Sprintf("restate: handler name %q is not valid: it must match %s", name, handlerNameRe))
	}
	if fnIsNil {
		panic(fmt.Sprintf("restate: handler %q: nil function", name))
	}
	c := handlerCore[In, Out]{name: name, cfg: handlerConfig{inCodec: JSON, outCodec: JSON}}
	for _, o := range opts {
		if o != nil { // a nil option is ignored, see the package doc
			o.applyHandler(&c.cfg)
		}
	}
	checkCodec[In](c.cfg.inCodec, "handler "+name+" input")
	checkCodec[Out](c.cfg.outCodec, "handler "+name+" output")
	return c
}

func (c *handlerCore[In, Out]) bindCore(service string, kind endpoint.HandlerKind, invoke invocation.HandlerFunc) *endpoint.Handler {
	if c.service != "" && c.service != service {
		panic(fmt.Sprintf("restate: handler %q already belongs to service %q; create a new handler value for %q", c.name, c.service, service))
	}
	if c.cfg.opts.WorkflowCompletionRetention != nil && kind != endpoint.HandlerWorkflow {
		panic(fmt.Sprintf("restate: handler %q of %q: WithWorkflowRetention applies to a workflow's run handler only", c.name, service))
	}
	c.service = service
	h := &endpoint.Handler{Name: c.name, Kind: kind, Options: c.cfg.opts, Invoke: invoke}
	if isVoid[In]() {
		h.Input = endpoint.Payload{None: true}
	} else {
		h.Input = endpoint.Payload{ContentType: c.cfg.inCodec.ContentType(), Required: !c.cfg.inOptional}
		if c.cfg.inCT != "" {
			h.Input.ContentType = c.cfg.inCT
		}
		if c.cfg.inCodec == JSON {
			h.Input.Schema = jsonSchema(reflect.TypeFor[In]())
		}
	}
	if isVoid[Out]() {
		h.Output = endpoint.Payload{None: true}
	} else {
		h.Output = endpoint.Payload{ContentType: c.cfg.outCodec.ContentType(), SetContentTypeIfEmpty: c.cfg.outCTIfEmpty}
		if c.cfg.outCT != "" {
			h.Output.ContentType = c.cfg.outCT
		}
		if c.cfg.outCodec == JSON {
			h.Output.Schema = jsonSchema(reflect.TypeFor[Out]())
		}
	}
	return h
}

// erase turns a typed handler function into bytes in, bytes out: the one
// place where typed handlers meet the engine. Its frame stays below the
// handler for as long as the handler runs, so the work before and after
// the call is in functions of their own (see invocation.HandlerFunc).
func erase[C any, In, Out any](c *handlerCore[In, Out], wrap func(*handlerContext) C, fn func(C, In) (Out, error)) invocation.HandlerFunc {
	return func(inv *invocation.Invocation) error {
		hc, input, err := begin[In](inv, c.cfg.inCodec, c.service, c.name)
		if err != nil {
			return badInput[In](inv, c.service, c.name, err)
		}
		out, err := fn(wrap(hc), input)
		return finish(c, inv, out, err)
	}
}

// begin takes the invocation's input and decodes it.
func begin[In any](inv *invocation.Invocation, codec Codec, service, handler string) (*handlerContext, In, error) {
	in := inv.Input()
	hc := newHandlerContext(inv, &in, service, handler)
	v, err := decode[In](codec, in.Value)
	return hc, v, err
}

// badInput ends the attempt with the terminal failure of an input that
// does not decode.
func badInput[In any](inv *invocation.Invocation, service, handler string, err error) error {
	var zero In
	return inv.Return(failureResult(&TerminalError{
		Code:    400,
		Message: fmt.Sprintf("%s/%s: cannot decode the input into %T: %v", service, handler, zero, err),
	}))
}

// finish ends the attempt with what the handler returned: its output, a
// terminal failure, or a retryable error.
func finish[In, Out any](c *handlerCore[In, Out], inv *invocation.Invocation, out Out, err error) error {
	if err != nil {
		res, re := classify(err)
		if re != nil {
			return re
		}
		return inv.Return(res)
	}
	b, err := encode(c.cfg.outCodec, out)
	if err != nil {
		return &replay.Error{
			Code:    replay.CodeInternal,
			Message: fmt.Sprintf("%s/%s: cannot encode the output %T: %v", c.service, c.name, out, err),
		}
	}
	return inv.Return(wire.ValueResult(nonNil(b)))
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Name returns the handler's name.
func (c *handlerCore[In, Out]) Name() string { return c.name }

// ServiceName returns the name of the service the handler was assembled
// into, or "" before that.
func (c *handlerCore[In, Out]) ServiceName() string { return c.service }

// EncodeInput encodes in with the handler's input codec, as a caller sends
// it. Package props uses it to build the inputs it draws.
func (c *handlerCore[In, Out]) EncodeInput(in In) ([]byte, error) { return encode(c.cfg.inCodec, in) }

// errUnassembled is the error of a call to, or the target of, a handler
// that is not part of a service yet.
func (c *handlerCore[In, Out]) errUnassembled() error {
	return fmt.Errorf("restate: handler %q is not part of a service yet; assemble it with NewService, NewObject or NewWorkflow before calling it", c.name)
}

func (c *handlerCore[In, Out]) target(key string) (callSpec, error) {
	if c.service == "" {
		return callSpec{}, c.errUnassembled()
	}
	return callSpec{service: c.service, handler: c.name, key: key, in: c.cfg.inCodec, out: c.cfg.outCodec}, nil
}

// ---------------------------------------------------------------------------
// Service handlers

// Handler is a handler of a stateless service, made with [NewHandler] and
// assembled with [NewService]. Its value also makes typed calls to it.
type Handler[In, Out any] struct {
	handlerCore[In, Out]
	fn func(Context, In) (Out, error)
}

// NewHandler makes a service handler from fn. It panics on an invalid name,
// a nil fn or a codec that cannot handle In or Out.
func NewHandler[In, Out any](name string, fn func(Context, In) (Out, error), opts ...HandlerOption) *Handler[In, Out] {
	return &Handler[In, Out]{handlerCore: newCore[In, Out](name, fn == nil, opts), fn: fn}
}

func (h *Handler[In, Out]) serviceItem() {}

func (h *Handler[In, Out]) isNil() bool { return h == nil }

func (h *Handler[In, Out]) bind(service string, kind endpoint.ServiceKind) *endpoint.Handler {
	checkKind(h.name, kind, endpoint.KindService)
	return h.bindCore(service, endpoint.HandlerDefault, erase(&h.handlerCore,
		func(c *handlerContext) Context { return serviceContext{c} }, h.fn))
}

// Call calls the handler and returns the future of its result.
func (h *Handler[In, Out]) Call(ctx Context, in In, opts ...CallOption) CallFuture[Out] {
	spec, err := h.target("")
	return callTyped[In, Out](ctx, spec, err, in, opts)
}

// Send starts an invocation of the handler without waiting for its result;
// WithDelay delays it.
func (h *Handler[In, Out]) Send(ctx Context, in In, opts ...SendOption) Invocation {
	spec, err := h.target("")
	return sendTyped(ctx, spec, err, in, opts)
}

func checkKind(handler string, got, want endpoint.ServiceKind) {
	if got != want {
		panic(fmt.Sprintf("restate: handler %q belongs in a %s, not in a %s", handler, want, got))
	}
}

// ---------------------------------------------------------------------------
// Virtual object handlers

// ObjectHandler is an exclusive handler of a virtual object, made with
// [NewObjectHandler]: one invocation per key at a time, with read and write
// access to the object's state.
type ObjectHandler[In, Out any] struct {
	handlerCore[In, Out]
	fn func(ObjectContext, In) (Out, error)
}

// NewObjectHandler makes an exclusive virtual object handler from fn. It
// panics like [NewHandler].
func NewObjectHandler[In, Out any](name string, fn func(ObjectContext, In) (Out, error), opts ...HandlerOption) *ObjectHandler[In, Out] {
	return &ObjectHandler[In, Out]{handlerCore: newCore[In, Out](name, fn == nil, opts), fn: fn}
}

func (h *ObjectHandler[In, Out]) objectItem() {}

func (h *ObjectHandler[In, Out]) isNil() bool { return h == nil }

func (h *ObjectHandler[In, Out]) bind(service string, kind endpoint.ServiceKind) *endpoint.Handler {
	checkKind(h.name, kind, endpoint.KindVirtualObject)
	return h.bindCore(service, endpoint.HandlerExclusive, erase(&h.handlerCore,
		func(c *handlerContext) ObjectContext { return objectContext{c} }, h.fn))
}

// Call calls the handler on the object key and returns the future of its
// result.
func (h *ObjectHandler[In, Out]) Call(ctx Context, key string, in In, opts ...CallOption) CallFuture[Out] {
	spec, err := h.target(key)
	return callTyped[In, Out](ctx, spec, err, in, opts)
}

// Send starts an invocation of the handler on the object key without waiting
// for its result.
func (h *ObjectHandler[In, Out]) Send(ctx Context, key string, in In, opts ...SendOption) Invocation {
	spec, err := h.target(key)
	return sendTyped(ctx, spec, err, in, opts)
}

// SharedHandler is a shared handler of a virtual object, made with
// [NewSharedHandler]: it runs concurrently with other invocations of the
// same key and can only read the state.
type SharedHandler[In, Out any] struct {
	handlerCore[In, Out]
	fn func(ObjectSharedContext, In) (Out, error)
}

// NewSharedHandler makes a shared virtual object handler from fn. It panics
// like [NewHandler].
func NewSharedHandler[In, Out any](name string, fn func(ObjectSharedContext, In) (Out, error), opts ...HandlerOption) *SharedHandler[In, Out] {
	return &SharedHandler[In, Out]{handlerCore: newCore[In, Out](name, fn == nil, opts), fn: fn}
}

func (h *SharedHandler[In, Out]) objectItem() {}

func (h *SharedHandler[In, Out]) isNil() bool { return h == nil }

func (h *SharedHandler[In, Out]) bind(service string, kind endpoint.ServiceKind) *endpoint.Handler {
	checkKind(h.name, kind, endpoint.KindVirtualObject)
	return h.bindCore(service, endpoint.HandlerShared, erase(&h.handlerCore,
		func(c *handlerContext) ObjectSharedContext { return objectSharedContext{c} }, h.fn))
}

// Call calls the handler on the object key and returns the future of its
// result.
func (h *SharedHandler[In, Out]) Call(ctx Context, key string, in In, opts ...CallOption) CallFuture[Out] {
	spec, err := h.target(key)
	return callTyped[In, Out](ctx, spec, err, in, opts)
}

// Send starts an invocation of the handler on the object key without waiting
// for its result.
func (h *SharedHandler[In, Out]) Send(ctx Context, key string, in In, opts ...SendOption) Invocation {
	spec, err := h.target(key)
	return sendTyped(ctx, spec, err, in, opts)
}

// ---------------------------------------------------------------------------
// Workflow handlers

// WorkflowHandler is the run handler of a workflow, made with
// [NewWorkflowHandler]: it runs once per workflow key.
type WorkflowHandler[In, Out any] struct {
	handlerCore[In, Out]
	fn func(WorkflowContext, In) (Out, error)
}

// NewWorkflowHandler makes a workflow's run handler from fn. It panics like
// [NewHandler].
func NewWorkflowHandler[In, Out any](name string, fn func(WorkflowContext, In) (Out, error), opts ...HandlerOption) *WorkflowHandler[In, Out] {
	return &WorkflowHandler[In, Out]{handlerCore: newCore[In, Out](name, fn == nil, opts), fn: fn}
}

func (h *WorkflowHandler[In, Out]) workflowRun() {}

func (h *WorkflowHandler[In, Out]) isNil() bool { return h == nil }

func (h *WorkflowHandler[In, Out]) bind(service string, kind endpoint.ServiceKind) *endpoint.Handler {
	checkKind(h.name, kind, endpoint.KindWorkflow)
	return h.bindCore(service, endpoint.HandlerWorkflow, erase(&h.handlerCore,
		func(c *handlerContext) WorkflowContext { return workflowContext{c} }, h.fn))
}

// Call runs the workflow key (or attaches to its run if it already started)
// and returns the future of its result.
func (h *WorkflowHandler[In, Out]) Call(ctx Context, key string, in In, opts ...CallOption) CallFuture[Out] {
	spec, err := h.target(key)
	return callTyped[In, Out](ctx, spec, err, in, opts)
}

// Send submits the workflow key without waiting for its result.
func (h *WorkflowHandler[In, Out]) Send(ctx Context, key string, in In, opts ...SendOption) Invocation {
	spec, err := h.target(key)
	return sendTyped(ctx, spec, err, in, opts)
}

// Attach returns the future of the result of the workflow key's run.
func (h *WorkflowHandler[In, Out]) Attach(ctx Context, key string) Future[Out] {
	spec, err := h.target(key)
	if err != nil {
		return failedFuture[Out](ctx.base().inv, err)
	}
	return attach[Out](ctx, wire.InvocationTarget{Kind: wire.TargetWorkflow,
		Workflow: wire.WorkflowTarget{WorkflowName: spec.service, WorkflowKey: key}}, spec.out)
}

// Output returns the future of the result of the workflow key's run if it
// has completed (Maybe.Ok false otherwise), without waiting for it.
func (h *WorkflowHandler[In, Out]) Output(ctx Context, key string) Future[Maybe[Out]] {
	spec, err := h.target(key)
	if err != nil {
		return failedFuture[Maybe[Out]](ctx.base().inv, err)
	}
	return output[Out](ctx, wire.InvocationTarget{Kind: wire.TargetWorkflow,
		Workflow: wire.WorkflowTarget{WorkflowName: spec.service, WorkflowKey: key}}, spec.out)
}

// WorkflowSharedHandler is a shared handler of a workflow, made with
// [NewWorkflowSharedHandler]: it can read state and resolve promises while
// the run handler executes.
type WorkflowSharedHandler[In, Out any] struct {
	handlerCore[In, Out]
	fn func(WorkflowSharedContext, In) (Out, error)
}

// NewWorkflowSharedHandler makes a shared workflow handler from fn. It
// panics like [NewHandler].
func NewWorkflowSharedHandler[In, Out any](name string, fn func(WorkflowSharedContext, In) (Out, error), opts ...HandlerOption) *WorkflowSharedHandler[In, Out] {
	return &WorkflowSharedHandler[In, Out]{handlerCore: newCore[In, Out](name, fn == nil, opts), fn: fn}
}

func (h *WorkflowSharedHandler[In, Out]) workflowItem() {}

func (h *WorkflowSharedHandler[In, Out]) isNil() bool { return h == nil }

func (h *WorkflowSharedHandler[In, Out]) bind(service string, kind endpoint.ServiceKind) *endpoint.Handler {
	checkKind(h.name, kind, endpoint.KindWorkflow)
	return h.bindCore(service, endpoint.HandlerShared, erase(&h.handlerCore,
		func(c *handlerContext) WorkflowSharedContext { return workflowSharedContext{c} }, h.fn))
}

// Call calls the handler on the workflow key and returns the future of its
// result.
func (h *WorkflowSharedHandler[In, Out]) Call(ctx Context, key string, in In, opts ...CallOption) CallFuture[Out] {
	spec, err := h.target(key)
	return callTyped[In, Out](ctx, spec, err, in, opts)
}

// Send starts an invocation of the handler on the workflow key without
// waiting for its result.
func (h *WorkflowSharedHandler[In, Out]) Send(ctx Context, key string, in In, opts ...SendOption) Invocation {
	spec, err := h.target(key)
	return sendTyped(ctx, spec, err, in, opts)
}

// ---------------------------------------------------------------------------
// Adapters for functions without input or output

// NoInput adapts a handler function without input: the handler takes no
// request body.
func NoInput[C, Out any](fn func(C) (Out, error)) func(C, Void) (Out, error) {
	if fn == nil {
		return nil
	}
	return func(ctx C, _ Void) (Out, error) { return fn(ctx) }
}

// NoOutput adapts a handler function without output: the handler returns an
// empty response.
func NoOutput[C, In any](fn func(C, In) error) func(C, In) (Void, error) {
	if fn == nil {
		return nil
	}
	return func(ctx C, in In) (Void, error) { return Void{}, fn(ctx, in) }
}

// NoInputOutput adapts a handler function without input and output.
func NoInputOutput[C any](fn func(C) error) func(C, Void) (Void, error) {
	if fn == nil {
		return nil
	}
	return func(ctx C, _ Void) (Void, error) { return Void{}, fn(ctx) }
}
