package restate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// A workflow gains a fraud check between reservation and charge. New
// invocations take the new path and journal the patch's marker; ones
// started by the old code keep the old path (see TestEndToEndPatching in
// package h2c for both against restate-server).
func ExamplePatched() {
	order := restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, cents int) (string, error) {
		if err := restate.RunVoid(ctx, func(restate.RunContext) error { return nil }, restate.WithName("reserve")); err != nil {
			return "", err
		}
		if restate.Patched(ctx, "fraud-check") {
			ok, err := restate.Run(ctx, func(restate.RunContext) (bool, error) { return cents < 10_000, nil }, restate.WithName("fraud-check"))
			if err != nil {
				return "", err
			}
			if !ok {
				return "", &restate.TerminalError{Code: restate.CodeBadRequest, Message: "refused"}
			}
		}
		return restate.Run(ctx, func(restate.RunContext) (string, error) { return "charged", nil }, restate.WithName("charge"))
	})
	env, _ := restatetest.Start([]restate.ServiceDefinition{restate.NewWorkflow("Order", order)})
	defer env.Close()

	inv, _ := restatetest.Send(context.Background(), env, order.Target("o-1"), 250)
	out, err := inv.Attach(context.Background())
	fmt.Println(out, err)
	journal, _ := env.Journal(inv.ID())
	for _, e := range journal {
		if e.Command {
			fmt.Println(e.Text)
		}
	}
	// Output:
	// charged <nil>
	// handler input "250"
	// run "reserve" [completion 1]
	// run "patch:fraud-check" [completion 2]
	// run "fraud-check" [completion 3]
	// run "charge" [completion 4]
	// handler output "\"charged\""
}

// TestPatchMisuse: an id decided twice in one execution, an empty id, and
// a patch decided from inside a run closure fail with errors that say so.
func TestPatchMisuse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body func(ctx restate.Context) error
		want string
	}{
		{"twice", func(ctx restate.Context) error {
			restate.Patched(ctx, "p")
			restate.Patched(ctx, "p")
			return nil
		}, `patch "p" is decided twice in one execution`},
		{"deprecated after patched", func(ctx restate.Context) error {
			restate.Patched(ctx, "p")
			restate.Deprecated(ctx, "p")
			return nil
		}, `patch "p" is decided twice in one execution`},
		{"empty", func(ctx restate.Context) error {
			restate.Patched(ctx, "")
			return nil
		}, "a patch needs a non-empty id"},
		{"in a run", func(ctx restate.Context) error {
			return restate.RunVoid(ctx, func(restate.RunContext) error {
				restate.Patched(ctx, "p")
				return nil
			})
		}, `restate: Patched("p"): restate: context misuse`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := restate.NewHandler("h", restate.NoOutput(func(ctx restate.Context, _ string) error { return tc.body(ctx) }))
			env, err := restatetest.Start([]restate.ServiceDefinition{restate.NewService("S", h)},
				restatetest.WithRetryPolicy(restate.InvocationRetryPolicy{MaxAttempts: 2, OnMaxAttempts: restate.OnMaxKill}))
			if err != nil {
				t.Fatal(err)
			}
			defer env.Close()
			_, err = restatetest.Call(context.Background(), env, h.Target(), "x")
			if err == nil {
				t.Fatal("the handler succeeded")
			}
			inv := env.Invocations()
			if len(inv) != 1 || !strings.Contains(inv[0].LastFailure, tc.want) {
				t.Fatalf("last failure %+v, want it to contain %q (call error %v)", inv, tc.want, err)
			}
		})
	}
}
