package ingress_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/ingress"
)

func TestCall(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	got, err := ingress.Call(ctx, client, greet.Target(), "Alice")
	if err != nil || got != "Hello Alice!" {
		t.Fatalf("Call greet = %q, %v; want %q", got, err, "Hello Alice!")
	}
	// No input, no output.
	if _, err := ingress.Call(ctx, client, ping.Target(), restate.Void{}); err != nil {
		t.Fatalf("Call ping: %v", err)
	}
	// Objects: the key is part of the target.
	key := t.Name()
	for i, want := range []int{5, 12} {
		n, err := ingress.Call(ctx, client, addTo.Target(key), []int{5, 7}[i])
		if err != nil || n != want {
			t.Fatalf("Call add #%d = %d, %v; want %d", i, n, err, want)
		}
	}
}

func TestCallTerminalError(t *testing.T) {
	t.Parallel()
	_, err := ingress.Call(testCtx(t), client, greet.Target(), "")
	var te *restate.TerminalError
	if !errors.As(err, &te) {
		t.Fatalf("Call greet(\"\") error = %#v, want a *restate.TerminalError", err)
	}
	want := &restate.TerminalError{Code: 422, Message: "a name is required", Metadata: map[string]string{"field": "name"}}
	if diff := cmp.Diff(want, te); diff != "" {
		t.Errorf("terminal error (-want +got):\n%s", diff)
	}
	if restate.ErrorCode(err) != 422 {
		t.Errorf("ErrorCode = %d, want 422", restate.ErrorCode(err))
	}
}

func TestIngressErrors(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	tests := []struct {
		name   string
		call   func() error
		status int
	}{
		{"unknown service", func() error {
			_, err := ingress.Call(ctx, client, restate.Remote[string, string]("NoSuchService", "greet").Target(), "x")
			return err
		}, http.StatusNotFound},
		{"unknown handler", func() error {
			_, err := ingress.Call(ctx, client, restate.Remote[string, string]("IngressTest", "nope").Target(), "x")
			return err
		}, http.StatusNotFound},
		{"idempotency key on a workflow", func() error {
			_, err := ingress.Send(ctx, client, approve.Target("k"), "doc", ingress.WithIdempotencyKey("x"))
			return err
		}, http.StatusBadRequest},
		{"output of an unknown invocation", func() error {
			_, err := ingress.ByIdempotencyKey(client, greet.Target(), "never-used").Output(ctx)
			return err
		}, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ie *ingress.Error
			if !errors.As(err, &ie) {
				t.Fatalf("error = %#v, want an *ingress.Error", err)
			}
			if ie.StatusCode != tc.status || ie.Message == "" {
				t.Errorf("error = %+v, want status %d and a message", ie, tc.status)
			}
			if restate.IsTerminal(err) {
				t.Errorf("an ingress error is not a terminal failure of an invocation: %v", err)
			}
		})
	}
}

