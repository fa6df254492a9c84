package restate

import "fmt"

// Patched marks a deliberate change to a handler's sequence of durable
// operations, so that invocations started by the old code keep replaying
// the old path while new ones take the new one. Write the change as
//
//	if restate.Patched(ctx, "fraud-check") {
//		// the new operations
//	}
//	// what the old code did from here on
//
// In a new execution Patched journals a marker (a run named
// "patch:fraud-check", visible in `restate invocations describe`) and
// returns true; it costs no round trip. On replay it returns true where the
// journal holds this patch's marker, and false where it holds the old
// code's next operation instead. An invocation resumed at a point its old
// code never reached takes the new path.
//
// Once no invocation in flight still needs the old path, replace the call
// by [Deprecated] and delete the old branch; once no invocation holds the
// marker any more, delete the call too.
//
// Each id marks one point: deciding the same id twice in one execution, or
// an empty id, fails the attempt with a clear error, and calling Patched
// from inside a run closure panics there (which fails the run).
func Patched(ctx Context, id string) bool {
	took, err := ctx.base().inv.Patch(id, true)
	if err != nil {
		panic(fmt.Errorf("restate: Patched(%q): %w", id, err))
	}
	return took
}

// Deprecated is the second phase of a patch made with [Patched]: the old
// path is gone, so the handler always takes the new one. It consumes the
// patch's marker where an invocation's journal holds it and never journals
// a new one; then, once no invocation in flight holds the marker, the call
// can be removed.
func Deprecated(ctx Context, id string) {
	if _, err := ctx.base().inv.Patch(id, false); err != nil {
		panic(fmt.Errorf("restate: Deprecated(%q): %w", id, err))
	}
}
