package services_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/examples/services"
	"github.com/qcodr/restate-sdk-go/ingress"
)

var (
	env    e2e.Env
	outbox services.MemoryOutbox
	app    = services.New(outbox.Deliver)
)

func TestMain(m *testing.M) { e2e.Main(m, &env, e2e.Options{}, app.Definitions()...) }

// waitForEmail returns the first email sent to addr.
func waitForEmail(t *testing.T, addr string) services.Email {
	t.Helper()
	var got []services.Email
	e2e.Eventually(t, 20*time.Second, "an email to "+addr, func() (bool, error) {
		got = outbox.Sent(addr)
		return len(got) > 0, nil
	})
	return got[0]
}

func status(t *testing.T, user string) services.SignupStatus {
	t.Helper()
	st, err := ingress.Call(e2e.Context(t), env.Client, app.Status.Target(user), restate.Void{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSignup(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	const user, addr = "ann", "ann@example.com"
	wf, err := ingress.Submit(ctx, env.Client, app.Run.Target(user), services.SignupRequest{Name: "Ann", Email: addr})
	if err != nil {
		t.Fatal(err)
	}
	mail := waitForEmail(t, addr)
	// The workflow records the stage once the send call returned, just
	// after the email went out.
	e2e.Eventually(t, 20*time.Second, "stage email-sent", func() (bool, error) {
		return status(t, user) == services.SignupStatus{Stage: "email-sent"}, nil
	})
	if out, err := wf.Output(ctx); err != nil || out.Ok {
		t.Fatalf("output before verification = %+v, %v; want not ready", out, err)
	}

	for _, tc := range []struct {
		code string
		want bool
	}{{"wrong", false}, {services.Code(mail), true}, {services.Code(mail), true}} {
		ok, err := ingress.Call(ctx, env.Client, app.Verify.Target(user), tc.code)
		if err != nil || ok != tc.want {
			t.Fatalf("verify(%q) = %v, %v; want %v", tc.code, ok, err, tc.want)
		}
	}
	want := services.User{ID: user, Name: "Ann", Email: addr, Verified: true}
	got, err := wf.Attach(ctx)
	if diff := cmp.Diff(want, got); err != nil || diff != "" {
		t.Fatalf("signup: %v (-want +got):\n%s", err, diff)
	}
	if got := status(t, user); got != (services.SignupStatus{Stage: "verified", Confirmed: true}) {
		t.Errorf("status after verification = %+v", got)
	}
	if got, err := ingress.Call(ctx, env.Client, app.Get.Target(user), restate.Void{}); err != nil || got != want {
		t.Errorf("Users/get = %+v, %v; want %+v", got, err, want)
	}
	// A workflow key runs once: submitting it again returns the same run.
	again, err := ingress.Submit(ctx, env.Client, app.Run.Target(user), services.SignupRequest{Name: "Ann", Email: addr})
	if err != nil || again.Status() != ingress.SendStatusPreviouslyAccepted {
		t.Fatalf("second submit: %v, %v", again.Status(), err)
	}
	if out, err := ingress.ByWorkflow(env.Client, app.Run.Target(user)).Output(ctx); err != nil || out.Value != want {
		t.Fatalf("output = %+v, %v", out, err)
	}
	if n := len(outbox.Sent(addr)); n != 1 {
		t.Errorf("%d emails sent, want 1", n)
	}
}

func TestSignupExpires(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	const user, addr = "bob", "bob@example.com"
	_, err := ingress.Call(ctx, env.Client, app.Run.Target(user),
		services.SignupRequest{Name: "Bob", Email: addr, LinkValidityMillis: 300})
	if restate.ErrorCode(err) != 408 {
		t.Fatalf("signup without verification = %v, want code 408", err)
	}
	if got := status(t, user); got.Stage != "expired" {
		t.Errorf("status = %+v, want expired", got)
	}
	// Too late now.
	if ok, err := ingress.Call(ctx, env.Client, app.Verify.Target(user), services.Code(waitForEmail(t, addr))); err != nil || ok {
		t.Logf("verify after expiry = %v, %v", ok, err)
	}
	if u, err := ingress.Call(ctx, env.Client, app.Get.Target(user), restate.Void{}); err != nil || u.Verified {
		t.Errorf("user = %+v, %v; want an unverified user", u, err)
	}
}

func TestSignupAbandoned(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	const user, addr = "cem", "cem@example.com"
	wf, err := ingress.Submit(ctx, env.Client, app.Run.Target(user), services.SignupRequest{Name: "Cem", Email: addr})
	if err != nil {
		t.Fatal(err)
	}
	waitForEmail(t, addr)
	if _, err := ingress.Call(ctx, env.Client, app.Abandon.Target(user), "changed my mind"); err != nil {
		t.Fatal(err)
	}
	_, err = wf.Attach(ctx)
	var te *restate.TerminalError
	if !errors.As(err, &te) || te.Code != 410 || te.Message != "abandoned: changed my mind" {
		t.Fatalf("abandoned signup = %v, want the rejection", err)
	}
	if got := status(t, user); got != (services.SignupStatus{Stage: "abandoned"}) {
		t.Errorf("status = %+v", got)
	}
}

func TestSignupExistingUser(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	const user = "dee"
	if _, err := ingress.Call(ctx, env.Client, app.Create.Target(user), services.User{Name: "Dee"}); err != nil {
		t.Fatal(err)
	}
	_, err := ingress.Call(ctx, env.Client, app.Run.Target(user), services.SignupRequest{Name: "Dee", Email: "dee@example.com"})
	if restate.ErrorCode(err) != restate.CodePreconditionFailed {
		t.Fatalf("signup of an existing user = %v, want code 412", err)
	}
	if n := len(outbox.Sent("dee@example.com")); n != 0 {
		t.Errorf("%d emails sent, want none", n)
	}
}
