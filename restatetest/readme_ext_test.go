package restatetest_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// This file is the example test of the README (section "restatetest");
// TestReadmeExamples, in the root package, checks that they are the same.

// The service under test: the same values the deployment serves with h2c.

var sent = restate.NewStateKey[int]("sent")

var emails atomic.Int64 // counts the side effects

// Remind waits, then sends one reminder per user through a side effect.
var Remind = restate.NewObjectHandler("remind", func(ctx restate.ObjectContext, after time.Duration) (int, error) {
	if err := restate.Sleep(ctx, after); err != nil {
		return 0, err
	}
	if err := restate.RunVoid(ctx, func(restate.RunContext) error {
		emails.Add(1) // e.g. send an email
		return nil
	}, restate.WithName("email")); err != nil {
		return 0, err
	}
	n, err := sent.Get(ctx)
	if err != nil {
		return 0, err
	}
	return n + 1, sent.Set(ctx, n+1)
})

var Reminders = restate.NewObject("Reminders", Remind)

func TestRemind(t *testing.T) {
	// Replay the whole journal after every entry: a handler that is not
	// deterministic fails the test with the engine's journal mismatch.
	env := restatetest.New(t, []restate.ServiceDefinition{Reminders}, restatetest.WithAlwaysReplay())
	ctx := context.Background()
	before := emails.Load()

	// Seed the state, then call through the real engine. The 30-day
	// sleep takes no time: the virtual clock jumps while the call waits.
	if err := restatetest.PutState(env, "Reminders", "ann", "sent", 2); err != nil {
		t.Fatal(err)
	}
	start := env.Now()
	n, err := restatetest.Call(ctx, env, Remind.Target("ann"), 30*24*time.Hour)
	if err != nil || n != 3 {
		t.Fatalf("remind = %d, %v; want 3", n, err)
	}
	if d := env.Now().Sub(start); d < 30*24*time.Hour {
		t.Errorf("the clock moved %s", d)
	}
	if got, _, _ := restatetest.LookupState[int](env, "Reminders", "ann", "sent"); got != 3 {
		t.Errorf("stored %d, want 3", got)
	}

	// Crash the first attempt before journal entry 5, the state read after
	// the email: the runtime retries, and the email is not sent again.
	inv, err := restatetest.Send(ctx, env, Remind.Target("bob"), time.Hour, restatetest.WithFailureAt(5))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := inv.Attach(ctx); err != nil || n != 1 {
		t.Fatalf("remind bob = %d, %v", n, err)
	}
	journal, _ := env.Journal(inv.ID())
	t.Logf("journal of %s:\n%s", inv.ID(), journal)

	// Killing a sleeping invocation fails it with 409, as restate-server does.
	inv, _ = restatetest.Send(ctx, env, Remind.Target("cy"), time.Hour)
	env.Settle()
	if err := env.KillInvocation(ctx, inv.ID()); err != nil {
		t.Fatal(err)
	}
	var te *restate.TerminalError
	if _, err := inv.Attach(ctx); !errors.As(err, &te) || te.Code != 409 {
		t.Fatalf("attach to a killed invocation = %v", err)
	}
	if n := emails.Load() - before; n != 2 {
		t.Errorf("%d emails sent, want 2", n)
	}
}
