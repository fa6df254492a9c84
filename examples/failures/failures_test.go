package failures_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/failures"
	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/ingress"
)

var env e2e.Env

func TestMain(m *testing.M) { e2e.Main(m, &env, e2e.Options{}, failures.Failures) }

func TestTerminalErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	inv, err := ingress.Send(ctx, env.Client, failures.Reserve.Target(), failures.Reservation{Item: "book"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = inv.Attach(ctx)
	want := &restate.TerminalError{Code: 422, Message: `cannot reserve 0 of "book"`, Metadata: map[string]string{"field": "quantity"}}
	var te *restate.TerminalError
	if !errors.As(err, &te) {
		t.Fatalf("reserve = %v, want a terminal error", err)
	}
	if diff := cmp.Diff(want, te); diff != "" {
		t.Errorf("terminal error (-want +got):\n%s", diff)
	}
	info := find(t, "reserve", inv.ID())
	if info.Status != "completed" || info.CompletionResult != "failure" || info.RetryCount != 0 {
		t.Errorf("invocation %+v, want completed with a failure and no retry", info)
	}
}

func TestTransientErrorIsRetried(t *testing.T) {
	t.Parallel()
	got, err := ingress.Call(e2e.Context(t), env.Client, failures.Flaky.Target(), 2)
	if err != nil || got != "succeeded on attempt 3" {
		t.Fatalf("flaky(2) = %q, %v; want success on attempt 3", got, err)
	}
}

func TestRetryPolicyKills(t *testing.T) {
	t.Parallel()
	_, err := ingress.Call(e2e.Context(t), env.Client, failures.GiveUp.Target(), restate.Void{})
	if !restate.IsTerminal(err) || !strings.Contains(err.Error(), "warehouse is down") {
		t.Fatalf("giveUp = %v, want a terminal error carrying the last failure", err)
	}
}

func TestRetryPolicyPauses(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	inv, err := ingress.Send(ctx, env.Client, failures.Stuck.Target(), restate.Void{})
	if err != nil {
		t.Fatal(err)
	}
	e2e.Eventually(t, 20*time.Second, "the invocation pauses", func() (bool, error) {
		return find(t, "stuck", inv.ID()).Status == "paused", nil
	})
	// The operator gives up on it.
	if err := env.Admin.KillInvocation(ctx, inv.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.Attach(ctx); restate.ErrorCode(err) != 409 {
		t.Fatalf("attach to the killed invocation = %v, want code 409", err)
	}
}

func TestTerminalErrorThroughCalls(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	ok, err := ingress.Call(ctx, env.Client, failures.ReserveAll.Target(),
		[]failures.Reservation{{Item: "pen", Quantity: 2}, {Item: "ink", Quantity: 1}})
	if diff := cmp.Diff([]string{"reserved 2 pen", "reserved 1 ink"}, ok); err != nil || diff != "" {
		t.Fatalf("reserveAll: %v (-want +got):\n%s", err, diff)
	}
	_, err = ingress.Call(ctx, env.Client, failures.ReserveAll.Target(),
		[]failures.Reservation{{Item: "pen", Quantity: 2}, {Item: "ink", Quantity: -1}})
	var te *restate.TerminalError
	if !errors.As(err, &te) || te.Code != 422 || te.Metadata["field"] != "quantity" ||
		te.Message != `reservation 2 of 2: cannot reserve -1 of "ink"` {
		t.Fatalf("reserveAll with a bad item = %#v", err)
	}
}

// find returns the runtime's view of the invocation id of handler.
func find(t *testing.T, handler, id string) ingress.InvocationInfo {
	t.Helper()
	invs, err := env.Admin.ListInvocations(e2e.Context(t), ingress.InvocationFilter{Service: "Failures", Handler: handler})
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invs {
		if inv.ID == id {
			return inv
		}
	}
	t.Fatalf("invocation %s of %s not found", id, handler)
	return ingress.InvocationInfo{}
}
