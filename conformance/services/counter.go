package services

import restate "github.com/qcodr/restate-sdk-go"

// CounterUpdate is the result of Counter.add.
type CounterUpdate struct {
	OldValue int64 `json:"oldValue"`
	NewValue int64 `json:"newValue"`
}

var counterState = restate.NewStateKey[int64]("counter")

// addToCounter adds delta to the counter and returns the old and new values.
func addToCounter(ctx restate.ObjectContext, delta int64) (CounterUpdate, error) {
	old, err := counterState.Get(ctx)
	if err != nil {
		return CounterUpdate{}, err
	}
	upd := CounterUpdate{OldValue: old, NewValue: old + delta}
	return upd, counterState.Set(ctx, upd.NewValue)
}

// Handlers of Counter, used by other services to call it.
var (
	counterAdd = restate.NewObjectHandler("add", addToCounter)

	counterAddThenFail = restate.NewObjectHandler("addThenFail", restate.NoOutput(
		func(ctx restate.ObjectContext, delta int64) error {
			if _, err := addToCounter(ctx, delta); err != nil {
				return err
			}
			return &restate.TerminalError{Message: ctx.Key()}
		}))

	counterGet = restate.NewSharedHandler("get", restate.NoInput(counterState.Get))

	counterReset = restate.NewObjectHandler("reset", restate.NoInputOutput(counterState.Clear))
)

// Counter is a virtual object holding a number under the state key
// "counter": add, addThenFail (the state update persists although the
// handler fails terminally with the object key), get (shared) and reset.
var Counter = restate.NewObject("Counter", counterAdd, counterAddThenFail, counterGet, counterReset)
