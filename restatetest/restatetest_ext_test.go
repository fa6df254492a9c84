package restatetest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/restatetest"
	"github.com/qcodr/restate-sdk-go/wire"
)

// modes are the ways an environment can run attempts; the behaviour a
// client sees must not depend on them.
var modes = []struct {
	name string
	opts []restatetest.Option
}{
	{"request-response", nil},
	{"always-replay", []restatetest.Option{restatetest.WithAlwaysReplay()}},
	{"bidi", []restatetest.Option{restatetest.WithBidiStreams()}},
	{"lazy-state", []restatetest.Option{restatetest.WithLazyState()}},
	{"v5-bidi", []restatetest.Option{restatetest.WithProtocolVersion(wire.V5), restatetest.WithBidiStreams()}},
	{"v7", []restatetest.Option{restatetest.WithProtocolVersion(wire.V7)}},
	{"v7-bidi-always-replay", []restatetest.Option{restatetest.WithProtocolVersion(wire.V7), restatetest.WithBidiStreams(), restatetest.WithAlwaysReplay()}},
}

// inModes runs fn once per mode, each with a fresh environment.
func inModes(t *testing.T, fn func(t *testing.T, env *restatetest.Env), opts ...restatetest.Option) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			fn(t, restatetest.New(t, all, append(append([]restatetest.Option{}, m.opts...), opts...)...))
		})
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func call[In, Out any](t *testing.T, env *restatetest.Env, target restate.Target[In, Out], in In, opts ...restatetest.CallOption) Out {
	t.Helper()
	out, err := restatetest.Call(testContext(t), env, target, in, opts...)
	if err != nil {
		t.Fatalf("call %s: %v", target, err)
	}
	return out
}

func wantCode(t *testing.T, err error, code restate.Code, message string) {
	t.Helper()
	var te *restate.TerminalError
	if !errors.As(err, &te) || te.Code != code || (message != "" && te.Message != message) {
		t.Fatalf("error = %v, want a terminal error [%d] %q", err, code, message)
	}
}

func info(t *testing.T, env *restatetest.Env, id string) restatetest.InvocationInfo {
	t.Helper()
	in, ok := env.Invocation(id)
	if !ok {
		t.Fatalf("invocation %s not found", id)
	}
	return in
}

func TestCounter(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		for i, want := range []int{5, 12} {
			if got := call(t, env, counterAdd.Target("alice"), []int{5, 7}[i]); got != want {
				t.Fatalf("add #%d = %d, want %d", i, got, want)
			}
		}
		if got := call(t, env, counterGet.Target("alice"), restate.Void{}); got != 12 {
			t.Fatalf("get = %d, want 12", got)
		}
		if diff := cmp.Diff(map[string][]byte{"count": []byte("12")}, env.State("Counter", "alice")); diff != "" {
			t.Errorf("state (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"count"}, call(t, env, counterKeys.Target("alice"), restate.Void{})); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		if got := call(t, env, counterGet.Target("bob"), restate.Void{}); got != 0 {
			t.Fatalf("get(bob) = %d, want 0", got)
		}
		call(t, env, counterReset.Target("alice"), restate.Void{})
		if got := env.State("Counter", "alice"); len(got) != 0 {
			t.Errorf("state after reset = %q, want none", got)
		}
	})
}

