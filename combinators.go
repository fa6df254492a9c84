package restate

import (
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Every combinator resolves deterministically: the engine applies the
// runtime's notifications one at a time in journal order, so on replay the
// same future wins a race as in the original execution. When several
// futures are already complete, the one listed first wins.

// noFutures is the error of Any, Race and Select over no futures: none of
// them can ever complete. It is terminal, so that the programming error
// fails the invocation once instead of being retried forever.
func noFutures(name string) error {
	return &TerminalError{Code: 500, Message: fmt.Sprintf("restate: %s over no futures: none can complete", name)}
}

type resolverFunc func(m *replay.Machine) bool

func (f resolverFunc) Resolved(m *replay.Machine) bool { return f(m) }

func commonOwner(futs []node) (*invocation.Invocation, error) {
	var inv *invocation.Invocation
	for i, f := range futs {
		if f == nil {
			return nil, fmt.Errorf("restate: future %d is the zero Future", i)
		}
		switch o := f.owner(); {
		case inv == nil:
			inv = o
		case o != inv:
			return nil, fmt.Errorf("restate: future %d belongs to another invocation", i)
		}
	}
	return inv, nil
}

func nodes[F Selectable](futs []F) []node {
	out := make([]node, len(futs))
	for i, f := range futs {
		out[i] = f.node()
	}
	return out
}

// typedNode is implemented by every *future[T].
func children[T any](futs []Future[T]) ([]*future[T], []node) {
	ps := make([]*future[T], len(futs))
	ns := make([]node, len(futs))
	for i, f := range futs {
		ps[i] = f.f
		if f.f != nil {
			ns[i] = f.f
		}
	}
	return ps, ns
}

// derive builds a future that combines children.
func derive[T any](comb wire.CombinatorType, ns []node, combine func(m *replay.Machine) (T, error)) Future[T] {
	inv, err := commonOwner(ns)
	if err != nil {
		return Future[T]{&future[T]{done: true, err: err, inv: inv}}
	}
	return Future[T]{&future[T]{inv: inv, comb: comb, children: ns, combine: combine}}
}

// Select waits until at least one of futs completes (successfully or not)
// and returns the index of the first completed one in argument order. Await
// that future to get its result with its own type:
//
//	i, err := restate.Select(timer, call)
//	if i == 1 { out, err := call.Await() ... }
//
// The error is non-nil only when the wait itself failed (cancellation,
// misuse). Select of no futures returns -1 and a terminal error (code 500)
// at once: no future can complete first.
func Select(futs ...Selectable) (int, error) {
	ns := nodes(futs)
	if len(ns) == 0 {
		return -1, noFutures("Select")
	}
	inv, err := commonOwner(ns)
	if err != nil {
		return -1, err
	}
	winner := -1
	tree := replay.Future{Combinator: wire.CombinatorFirstCompleted}
	for _, n := range ns {
		n.appendTo(&tree)
	}
	status, err := inv.Await(tree, resolverFunc(func(m *replay.Machine) bool {
		if m.State(&tree) == replay.Pending {
			return false
		}
		// The engine evaluates a race in argument order: the winner is
		// the first future that is complete.
		for i, n := range ns {
			if n.state(m) != replay.Pending {
				winner = i
				return true
			}
		}
		return false
	}))
	if err != nil {
		return -1, err
	}
	if status == replay.StatusCancelled {
		return -1, cancelledError()
	}
	return winner, nil
}

// All returns a future of every result, in argument order. It fails as soon
// as one of futs fails, with that failure (the first in argument order when
// several failed already). All of no futures succeeds at once with an
// empty slice.
func All[T any](futs ...Future[T]) Future[[]T] {
	ps, ns := children(futs)
	if len(ns) == 0 {
		return Future[[]T]{&future[[]T]{done: true, val: []T{}}}
	}
	return derive(wire.CombinatorAllSucceededOrFirstFailed, ns, func(m *replay.Machine) ([]T, error) {
		for _, p := range ps {
			if p.state(m) == replay.Failed {
				p.finish(m)
				return nil, p.err
			}
		}
		out := make([]T, len(ps))
		for i, p := range ps {
			p.finish(m)
			out[i] = p.val
		}
		return out, nil
	})
}

// Any returns a future of the first successful result (in argument order
// among those already complete). It fails only when all of futs failed,
// with the failure of the first one. Any of no futures fails at once with a
// terminal error (code 500): no future can succeed.
func Any[T any](futs ...Future[T]) Future[T] {
	ps, ns := children(futs)
	if len(ns) == 0 {
		return Future[T]{&future[T]{done: true, err: noFutures("Any")}}
	}
	return derive(wire.CombinatorFirstSucceededOrAllFailed, ns, func(m *replay.Machine) (T, error) {
		for _, p := range ps {
			if p.state(m) == replay.Succeeded {
				p.finish(m)
				return p.val, nil
			}
		}
		for _, p := range ps {
			p.finish(m)
		}
		var zero T
		return zero, ps[0].err
	})
}

// Race returns a future of the first of futs to complete, successfully or
// not. Race of no futures fails at once with a terminal error (code 500): no
// future can complete first.
func Race[T any](futs ...Future[T]) Future[T] {
	ps, ns := children(futs)
	if len(ns) == 0 {
		return Future[T]{&future[T]{done: true, err: noFutures("Race")}}
	}
	return derive(wire.CombinatorFirstCompleted, ns, func(m *replay.Machine) (T, error) {
		for _, p := range ps {
			if p.state(m) != replay.Pending {
				p.finish(m)
				return p.val, p.err
			}
		}
		var zero T
		return zero, errors.New("restate: race resolved without a completed future")
	})
}

// Selectables converts futures of one type for [Select], [AllSettled] and
// [AsCompleted].
func Selectables[T any](futs []Future[T]) []Selectable {
	out := make([]Selectable, len(futs))
	for i, f := range futs {
		out[i] = f
	}
	return out
}

// AllSettled returns a future that completes when every one of futs has
// completed, successfully or not. Await each future afterwards to read its
// result; none of them waits again. AllSettled of no futures completes at
// once.
func AllSettled(futs ...Selectable) Future[Void] {
	ns := nodes(futs)
	if len(ns) == 0 {
		return Future[Void]{&future[Void]{done: true}}
	}
	return derive(wire.CombinatorAllCompleted, ns, func(m *replay.Machine) (Void, error) {
		for _, n := range ns {
			n.finish(m)
		}
		return Void{}, nil
	})
}

// AsCompleted yields the indexes of futs in the order they complete. Each
// index is yielded once; await that future to read its result. When waiting
// fails (cancellation, misuse), it yields -1 and the error, then stops.
// AsCompleted of no futures yields nothing, as every one of them completed.
//
//	for i, err := range restate.AsCompleted(a, b, c) { ... }
func AsCompleted(futs ...Selectable) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		remaining := make([]int, len(futs))
		for i := range futs {
			remaining[i] = i
		}
		for len(remaining) > 0 {
			sub := make([]Selectable, len(remaining))
			for i, idx := range remaining {
				sub[i] = futs[idx]
			}
			j, err := Select(sub...)
			if err != nil {
				yield(-1, err)
				return
			}
			idx := remaining[j]
			remaining = append(remaining[:j], remaining[j+1:]...)
			if !yield(idx, nil) {
				return
			}
		}
	}
}

