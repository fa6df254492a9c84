package restate

import "fmt"

// Ref is a reference to a handler value H (such as *ObjectHandler[In,Out])
// that can be used before the handler exists: the way for a handler to
// call itself, or for handlers to call each other, with the compiler
// checking the types of the call.
//
// A package-level handler cannot refer to its own variable in its
// initializer; Go reports an initialization cycle. Declare a Ref without
// an initializer, use Get inside the handler function, and assign the
// handler through Set:
//
//	var countdownSelf restate.Ref[*restate.ObjectHandler[int, int]]
//	var countdown = countdownSelf.Set(restate.NewObjectHandler("countdown", fn))
//
// where fn calls countdownSelf.Get().Call(ctx, ctx.Key(), n-1). The call
// resolves the service when it is made, so the handler may be assembled
// into its service after Set.
type Ref[H interface {
	comparable
	binder
}] struct {
	h H
}

// Set makes the reference point at h and returns h. It panics when h is
// nil or the reference was already set to another handler.
func (r *Ref[H]) Set(h H) H {
	var zero H
	if h == zero || h.isNil() {
		panic(fmt.Sprintf("restate: Ref[%T].Set with a nil handler", zero))
	}
	if r.h != zero && r.h != h {
		panic(fmt.Sprintf("restate: Ref[%T] already refers to another handler", zero))
	}
	r.h = h
	return h
}

// Get returns the handler the reference points at. Before Set it panics;
// inside a handler, where Refs are meant to be used, Set has run during
// package initialization.
func (r *Ref[H]) Get() H {
	var zero H
	if r.h == zero {
		panic(fmt.Sprintf("restate: Ref[%T].Get before Set", zero))
	}
	return r.h
}