func TestConcurrentAddsQueuePerKey(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		const n = 10
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := env.Now()
		for range n {
			wg.Go(func() {
				if _, err := restatetest.Call(testContext(t), env, counterSlowAdd.Target("k"), 1); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		// Each slowAdd holds the key's lock through its hour-long sleep.
		if got := call(t, env, counterGet.Target("k"), restate.Void{}); got != n {
			t.Fatalf("get = %d, want %d: an exclusive handler ran concurrently with another", got, n)
		}
		if d := env.Now().Sub(start); d < n*time.Hour-time.Second {
			t.Errorf("the clock advanced %s, want at least %dh", d, n)
		}
	})
}

func TestSharedHandlersRunWhileExclusiveSuspended(t *testing.T) {
	env := restatetest.New(t, all, restatetest.WithManualClock())
	ctx := testContext(t)
	must[ingress.SendStatus](t)(func() (ingress.SendStatus, error) {
		inv, err := restatetest.Send(ctx, env, counterAdd.Target("k"), 1)
		return inv.Status(), err
	}())
	slow := must[restatetest.Invocation[int]](t)(restatetest.Send(ctx, env, counterSlowAdd.Target("k"), 10))
	queued := must[restatetest.Invocation[int]](t)(restatetest.Send(ctx, env, counterAdd.Target("k"), 100))
	env.Settle()
	if s := info(t, env, slow.ID()).Status; s != "suspended" {
		t.Errorf("slowAdd is %s, want suspended", s)
	}
	if s := info(t, env, queued.ID()).Status; s != "pending" {
		t.Errorf("the add queued behind it is %s, want pending", s)
	}
	// A shared handler does not wait for the lock.
	if got := call(t, env, counterGet.Target("k"), restate.Void{}); got != 1 {
		t.Errorf("get = %d, want 1", got)
	}
	env.Advance(time.Hour)
	if got := must[int](t)(queued.Attach(ctx)); got != 111 {
		t.Errorf("queued add = %d, want 111", got)
	}
	if got := must[int](t)(slow.Attach(ctx)); got != 11 {
		t.Errorf("slowAdd = %d, want 11", got)
	}
}

func TestSeedAndInspectState(t *testing.T) {
	env := restatetest.New(t, all)
	if err := restatetest.PutState(env, "Counter", "seeded", "count", 41); err != nil {
		t.Fatal(err)
	}
	if got := call(t, env, counterAdd.Target("seeded"), 1); got != 42 {
		t.Fatalf("add = %d, want 42", got)
	}
	v, ok, err := restatetest.LookupState[int](env, "Counter", "seeded", "count")
	if err != nil || !ok || v != 42 {
		t.Fatalf("LookupState = %d, %v, %v; want 42", v, ok, err)
	}
	env.SetState("Counter", "seeded", "other", []byte(`"x"`))
	env.ClearState("Counter", "seeded", "count")
	if diff := cmp.Diff(map[string][]byte{"other": []byte(`"x"`)}, env.State("Counter", "seeded")); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if _, ok, _ := restatetest.LookupState[int](env, "Counter", "seeded", "count"); ok {
		t.Error("count still present after ClearState")
	}
	if _, _, err := restatetest.LookupState[int](env, "Counter", "seeded", "other"); err == nil {
		t.Error("LookupState decoded a string into an int")
	}
}

func TestWorkflowPromises(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		ctx := testContext(t)
		run := must[restatetest.Invocation[string]](t)(restatetest.Submit(ctx, env, signupRun.Target("ann"), "ann@example.com"))
		if run.Status() != ingress.SendStatusAccepted || run.ID() == "" {
			t.Fatalf("submit: status %q, id %q", run.Status(), run.ID())
		}
		env.Settle()
		if got := call(t, env, signupStatus.Target("ann"), restate.Void{}); got != "waiting" {
			t.Fatalf("status = %q, want waiting", got)
		}
		if m := must[restate.Maybe[string]](t)(run.Output(ctx)); m.Ok {
			t.Fatalf("output before the promise = %+v", m)
		}
		if got := call(t, env, signupPeek.Target("ann"), restate.Void{}); got != "" {
			t.Fatalf("peek = %q before the promise was completed", got)
		}
		call(t, env, signupVerify.Target("ann"), "1234")
		want := "verified ann@example.com with 1234"
		if got := must[string](t)(run.Attach(ctx)); got != want {
			t.Fatalf("attach = %q, want %q", got, want)
		}
		if got := must[string](t)(restatetest.ByWorkflow(env, signupRun.Target("ann")).Attach(ctx)); got != want {
			t.Fatalf("attach by workflow = %q", got)
		}
		// The promise is completed once.
		_, err := restatetest.Call(ctx, env, signupVerify.Target("ann"), "5678")
		wantCode(t, err, 409, "promise was already completed")
		if got := call(t, env, signupPeek.Target("ann"), restate.Void{}); got != "1234" {
			t.Fatalf("peek = %q, want 1234", got)
		}
		// The workflow runs once per key.
		again := must[restatetest.Invocation[string]](t)(restatetest.Submit(ctx, env, signupRun.Target("ann"), "other@example.com"))
		if again.Status() != ingress.SendStatusPreviouslyAccepted || again.ID() != run.ID() {
			t.Fatalf("second submit: status %q, id %q; want PreviouslyAccepted, %q", again.Status(), again.ID(), run.ID())
		}
		_, err = restatetest.Call(ctx, env, signupRun.Target("ann"), "other@example.com")
		wantCode(t, err, 409, "the workflow method was already invoked")
		st := env.State("Signup", "ann")
		if string(st["stage"]) != `"verified"` || string(st["email"]) != `"ann@example.com"` {
			t.Errorf("state = %q", st)
		}
	})
}

func TestWorkflowRetention(t *testing.T) {
	env := restatetest.New(t, all)
	ctx := testContext(t)
	run := must[restatetest.Invocation[string]](t)(restatetest.Submit(ctx, env, signupRun.Target("bo"), "bo@example.com"))
	call(t, env, signupVerify.Target("bo"), "1")
	must[string](t)(run.Attach(ctx))
	env.Advance(25 * time.Hour) // past the default workflow retention of one day
	if st := env.State("Signup", "bo"); len(st) != 0 {
		t.Errorf("state after the retention = %q, want none", st)
	}
	_, err := restatetest.ByWorkflow(env, signupRun.Target("bo")).Output(ctx)
	var ie *ingress.Error
	if !errors.As(err, &ie) || ie.StatusCode != 404 {
		t.Fatalf("output after the retention = %v, want a 404 error", err)
	}
	again := must[restatetest.Invocation[string]](t)(restatetest.Submit(ctx, env, signupRun.Target("bo"), "bo2@example.com"))
	if again.Status() != ingress.SendStatusAccepted || again.ID() == run.ID() {
		t.Fatalf("submit after the retention: %q %q", again.Status(), again.ID())
	}
}

func TestWorkflowPromiseRejected(t *testing.T) {
	env := restatetest.New(t, all)
	ctx := testContext(t)
	run := must[restatetest.Invocation[string]](t)(restatetest.Submit(ctx, env, signupRun.Target("cy"), "cy@example.com"))
	call(t, env, signupReject.Target("cy"), "spam")
	_, err := run.Attach(ctx)
	wantCode(t, err, 500, "spam")
}

func TestWorkflowCalledFromHandler(t *testing.T) {
	env := restatetest.New(t, all)
	ctx := testContext(t)
	first := must[restatetest.Invocation[string]](t)(restatetest.Send(ctx, env, callerWorkflow.Target(), "dee"))
	env.Settle()
	call(t, env, signupVerify.Target("dee"), "42")
	if got := must[string](t)(first.Attach(ctx)); got != "verified from-caller@example.com with 42" {
		t.Fatalf("first = %q", got)
	}
	_, err := restatetest.Call(ctx, env, callerWorkflow.Target(), "dee")
	wantCode(t, err, 409, "the workflow method was already invoked")
}

