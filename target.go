package restate

import "fmt"

// Target is a typed invocation target: a service handler (with the object or
// workflow key, if any) and the codecs of its input and output. Handler
// values return one from their Target method, so that code outside Restate
// (the ingress client, tests) gets the same compile-time checks as calls
// between handlers.
//
// The target of a handler that is not part of a service yet carries an
// error (see [Target.Err]) instead of panicking: clients that invoke it
// fail with that error, the same one a call to the handler fails with.
type Target[In, Out any] struct {
	Service string
	Handler string
	Key     string // empty for plain services
	in, out Codec
	err     error
}

// Err returns why the target cannot be invoked (its handler is not part of
// a service yet), or nil.
func (t Target[In, Out]) Err() error { return t.err }

// Encode encodes an input for the target. It fails with [Target.Err] when
// that is not nil.
func (t Target[In, Out]) Encode(in In) ([]byte, error) {
	if t.err != nil {
		return nil, t.err
	}
	return encode(t.codecIn(), in)
}

// Decode decodes an output of the target. It fails with [Target.Err] when
// that is not nil.
func (t Target[In, Out]) Decode(b []byte) (Out, error) {
	if t.err != nil {
		var zero Out
		return zero, t.err
	}
	return decode[Out](t.codecOut(), b)
}

// ContentType is the content type of the target's input.
func (t Target[In, Out]) ContentType() string { return t.codecIn().ContentType() }

// HasInput reports whether the target takes an input (In is not Void).
func (t Target[In, Out]) HasInput() bool { return !isVoid[In]() }

func (t Target[In, Out]) codecIn() Codec {
	if t.in == nil {
		return JSON
	}
	return t.in
}

func (t Target[In, Out]) codecOut() Codec {
	if t.out == nil {
		return JSON
	}
	return t.out
}

func (t Target[In, Out]) String() string { return target(t.Service, t.Key, t.Handler) }

func target(service, key, handler string) string {
	if key == "" {
		return service + "/" + handler
	}
	return fmt.Sprintf("%s/%s/%s", service, key, handler)
}

func (c *handlerCore[In, Out]) typedTarget(key string) Target[In, Out] {
	if c.service == "" {
		return Target[In, Out]{Handler: c.name, Key: key, in: c.cfg.inCodec, out: c.cfg.outCodec, err: c.errUnassembled()}
	}
	return Target[In, Out]{Service: c.service, Handler: c.name, Key: key, in: c.cfg.inCodec, out: c.cfg.outCodec}
}

// Target returns the handler's typed target. Before the handler is
// assembled into a service, the target carries the error a call to it
// fails with (see [Target.Err]).
func (h *Handler[In, Out]) Target() Target[In, Out] { return h.typedTarget("") }

// Target returns the handler's typed target on the object key.
func (h *ObjectHandler[In, Out]) Target(key string) Target[In, Out] { return h.typedTarget(key) }

// Target returns the handler's typed target on the object key.
func (h *SharedHandler[In, Out]) Target(key string) Target[In, Out] { return h.typedTarget(key) }

// Target returns the run handler's typed target on the workflow key.
func (h *WorkflowHandler[In, Out]) Target(key string) Target[In, Out] { return h.typedTarget(key) }

// Target returns the handler's typed target on the workflow key.
func (h *WorkflowSharedHandler[In, Out]) Target(key string) Target[In, Out] {
	return h.typedTarget(key)
}

// Target returns the remote handler's typed target.
func (r RemoteHandler[In, Out]) Target() Target[In, Out] {
	return Target[In, Out]{Service: r.service, Handler: r.handler, in: r.in, out: r.out}
}

// Target returns the remote handler's typed target on key.
func (r RemoteObjectHandler[In, Out]) Target(key string) Target[In, Out] {
	return Target[In, Out]{Service: r.r.service, Handler: r.r.handler, Key: key, in: r.r.in, out: r.r.out}
}
