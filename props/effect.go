package props

import (
	"context"
	"errors"
	"sync"

	"pgregory.net/rapid"
)

// scenarioKey is the context key of the running scenario: run closures get
// a context derived from the attempt's, which carries it.
type scenarioKey struct{}

// scenario is the state of one check that run closures can reach.
type scenario struct {
	mu        sync.Mutex
	t         *rapid.T
	transient bool
	effects   int
	// panicked holds what a draw from a handler goroutine panicked with
	// (rapid ran out of recorded data while shrinking): the SDK would
	// recover it as a failed run, so it is re-raised on the test's
	// goroutine instead.
	panicked any
}

// draw calls fn, which draws from the scenario's rapid.T, on a handler
// goroutine.
func (sc *scenario) draw(fn func()) (ok bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.panicked != nil {
		return false
	}
	defer func() {
		if r := recover(); r != nil {
			sc.panicked = r
			ok = false
		}
	}()
	fn()
	return true
}

// check re-raises, on the test's goroutine, a panic of a draw made on a
// handler goroutine.
func (sc *scenario) check() {
	sc.mu.Lock()
	p := sc.panicked
	sc.mu.Unlock()
	if p != nil {
		panic(p)
	}
}

func (sc *scenario) executions() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.effects
}

func scenarioOf(ctx context.Context) *scenario {
	if ctx == nil {
		return nil
	}
	sc, _ := ctx.Value(scenarioKey{}).(*scenario)
	return sc
}

// ErrTransient is the retryable error [Effect] returns when the world makes
// a side effect fail this time (see [WithTransientFailures]).
var ErrTransient = errors.New("props: transient failure of a side effect")

// Effect records one execution of a side effect. Call it once from each run
// closure you want checked (pass the closure's restate.RunContext), or from
// the test fakes your run closures use: props then checks that no closure
// executes again once its run's result is journaled, even while the
// handler replays, where the engine writes nothing that would show it.
//
// With [WithTransientFailures] it sometimes returns [ErrTransient]; return
// it from the closure, so the run fails and retries. Outside [Check] and
// [Property] it does nothing and returns nil.
func Effect(ctx context.Context) error {
	sc := scenarioOf(ctx)
	if sc == nil {
		return nil
	}
	sc.mu.Lock()
	sc.effects++
	sc.mu.Unlock()
	if !sc.transient {
		return nil
	}
	fail := true // when the draw panicked, make the run fail: its attempt is void anyway
	sc.draw(func() { fail = rapid.IntRange(0, 3).Draw(sc.t, "transient failure") == 3 })
	if fail {
		return ErrTransient
	}
	return nil
}

// Draw returns a value drawn from gen for the side effect executing now:
// call it from a run closure (pass its restate.RunContext), or from the test
// fakes your run closures use, so that the world decides what the side
// effect returns. Each execution draws anew; the journal keeps the result
// of the execution that was stored. Outside [Check] and [Property] it
// returns an example value of gen.
func Draw[T any](ctx context.Context, gen *rapid.Generator[T]) T {
	sc := scenarioOf(ctx)
	if sc == nil {
		return gen.Example()
	}
	var v T
	sc.draw(func() { v = gen.Draw(sc.t, "run outcome") })
	return v
}