func TestSaga(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		ctx := testContext(t)
		if err := restatetest.PutState(env, "Inventory", "apple", "stock", 5); err != nil {
			t.Fatal(err)
		}
		stock := func() int {
			v, _, err := restatetest.LookupState[int](env, "Inventory", "apple", "stock")
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if got := call(t, env, shopBuy.Target(), order{Item: "apple", Qty: 2, Cents: 300}); got != "pay-300" {
			t.Fatalf("buy = %q", got)
		}
		if stock() != 3 {
			t.Fatalf("stock = %d, want 3", stock())
		}
		_, err := restatetest.Call(ctx, env, shopBuy.Target(), order{Item: "apple", Qty: 10, Cents: 300})
		wantCode(t, err, 409, "out of stock")
		// The payment fails: the reservation is compensated.
		_, err = restatetest.Call(ctx, env, shopBuy.Target(), order{Item: "apple", Qty: 1, Cents: 0})
		wantCode(t, err, 402, "card declined")
		if stock() != 3 {
			t.Fatalf("stock after the compensation = %d, want 3", stock())
		}
		// The journal of the failed purchase shows the calls in order.
		var buys []restatetest.InvocationInfo
		for _, in := range env.Invocations() {
			if in.Target == "Shop/buy" {
				buys = append(buys, in)
			}
		}
		j := must[restatetest.Journal](t)(env.Journal(buys[2].ID))
		var calls []string
		for _, e := range j {
			if e.Type == wire.TypeCallCommand.String() {
				calls = append(calls, strings.Fields(e.Text)[1])
			}
		}
		if diff := cmp.Diff([]string{"Inventory/apple/reserve", "Payment/charge", "Inventory/apple/release"}, calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s\njournal:\n%s", diff, j)
		}
		for _, in := range env.Invocations() {
			if in.Target == "Payment/charge" && in.CallerID == "" {
				t.Errorf("charge %s has no caller", in.ID)
			}
		}
	})
}

func TestAwakeables(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		ctx := testContext(t)
		inv := must[restatetest.Invocation[string]](t)(restatetest.Send(ctx, env, approvalsAwakeable.Target(), restate.Void{}))
		env.Settle()
		in := info(t, env, inv.ID())
		if in.Status != "suspended" && in.Status != "running" || len(in.Awakeables) != 1 && in.Status == "suspended" {
			t.Fatalf("invocation = %+v, want suspended on one awakeable", in)
		}
		id := awakeableOf(t, env, inv.ID())
		if err := restatetest.ResolveAwakeable(ctx, env, id, "bob"); err != nil {
			t.Fatal(err)
		}
		if got := must[string](t)(inv.Attach(ctx)); got != "approved by bob" {
			t.Fatalf("attach = %q", got)
		}

		inv = must[restatetest.Invocation[string]](t)(restatetest.Send(ctx, env, approvalsAwakeable.Target(), restate.Void{}))
		env.Settle()
		if err := restatetest.RejectAwakeable(ctx, env, awakeableOf(t, env, inv.ID()), "no way"); err != nil {
			t.Fatal(err)
		}
		_, err := inv.Attach(ctx)
		wantCode(t, err, 500, "no way")

		// Handlers resolve and reject awakeables of other invocations.
		if got := call(t, env, approvalsRelay.Target(), "carol"); got != "carol" {
			t.Fatalf("relay = %q", got)
		}
		_, err = restatetest.Call(ctx, env, approvalsRelay.Target(), "")
		wantCode(t, err, 500, "nobody")

		var ie *ingress.Error
		if err := restatetest.ResolveAwakeable(ctx, env, "prom_1nope", 1); !errors.As(err, &ie) || ie.StatusCode != 400 {
			t.Fatalf("resolving a malformed id = %v, want a 400 error", err)
		}
	})
}

// awakeableOf returns the id of the awakeable the invocation waits for.
// In bidi mode the stream stays open for its inactivity timeout, so the
// invocation has not suspended yet: the id is then found by awakeable
// signal number, which starts at 17.
func awakeableOf(t *testing.T, env *restatetest.Env, id string) string {
	t.Helper()
	in := info(t, env, id)
	if len(in.Awakeables) == 1 {
		return in.Awakeables[0]
	}
	env.Advance(time.Minute) // the inactivity timeout closes the stream
	in = info(t, env, id)
	if len(in.Awakeables) != 1 {
		t.Fatalf("invocation %+v does not wait for one awakeable", in)
	}
	return in.Awakeables[0]
}