func TestAttachUnknown(t *testing.T) {
	t.Parallel()
	// The runtime answers an attach to an unknown invocation as if the
	// invocation had failed with code 404.
	_, err := ingress.ByIdempotencyKey(client, greet.Target(), "never-used").Attach(testCtx(t))
	if restate.ErrorCode(err) != http.StatusNotFound {
		t.Fatalf("Attach to an unknown invocation = %v, want code 404", err)
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	got, err := ingress.Call(testCtx(t), client, echoHeader.Target(), "x-tenant",
		ingress.WithHeaders(map[string]string{"X-Tenant": "acme"}))
	if err != nil || got != "acme" {
		t.Fatalf("echoHeader = %q, %v; want acme", got, err)
	}
}

func TestSendAttachOutput(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	inv, err := ingress.Send(ctx, client, slowEcho.Target(), SlowInput{Text: "later", Millis: 1500})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status() != ingress.SendStatusAccepted || inv.ID() == "" {
		t.Fatalf("Send = id %q status %q, want a new invocation", inv.ID(), inv.Status())
	}
	out, err := inv.Output(ctx)
	if err != nil || out.Ok {
		t.Fatalf("Output while running = %+v, %v; want not ready", out, err)
	}
	got, err := inv.Attach(ctx)
	if err != nil || got != "later" {
		t.Fatalf("Attach = %q, %v; want later", got, err)
	}
	// The same invocation, found again by id.
	again := ingress.ByID(client, slowEcho.Target(), inv.ID())
	out, err = again.Output(ctx)
	if err != nil || out != (restate.Maybe[string]{Value: "later", Ok: true}) {
		t.Fatalf("Output after completion = %+v, %v", out, err)
	}
}

func TestAttachTerminalError(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	inv, err := ingress.Send(ctx, client, greet.Target(), "", ingress.WithIdempotencyKey(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = inv.Attach(ctx)
	if restate.ErrorCode(err) != 422 {
		t.Fatalf("Attach error = %v, want the terminal error 422", err)
	}
	_, err = ingress.ByIdempotencyKey(client, greet.Target(), t.Name()).Output(ctx)
	if restate.ErrorCode(err) != 422 {
		t.Fatalf("Output error = %v, want the terminal error 422", err)
	}
}

func TestSendDelay(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	sent := time.Now()
	inv, err := ingress.Send(ctx, client, startedAt.Target(), restate.Void{}, ingress.WithDelay(700*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := inv.Attach(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Clocks are the same machine's; allow for millisecond truncation.
	if started := time.UnixMilli(ms); started.Before(sent.Add(690 * time.Millisecond)) {
		t.Errorf("the invocation started %s after the send, want at least the 700ms delay", started.Sub(sent))
	}
}

func TestIdempotentCall(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	before := greetRuns.Load()
	for range 3 {
		got, err := ingress.Call(ctx, client, countedGreet.Target(), "Ann", ingress.WithIdempotencyKey(t.Name()))
		if err != nil || got != "Hi Ann" {
			t.Fatalf("Call = %q, %v", got, err)
		}
	}
	if runs := greetRuns.Load() - before; runs != 1 {
		t.Errorf("the handler ran %d times for 3 idempotent calls, want 1", runs)
	}
}

func TestIdempotentSend(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	key := t.Name()
	first, err := ingress.Send(ctx, client, addTo.Target(key), 3, ingress.WithIdempotencyKey("once"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := ingress.Send(ctx, client, addTo.Target(key), 3, ingress.WithIdempotencyKey("once"))
	if err != nil {
		t.Fatal(err)
	}
	if second.ID() != first.ID() || second.Status() != ingress.SendStatusPreviouslyAccepted {
		t.Fatalf("second send = %q %q, want %q PreviouslyAccepted", second.ID(), second.Status(), first.ID())
	}
	byKey := ingress.ByIdempotencyKey(client, addTo.Target(key), "once")
	if got, err := byKey.Attach(ctx); err != nil || got != 3 {
		t.Fatalf("Attach by idempotency key = %d, %v; want 3", got, err)
	}
	if out, err := byKey.Output(ctx); err != nil || out != (restate.Maybe[int]{Value: 3, Ok: true}) {
		t.Fatalf("Output by idempotency key = %+v, %v", out, err)
	}
	// The object saw one add, not two.
	if got, err := ingress.Call(ctx, client, addTo.Target(key), 0); err != nil || got != 3 {
		t.Fatalf("total = %d, %v; want 3", got, err)
	}
}

func TestWorkflow(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	key := t.Name()
	inv, err := ingress.Submit(ctx, client, approve.Target(key), "contract")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status() != ingress.SendStatusAccepted || inv.ID() == "" {
		t.Fatalf("Submit = %q %q", inv.ID(), inv.Status())
	}
	again, err := ingress.Submit(ctx, client, approve.Target(key), "other")
	if err != nil {
		t.Fatal(err)
	}
	if again.Status() != ingress.SendStatusPreviouslyAccepted || again.ID() != inv.ID() {
		t.Fatalf("second Submit = %q %q, want %q PreviouslyAccepted", again.ID(), again.Status(), inv.ID())
	}
	wf := ingress.ByWorkflow(client, approve.Target(key))
	if out, err := wf.Output(ctx); err != nil || out.Ok {
		t.Fatalf("Output while waiting = %+v, %v; want not ready", out, err)
	}
	if _, err := ingress.Call(ctx, client, decide.Target(key), "approved"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []ingress.Invocation[string]{inv, wf, ingress.ByID(client, approve.Target(key), inv.ID())} {
		if got, err := h.Attach(ctx); err != nil || got != "contract: approved" {
			t.Fatalf("Attach = %q, %v", got, err)
		}
	}
	if out, err := wf.Output(ctx); err != nil || out.Value != "contract: approved" {
		t.Fatalf("Output = %+v, %v", out, err)
	}
}

func TestSubmitNeedsKey(t *testing.T) {
	t.Parallel()
	_, err := ingress.Submit(testCtx(t), client, greet.Target(), "x")
	if err == nil {
		t.Fatal("Submit without a workflow key succeeded")
	}
}

func TestAwakeables(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	resolved, err := ingress.Send(ctx, client, waitAwakeable.Target(), "resolve")
	if err != nil {
		t.Fatal(err)
	}
	if err := ingress.ResolveAwakeable(ctx, client, awakeables.wait(t, "resolve"), "yes"); err != nil {
		t.Fatal(err)
	}
	if got, err := resolved.Attach(ctx); err != nil || got != "yes" {
		t.Fatalf("resolved awakeable: %q, %v", got, err)
	}

	rejected, err := ingress.Send(ctx, client, waitAwakeable.Target(), "reject")
	if err != nil {
		t.Fatal(err)
	}
	if err := ingress.RejectAwakeable(ctx, client, awakeables.wait(t, "reject"), "no way"); err != nil {
		t.Fatal(err)
	}
	_, err = rejected.Attach(ctx)
	var te *restate.TerminalError
	if !errors.As(err, &te) || te.Message != "no way" {
		t.Fatalf("rejected awakeable: %v, want the terminal error \"no way\"", err)
	}
}

func TestAdminCancelKill(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	tests := []struct {
		name string
		stop func(context.Context, string) error
	}{
		{"cancel", admin.CancelInvocation},
		{"kill", admin.KillInvocation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tag := "admin-" + tc.name
			inv, err := ingress.Send(ctx, client, waitAwakeable.Target(), tag)
			if err != nil {
				t.Fatal(err)
			}
			awakeables.wait(t, tag)
			if err := tc.stop(ctx, inv.ID()); err != nil {
				t.Fatal(err)
			}
			_, err = inv.Attach(ctx)
			if !errors.Is(err, restate.ErrCancelled) {
				t.Fatalf("Attach after %s = %v, want a terminal error with code 409", tc.name, err)
			}
		})
	}
}

func TestAdminListInvocations(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	tag := "list"
	inv, err := ingress.Send(ctx, client, waitAwakeable.Target(), tag)
	if err != nil {
		t.Fatal(err)
	}
	id := awakeables.wait(t, tag)
	running, err := admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "IngressTest", Handler: "waitAwakeable"})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(running, func(r ingress.InvocationInfo) bool { return r.ID == inv.ID() })
	if i < 0 {
		t.Fatalf("invocation %s not listed in %+v", inv.ID(), running)
	}
	if r := running[i]; r.Target != "IngressTest/waitAwakeable" || r.Status == "completed" || r.CreatedAt.IsZero() {
		t.Errorf("listed %+v, want a pending IngressTest/waitAwakeable invocation", r)
	}
	if err := ingress.ResolveAwakeable(ctx, client, id, "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.Attach(ctx); err != nil {
		t.Fatal(err)
	}
	done, err := admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "IngressTest", Status: "completed", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	i = slices.IndexFunc(done, func(r ingress.InvocationInfo) bool { return r.ID == inv.ID() })
	if i < 0 || done[i].CompletionResult != "success" {
		t.Fatalf("completed invocation %s not listed as a success in %+v", inv.ID(), done)
	}
	// Quotes in filter values are escaped, not interpreted.
	if rows, err := admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "x' OR '1'='1"}); err != nil || len(rows) != 0 {
		t.Fatalf("injection attempt: %d rows, %v", len(rows), err)
	}
}

func TestAdminRegisterError(t *testing.T) {
	t.Parallel()
	_, err := admin.Register(testCtx(t), "http://127.0.0.1:1")
	var ie *ingress.Error
	if !errors.As(err, &ie) || ie.StatusCode/100 != 4 && ie.StatusCode/100 != 5 {
		t.Fatalf("Register of an unreachable endpoint = %v, want an *ingress.Error", err)
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := ingress.Call(ctx, client, slowEcho.Target(), SlowInput{Text: "x", Millis: 5000})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call with an expiring context = %v, want context.DeadlineExceeded", err)
	}
}
