package services

import (
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// nonDeterministicAttempts counts the attempts of each NonDeterministic
// handler per object key, in this process: odd attempts take one branch,
// even attempts the other, so a replay diverges from its journal.
var nonDeterministicAttempts attemptCounters

// nonDeterministicHandler makes a NonDeterministic handler: it runs branchA
// on odd attempts and branchB on even ones, then sleeps 100 ms (a
// suspension point when the inactivity timeout is 0) and sends
// Counter/<key>/add(1), which a diverging replay must never reach.
func nonDeterministicHandler(name string, branchA, branchB func(restate.ObjectContext) error) *restate.ObjectHandler[restate.Void, restate.Void] {
	return restate.NewObjectHandler(name, restate.NoInputOutput(func(ctx restate.ObjectContext) error {
		branch := branchB
		if nonDeterministicAttempts.inc(name+"/"+ctx.Key())%2 == 1 {
			branch = branchA
		}
		if err := branch(ctx); err != nil {
			return err
		}
		if err := restate.Sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
		counterAdd.Send(ctx, ctx.Key(), 1)
		return nil
	}))
}

// ndCounterKey is the Counter key the branches call.
const ndCounterKey = "abc"

func ndCallCounterGet(ctx restate.ObjectContext) error {
	_, err := counterGet.Call(ctx, ndCounterKey, restate.Void{}).Await()
	return err
}

const ndMyState = "my-state"

// NonDeterministic is a virtual object whose handlers issue different
// operations on consecutive attempts; the SDK must detect the journal
// mismatch on replay.
var NonDeterministic = restate.NewObject("NonDeterministic",
	nonDeterministicHandler("eitherSleepOrCall",
		func(ctx restate.ObjectContext) error { return restate.Sleep(ctx, 100*time.Millisecond) },
		ndCallCounterGet),
	nonDeterministicHandler("callDifferentMethod",
		ndCallCounterGet,
		func(ctx restate.ObjectContext) error {
			_, err := counterReset.Call(ctx, ndCounterKey, restate.Void{}).Await()
			return err
		}),
	nonDeterministicHandler("backgroundInvokeWithDifferentTargets",
		func(ctx restate.ObjectContext) error {
			counterGet.Send(ctx, ndCounterKey, restate.Void{})
			return nil
		},
		func(ctx restate.ObjectContext) error {
			counterReset.Send(ctx, ndCounterKey, restate.Void{})
			return nil
		}),
	nonDeterministicHandler("setDifferentKey",
		func(ctx restate.ObjectContext) error { return restate.NewStateKey[string]("a").Set(ctx, ndMyState) },
		func(ctx restate.ObjectContext) error { return restate.NewStateKey[string]("b").Set(ctx, ndMyState) }),
)