func TestSignals(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		ctx := testContext(t)
		inv := must[restatetest.Invocation[string]](t)(restatetest.Send(ctx, env, approvalsSignal.Target(), restate.Void{}))
		env.Advance(time.Minute)
		if in := info(t, env, inv.ID()); len(in.Signals) != 1 || in.Signals[0] != "approve" {
			t.Fatalf("invocation = %+v, want it waiting for signal approve", in)
		}
		if err := restatetest.ResolveSignal(ctx, env, inv.ID(), "approve", "dan"); err != nil {
			t.Fatal(err)
		}
		if got := must[string](t)(inv.Attach(ctx)); got != "dan" {
			t.Fatalf("attach = %q", got)
		}
		// From another handler.
		inv = must[restatetest.Invocation[string]](t)(restatetest.Send(ctx, env, approvalsSignal.Target(), restate.Void{}))
		call(t, env, approvalsSignaller.Target(), resolveReq{ID: inv.ID(), Who: "eve"})
		if got := must[string](t)(inv.Attach(ctx)); got != "eve" {
			t.Fatalf("attach = %q", got)
		}
		inv = must[restatetest.Invocation[string]](t)(restatetest.Send(ctx, env, approvalsSignal.Target(), restate.Void{}))
		if err := restatetest.RejectSignal(ctx, env, inv.ID(), "approve", "denied"); err != nil {
			t.Fatal(err)
		}
		_, err := inv.Attach(ctx)
		wantCode(t, err, 500, "denied")
		var ie *ingress.Error
		if err := restatetest.ResolveSignal(ctx, env, unknownID(inv.ID()), "approve", 1); !errors.As(err, &ie) || ie.StatusCode != 404 {
			t.Fatalf("signal to an unknown invocation = %v, want a 404 error", err)
		}
		if err := restatetest.ResolveSignal(ctx, env, "inv_nope", "approve", 1); !errors.As(err, &ie) || ie.StatusCode != 400 {
			t.Fatalf("signal to a malformed id = %v, want a 400 error", err)
		}
	})
}

func TestCronDelayedSends(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		ctx := testContext(t)
		must[restatetest.Invocation[restate.Void]](t)(restatetest.Send(ctx, env, cronTick.Target("job"), time.Hour))
		env.Settle()
		ticks := func() int {
			v, _, err := restatetest.LookupState[int](env, "Cron", "job", "ticks")
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if ticks() != 1 {
			t.Fatalf("ticks = %d after the first run, want 1", ticks())
		}
		scheduled := 0
		for _, in := range env.Invocations() {
			if in.Status == "scheduled" {
				scheduled++
			}
		}
		if scheduled != 1 {
			t.Errorf("%d scheduled invocations, want 1", scheduled)
		}
		env.Advance(3*time.Hour + time.Minute)
		if ticks() != 4 {
			t.Fatalf("ticks = %d after 3 hours, want 4", ticks())
		}
	}, restatetest.WithManualClock())
}

func TestDelayedSendFromClient(t *testing.T) {
	env := restatetest.New(t, all, restatetest.WithManualClock())
	ctx := testContext(t)
	inv := must[restatetest.Invocation[int]](t)(restatetest.Send(ctx, env, counterAdd.Target("later"), 3, restatetest.WithDelay(time.Hour)))
	env.Advance(59 * time.Minute)
	if s := info(t, env, inv.ID()).Status; s != "scheduled" {
		t.Fatalf("status after 59m = %s, want scheduled", s)
	}
	if m := must[restate.Maybe[int]](t)(inv.Output(ctx)); m.Ok {
		t.Fatalf("output before the delay = %+v", m)
	}
	env.Advance(time.Minute)
	if m := must[restate.Maybe[int]](t)(inv.Output(ctx)); !m.Ok || m.Value != 3 {
		t.Fatalf("output after the delay = %+v, want 3", m)
	}
}

func TestCancellationTree(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		ctx := testContext(t)
		parent := must[restatetest.Invocation[string]](t)(restatetest.Send(ctx, env, treeParent.Target("c"), time.Hour))
		env.Settle()
		child := childOf(t, env, parent.ID())
		if err := env.CancelInvocation(ctx, parent.ID()); err != nil {
			t.Fatal(err)
		}
		_, err := parent.Attach(ctx)
		wantCode(t, err, 409, "")
		_, err = restatetest.ByID(env, treeChild.Target(), child).Attach(ctx)
		wantCode(t, err, 409, "")
		if got := string(env.State("Tree", "c")["log"]); got != `["compensated"]` {
			t.Errorf("log = %s, want the compensation", got)
		}
		// Cancelling a completed invocation is a conflict.
		var ie *ingress.Error
		if err := env.CancelInvocation(ctx, parent.ID()); !errors.As(err, &ie) || ie.StatusCode != 409 {
			t.Fatalf("cancel of a completed invocation = %v, want a 409 error", err)
		}
	}, restatetest.WithManualClock())
}

func childOf(t *testing.T, env *restatetest.Env, parent string) string {
	t.Helper()
	for _, in := range env.Invocations() {
		if in.CallerID == parent {
			return in.ID
		}
	}
	t.Fatalf("invocation %s has no child", parent)
	return ""
}

func TestCancelBeforeStart(t *testing.T) {
	env := restatetest.New(t, all, restatetest.WithManualClock())
	ctx := testContext(t)
	slow := must[restatetest.Invocation[int]](t)(restatetest.Send(ctx, env, counterSlowAdd.Target("q"), 1))
	queued := must[restatetest.Invocation[int]](t)(restatetest.Send(ctx, env, counterAdd.Target("q"), 100))
	delayed := must[restatetest.Invocation[int]](t)(restatetest.Send(ctx, env, counterAdd.Target("d"), 1, restatetest.WithDelay(time.Hour)))
	env.Settle()
	for _, id := range []string{queued.ID(), delayed.ID()} {
		if err := env.CancelInvocation(ctx, id); err != nil {
			t.Fatal(err)
		}
		// restate-server frees an invocation cancelled before it started.
		if _, ok := env.Invocation(id); ok {
			t.Errorf("invocation %s still known after its cancellation", id)
		}
	}
	env.Advance(time.Hour)
	if got := must[int](t)(slow.Attach(ctx)); got != 1 {
		t.Fatalf("slowAdd = %d, want 1: the cancelled add ran", got)
	}
	if got := env.State("Counter", "d"); len(got) != 0 {
		t.Errorf("the cancelled delayed add ran: %q", got)
	}
}