// WithTimeout returns a future of f's result that fails with a terminal
// error matching [ErrTimeout] (code 408) if a durable timer of d fires
// first. The timer is journaled like [After].
func WithTimeout[T any](ctx Context, f Future[T], d time.Duration) Future[T] {
	timer := After(ctx, d)
	if f.f == nil {
		return failedFuture[T](ctx.base().inv, errors.New("restate: WithTimeout of a zero Future"))
	}
	inner := f.f
	return derive(wire.CombinatorFirstCompleted, []node{inner, timer.f}, func(m *replay.Machine) (T, error) {
		if inner.state(m) != replay.Pending {
			inner.finish(m)
			return inner.val, inner.err
		}
		var zero T
		return zero, &TerminalError{Code: 408, Message: fmt.Sprintf("await-timeout: no result after %s", d), Err: errTimerFired}
	})
}

// Map returns a future of fn applied to f's result. fn runs once, when the
// result is first awaited, and must be deterministic. An error from f is
// passed through without calling fn.
func Map[T, U any](f Future[T], fn func(T) (U, error)) Future[U] {
	if f.f == nil {
		return Future[U]{&future[U]{done: true, err: errors.New("restate: Map of a zero Future")}}
	}
	inner := f.f
	return derive(wire.CombinatorUnknown, []node{inner}, func(m *replay.Machine) (U, error) {
		inner.finish(m)
		if inner.err != nil {
			var zero U
			return zero, inner.err
		}
		return fn(inner.val)
	})
}