func TestKillTree(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		ctx := testContext(t)
		done := make(chan error, 1)
		go func() {
			_, err := restatetest.Call(ctx, env, treeParent.Target("k"), time.Hour)
			done <- err
		}()
		var parent string
		for parent == "" {
			env.Settle()
			for _, in := range env.Invocations() {
				if in.Target == "Tree/k/parent" {
					parent = in.ID
				}
			}
		}
		env.Settle()
		child := childOf(t, env, parent)
		if err := env.KillInvocation(ctx, parent); err != nil {
			t.Fatal(err)
		}
		wantCode(t, <-done, 409, "killed")
		_, err := restatetest.ByID(env, treeChild.Target(), child).Attach(ctx)
		wantCode(t, err, 409, "killed")
		if got := env.State("Tree", "k"); len(got) != 0 {
			t.Errorf("a killed invocation ran its compensation: %q", got)
		}
		var ie *ingress.Error
		if err := env.KillInvocation(ctx, unknownID(parent)); !errors.As(err, &ie) || ie.StatusCode != 404 {
			t.Errorf("kill of an unknown id = %v, want a 404 error", err)
		}
		if err := env.KillInvocation(ctx, "inv_unknown"); !errors.As(err, &ie) || ie.StatusCode != 400 {
			t.Errorf("kill of a malformed id = %v, want a 400 error", err)
		}
		// The key's lock was released.
		if got := call(t, env, counterAdd.Target("k"), 1); got != 1 {
			t.Errorf("add = %d", got)
		}
	}, restatetest.WithManualClock())
}

func TestRetries(t *testing.T) {
	env := restatetest.New(t, all)
	flakyFailures.Store(3)
	start := env.Now()
	inv := must[restatetest.Invocation[string]](t)(restatetest.Send(testContext(t), env, flakyHandler.Target(), "x"))
	if got := must[string](t)(inv.Attach(testContext(t))); got != "ok x" {
		t.Fatalf("attach = %q", got)
	}
	in := info(t, env, inv.ID())
	if in.Attempts != 4 || in.LastFailure != "[500] transient" {
		t.Errorf("attempts %d, last failure %q; want 4 and [500] transient", in.Attempts, in.LastFailure)
	}
	// 500ms, 1s and 2s of backoff on the virtual clock.
	if d := env.Now().Sub(start); d < 3500*time.Millisecond {
		t.Errorf("the clock advanced %s, want at least 3.5s of backoff", d)
	}

	// The handler's policy: three attempts, then kill with the last error.
	_, err := restatetest.Call(testContext(t), env, flakyLimited.Target(), "y")
	wantCode(t, err, 500, "always failing")
}

func TestRetriesPause(t *testing.T) {
	env := restatetest.New(t, all, restatetest.WithRetryPolicy(restate.InvocationRetryPolicy{MaxAttempts: 2}))
	flakyFailures.Store(0)
	_, err := restatetest.Call(testContext(t), env, flakyHandler.Target(), "z")
	if err != nil {
		t.Fatal(err)
	}
	_, err = restatetest.Call(testContext(t), env, restate.Remote[string, string]("Flaky", "limited").Target(), "y")
	wantCode(t, err, 500, "always failing") // the handler's own policy wins
	env2 := restatetest.New(t, all, restatetest.WithRetryPolicy(restate.InvocationRetryPolicy{MaxAttempts: 2, OnMaxAttempts: restate.OnMaxPause}))
	flakyFailures.Store(100)
	defer flakyFailures.Store(0)
	_, err = restatetest.Call(testContext(t), env2, flakyHandler.Target(), "w")
	if !errors.Is(err, restatetest.ErrPaused) {
		t.Fatalf("call = %v, want ErrPaused", err)
	}
	for _, in := range env2.Invocations() {
		if in.Status != "paused" || in.Attempts != 2 {
			t.Errorf("invocation %+v, want paused after 2 attempts", in)
		}
	}
}

func TestFailureAt(t *testing.T) {
	// The journal of Effects/run: 0 input, 1 run "first", 2 its result,
	// 3 run "second", 4 its result, 5 output.
	for idx := 1; idx <= 5; idx++ {
		t.Run("", func(t *testing.T) {
			env := restatetest.New(t, all)
			slot := idx
			before := effects.get(slot)
			got := call(t, env, effectsRun.Target(), slot, restatetest.WithFailureAt(idx))
			in := env.Invocations()[0]
			if in.Attempts < 2 || !strings.Contains(in.LastFailure, "failure injected") {
				t.Errorf("invocation %+v: no injected failure", in)
			}
			// A run whose command was lost with the crash executes again;
			// one whose result was journaled never does.
			// Entry 2 is a notification: the failure hits the next
			// command, at index 3.
			want := int64(2)
			if idx <= 3 {
				want = 3
			}
			if n := effects.get(slot) - before; n != want {
				t.Errorf("failure before entry %d: %d executions, want %d", idx, n, want)
			}
			j := must[restatetest.Journal](t)(env.Journal(in.ID))
			if len(j) != 6 {
				t.Fatalf("journal:\n%s", j)
			}
			first := j[2].Message.(*wire.Notification).Result.Value
			second := j[4].Message.(*wire.Notification).Result.Value
			if want := int(atoi(t, first) + atoi(t, second)); got != want {
				t.Errorf("result %d, want the sum of the journaled runs %d", got, want)
			}
		})
	}
}

func atoi(t *testing.T, b []byte) int64 {
	var n int64
	if err := restate.JSON.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAlwaysReplayCatchesNonDeterminism(t *testing.T) {
	var got []restatetest.Violation
	var mu sync.Mutex
	env := restatetest.New(t, all, restatetest.WithAlwaysReplay(), restatetest.WithViolationHandler(func(v restatetest.Violation) {
		mu.Lock()
		got = append(got, v)
		mu.Unlock()
	}))
	if n := call(t, env, diceFair.Target(), restate.Void{}); n < 1 || n > 6 {
		t.Fatalf("fair = %d", n)
	}
	diceCalls.Store(0)
	_, err := restatetest.Call(testContext(t), env, diceRoll.Target(), restate.Void{})
	if !errors.Is(err, restatetest.ErrPaused) {
		t.Fatalf("roll = %v, want ErrPaused", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Property != restatetest.Determinism || !strings.Contains(got[0].Message, "570") {
		t.Fatalf("violations = %v, want one journal mismatch", got)
	}
	if diff := cmp.Diff(got, env.Violations()); diff != "" {
		t.Errorf("Violations (-handler +env):\n%s", diff)
	}
	if !strings.Contains(got[0].String(), `run "odd"`) {
		t.Errorf("the violation does not show the journal: %s", got[0])
	}
}

func TestIngressErrors(t *testing.T) {
	env := restatetest.New(t, all)
	ctx := testContext(t)
	validID := must[restatetest.Invocation[int]](t)(restatetest.Send(ctx, env, counterAdd.Target("x"), 1)).ID()
	cases := []struct {
		name string
		err  error
		code int
	}{
		{"unknown service", func() error {
			_, err := restatetest.Call(ctx, env, restate.Remote[string, string]("Nope", "x").Target(), "")
			return err
		}(), 404},
		{"unknown handler", func() error {
			_, err := restatetest.Call(ctx, env, restate.Remote[string, string]("Payment", "x").Target(), "")
			return err
		}(), 404},
		{"private service", func() error {
			_, err := restatetest.Call(ctx, env, privateHello.Target(), restate.Void{})
			return err
		}(), 400},
		{"object without key", func() error {
			_, err := restatetest.Call(ctx, env, counterAdd.Target(""), 1)
			return err
		}(), 400},
		{"workflow with idempotency key", func() error {
			_, err := restatetest.Send(ctx, env, signupRun.Target("x"), "", restatetest.WithIdempotencyKey("k"))
			return err
		}(), 400},
		{"output of a malformed id", func() error {
			_, err := restatetest.ByID(env, counterAdd.Target("x"), "inv_nope").Output(ctx)
			return err
		}(), 400},
		{"attach to a malformed id", func() error {
			_, err := restatetest.ByID(env, counterAdd.Target("x"), "inv_nope").Attach(ctx)
			return err
		}(), 400},
		{"output of an unknown id", func() error {
			_, err := restatetest.ByID(env, counterAdd.Target("x"), unknownID(validID)).Output(ctx)
			return err
		}(), 404},
		{"output of an unknown idempotency key", func() error {
			_, err := restatetest.ByIdempotencyKey(env, counterAdd.Target("x"), "nope").Output(ctx)
			return err
		}(), 404},
		{"delayed call", func() error {
			_, err := restatetest.Send(ctx, env, counterAdd.Target("x"), 1, restatetest.WithDelay(-time.Second))
			return err
		}(), 0},
	}
	for _, tc := range cases {
		var ie *ingress.Error
		if tc.code == 0 && tc.err != nil || tc.code != 0 && (!errors.As(tc.err, &ie) || ie.StatusCode != tc.code) {
			t.Errorf("%s: %v, want an ingress error %d", tc.name, tc.err, tc.code)
		}
	}
	_, err := restatetest.ByID(env, counterAdd.Target("x"), unknownID(validID)).Attach(ctx)
	wantCode(t, err, 404, "not found")
	// Handlers may call private services; unknown targets fail the call.
	if got := call(t, env, callerPrivate.Target(), restate.Void{}); got != "hi" {
		t.Errorf("private call = %q", got)
	}
	_, err = restatetest.Call(ctx, env, callerUnknown.Target(), restate.Void{})
	wantCode(t, err, 404, "")
}

func TestAttachAndOutput(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		ctx := testContext(t)
		inv := must[restatetest.Invocation[string]](t)(restatetest.Send(ctx, env, approvalsAwakeable.Target(), restate.Void{}))
		if got := call(t, env, callerOutput.Target(), inv.ID()); got != "not ready" {
			t.Fatalf("output = %q", got)
		}
		attach := must[restatetest.Invocation[string]](t)(restatetest.Send(ctx, env, callerAttach.Target(), inv.ID()))
		env.Settle()
		if err := restatetest.ResolveAwakeable(ctx, env, awakeableOf(t, env, inv.ID()), "fay"); err != nil {
			t.Fatal(err)
		}
		if got := must[string](t)(attach.Attach(ctx)); got != "approved by fay" {
			t.Fatalf("attach from a handler = %q", got)
		}
		if got := call(t, env, callerOutput.Target(), inv.ID()); got != "ready: approved by fay" {
			t.Fatalf("output = %q", got)
		}
		if m := must[restate.Maybe[string]](t)(restatetest.ByID(env, approvalsAwakeable.Target(), inv.ID()).Output(ctx)); !m.Ok || m.Value != "approved by fay" {
			t.Fatalf("output by id = %+v", m)
		}
		_, err := restatetest.Call(ctx, env, callerAttach.Target(), "inv_1unknown")
		wantCode(t, err, 404, "not found")
	})
}

func TestIdempotencyKeys(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		ctx := testContext(t)
		a := must[restatetest.Invocation[int]](t)(restatetest.Send(ctx, env, counterAdd.Target("i"), 1, restatetest.WithIdempotencyKey("k1")))
		b := must[restatetest.Invocation[int]](t)(restatetest.Send(ctx, env, counterAdd.Target("i"), 1, restatetest.WithIdempotencyKey("k1")))
		if a.Status() != ingress.SendStatusAccepted || b.Status() != ingress.SendStatusPreviouslyAccepted || a.ID() != b.ID() {
			t.Fatalf("sends: %q %q, %q %q", a.Status(), a.ID(), b.Status(), b.ID())
		}
		if got := call(t, env, counterAdd.Target("i"), 1, restatetest.WithIdempotencyKey("k1")); got != 1 {
			t.Fatalf("call with the same key = %d, want the first result 1", got)
		}
		if got := must[int](t)(restatetest.ByIdempotencyKey(env, counterAdd.Target("i"), "k1").Attach(ctx)); got != 1 {
			t.Fatalf("attach by idempotency key = %d", got)
		}
		// The key is per target: another object key runs.
		if got := call(t, env, counterAdd.Target("j"), 1, restatetest.WithIdempotencyKey("k1")); got != 1 {
			t.Fatalf("other key = %d", got)
		}
		if got := call(t, env, counterAdd.Target("i"), 1, restatetest.WithIdempotencyKey("k2")); got != 2 {
			t.Fatalf("other idempotency key = %d, want 2", got)
		}
		// From handlers too.
		first := call(t, env, callerIdempotent.Target(), "h1")
		if again := call(t, env, callerIdempotent.Target(), "h1"); again != first {
			t.Fatalf("idempotent call from a handler = %d, then %d", first, again)
		}
		// The key is forgotten after the idempotency retention (one day).
		env.Advance(25 * time.Hour)
		if got := call(t, env, counterAdd.Target("i"), 1, restatetest.WithIdempotencyKey("k1")); got != 3 {
			t.Fatalf("call after the retention = %d, want 3", got)
		}
	})
}

func TestTimeoutOnVirtualClock(t *testing.T) {
	inModes(t, func(t *testing.T, env *restatetest.Env) {
		start := env.Now()
		_, err := restatetest.Call(testContext(t), env, callerTimeout.Target(), 48*time.Hour)
		wantCode(t, err, 408, "")
		if d := env.Now().Sub(start); d < 48*time.Hour-time.Second { // the SDK journals milliseconds
			t.Errorf("the clock advanced %s", d)
		}
	})
}

func TestManualClock(t *testing.T) {
	env := restatetest.New(t, all, restatetest.WithManualClock())
	done := make(chan error, 1)
	go func() {
		_, err := restatetest.Call(testContext(t), env, counterSlowAdd.Target("m"), 1)
		done <- err
	}()
	env.Settle()
	select {
	case err := <-done:
		t.Fatalf("the call returned before the clock moved: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	env.Advance(time.Hour)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestContextEndsTheWait(t *testing.T) {
	env := restatetest.New(t, all)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := restatetest.Call(ctx, env, approvalsAwakeable.Target(), restate.Void{})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "awakeable sign_1") {
		t.Fatalf("err = %v, want a deadline naming the awakeable", err)
	}
}

func TestJournal(t *testing.T) {
	env := restatetest.New(t, all)
	call(t, env, counterAdd.Target("j"), 2)
	in := env.Invocations()[0]
	j := must[restatetest.Journal](t)(env.Journal(in.ID))
	want := []string{
		`handler input "2"`,
		`get state "count" (eager) = void`,
		`set state "count" = "2"`,
		`handler output "2"`,
	}
	var got []string
	for i, e := range j {
		if e.Index != i || !e.Command {
			t.Errorf("entry %d: %+v", i, e)
		}
		got = append(got, e.Text)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
	if !strings.Contains(j.String(), `  1 command      get state "count" (eager) = void`) {
		t.Errorf("String:\n%s", j)
	}
	if _, err := env.Journal("inv_unknown"); err == nil {
		t.Error("journal of an unknown invocation")
	}
}

func TestDeterministicIDs(t *testing.T) {
	ids := func(opts ...restatetest.Option) []string {
		env := restatetest.New(t, all, opts...)
		call(t, env, shopBuy.Target(), order{Item: "x", Qty: 0, Cents: 5})
		var out []string
		for _, in := range env.Invocations() {
			out = append(out, in.ID)
		}
		return out
	}
	a, b := ids(), ids()
	if diff := cmp.Diff(a, b); diff != "" || len(a) != 3 {
		t.Errorf("ids differ between runs (-first +second):\n%s", diff)
	}
	if c := ids(restatetest.WithSeed(7)); c[0] == a[0] {
		t.Errorf("another seed gave the same id %s", c[0])
	}
	for _, id := range a {
		if !strings.HasPrefix(id, "inv_1") || len(id) != len("inv_1")+33 {
			t.Errorf("id %q is not shaped like restate-server's", id)
		}
	}
}

func TestStall(t *testing.T) {
	release := make(chan struct{})
	stuck := restate.NewHandler("stuck", restate.NoInput(func(ctx restate.Context) (string, error) {
		<-release
		return "", nil
	}))
	var got []restatetest.Violation
	var mu sync.Mutex
	env := restatetest.New(t, []restate.ServiceDefinition{restate.NewService("Stuck", stuck)},
		restatetest.WithAttemptTimeout(50*time.Millisecond),
		restatetest.WithViolationHandler(func(v restatetest.Violation) {
			mu.Lock()
			got = append(got, v)
			mu.Unlock()
		}))
	defer close(release)
	_, err := restatetest.Call(testContext(t), env, stuck.Target(), restate.Void{})
	if !errors.Is(err, restatetest.ErrPaused) {
		t.Fatalf("call = %v, want ErrPaused", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Property != restatetest.Progress {
		t.Fatalf("violations = %v", got)
	}
}

func TestClosedEnv(t *testing.T) {
	var env *restatetest.Env
	t.Run("inner", func(t *testing.T) {
		env = restatetest.New(t, all)
		call(t, env, counterAdd.Target("x"), 1)
	})
	if _, err := restatetest.Call(context.Background(), env, counterAdd.Target("x"), 1); err == nil {
		t.Fatal("call on a closed environment succeeded")
	}
}

// unknownID returns a well-formed invocation id that differs from id.
func unknownID(id string) string {
	b := []byte(id)
	if b[len(b)-2] == 'A' {
		b[len(b)-2] = 'B'
	} else {
		b[len(b)-2] = 'A'
	}
	return string(b)
}

// TestWaitingDoesNotExpireRetention: a client waiting for an awakeable
// makes the clock jump only to timers that make invocations progress,
// never to the end of a completed invocation's retention.
func TestWaitingDoesNotExpireRetention(t *testing.T) {
	env := restatetest.New(t, all)
	ctx := testContext(t)
	call(t, env, counterAdd.Target("r"), 1, restatetest.WithIdempotencyKey("once"))
	start := env.Now()
	done := make(chan error, 1)
	var id string
	go func() {
		inv, err := restatetest.Send(ctx, env, approvalsAwakeable.Target(), restate.Void{})
		if err != nil {
			done <- err
			return
		}
		id = inv.ID()
		_, err = inv.Attach(ctx)
		done <- err
	}()
	var aw []string
	for len(aw) == 0 {
		env.Settle()
		for _, in := range env.Invocations() {
			aw = append(aw, in.Awakeables...)
		}
	}
	time.Sleep(20 * time.Millisecond) // the attach waits
	if err := restatetest.ResolveAwakeable(ctx, env, aw[0], "x"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := env.Now().Sub(start); d > time.Hour {
		t.Errorf("the clock jumped %s while a client waited for %s", d, id)
	}
	if got := call(t, env, counterAdd.Target("r"), 1, restatetest.WithIdempotencyKey("once")); got != 1 {
		t.Errorf("the idempotency key was forgotten: add = %d", got)
	}
}

func TestRunRetryPolicies(t *testing.T) {
	var executions atomic.Int64
	bounded := restate.NewHandler("bounded", restate.NoInput(func(ctx restate.Context) (string, error) {
		return restate.Run(ctx, func(restate.RunContext) (string, error) {
			executions.Add(1)
			return "", errors.New("flaky dependency")
		}, restate.WithMaxAttempts(3), restate.WithRetryInterval(time.Minute))
	}))
	var slowRetries atomic.Int64
	retryAfter := restate.NewHandler("retryAfter", restate.NoInput(func(ctx restate.Context) (string, error) {
		if slowRetries.Add(1) < 3 {
			return "", restate.RetryAfter(errors.New("busy"), 10*time.Minute)
		}
		return "done", nil
	}))
	env := restatetest.New(t, []restate.ServiceDefinition{restate.NewService("Runs", bounded, retryAfter)})
	start := env.Now()
	_, err := restatetest.Call(testContext(t), env, bounded.Target(), restate.Void{})
	wantCode(t, err, 500, "")
	if !strings.Contains(err.Error(), "flaky dependency") {
		t.Errorf("error %v does not carry the run's last failure", err)
	}
	if n := executions.Load(); n != 3 {
		t.Errorf("the run executed %d times, want 3 (WithMaxAttempts)", n)
	}
	if d := env.Now().Sub(start); d < 2*time.Minute || d > 3*time.Minute {
		t.Errorf("the retries took %s on the virtual clock, want two intervals of a minute", d)
	}
	start = env.Now()
	if got := call(t, env, retryAfter.Target(), restate.Void{}); got != "done" {
		t.Fatalf("retryAfter = %q", got)
	}
	if d := env.Now().Sub(start); d < 20*time.Minute || d > 21*time.Minute {
		t.Errorf("RetryAfter delays took %s, want 20m", d)
	}
}

// TestNilOptionIgnored: New skips a nil Option, as everywhere in the SDK,
// and applies the options beside it.
func TestNilOptionIgnored(t *testing.T) {
	t.Parallel()
	firstID := func(opts ...restatetest.Option) string {
		env := restatetest.New(t, []restate.ServiceDefinition{counter}, opts...)
		call(t, env, counterAdd.Target("nil"), 3)
		return env.Invocations()[0].ID
	}
	withNils, seeded, unseeded := firstID(nil, restatetest.WithSeed(7), nil), firstID(restatetest.WithSeed(7)), firstID()
	if withNils != seeded || withNils == unseeded {
		t.Errorf("ids: with nils %s, seed 7 %s, default %s; want the seed applied beside the nils", withNils, seeded, unseeded)
	}
}
