package suite

import (
	"context"
	"fmt"
	"strings"
)

// workflowAPIClass ports WorkflowAPI: workflow submission, durable promise,
// attach and output, idempotent re-submission.
func workflowAPIClass() *Class {
	return &Class{
		Name:     WorkflowAPI,
		Services: []string{svcBlockAndWaitWorkflow},
		Tests:    []Test{{Name: "setAndResolve", Concurrent: true, Run: workflowSetAndResolve}},
	}
}

func workflowSetAndResolve(ctx context.Context, e *Env) error {
	workflowID := NewUUID()
	run := ObjectTarget(svcBlockAndWaitWorkflow, workflowID, "run")
	sent, err := e.Ingress.Send(ctx, run, "Francesco")
	if err != nil {
		return fmt.Errorf("submit workflow: %w", err)
	}
	if err := expectEqual("send status", sent.Status, "Accepted"); err != nil {
		return err
	}
	err = Eventually(ctx, "state is not blank", 0, func(ctx context.Context) error {
		state, err := Call[*string](ctx, e.Ingress, ObjectTarget(svcBlockAndWaitWorkflow, workflowID, "getState"), nil)
		if err != nil {
			return err
		}
		return expect(state != nil && strings.TrimSpace(*state) != "", "getState = %v, want not blank", state)
	})
	if err != nil {
		return err
	}
	if _, err := e.Ingress.Call(ctx, ObjectTarget(svcBlockAndWaitWorkflow, workflowID, "unblock"), "Till", Idempotent()); err != nil {
		return fmt.Errorf("unblock: %w", err)
	}
	res, err := Decode[string](e.Ingress.WorkflowAttach(ctx, svcBlockAndWaitWorkflow, workflowID))
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	if err := expectEqual("attach result", res, "Till"); err != nil {
		return err
	}
	// The output can be read again.
	out, err := Decode[string](e.Ingress.WorkflowOutput(ctx, svcBlockAndWaitWorkflow, workflowID))
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err := expectEqual("output", out, "Till"); err != nil {
		return err
	}
	// Re-submitting has no effect.
	again, err := e.Ingress.Send(ctx, run, "Francesco")
	if err != nil {
		return fmt.Errorf("re-submit workflow: %w", err)
	}
	if err := expectEqual("re-send status", again.Status, "PreviouslyAccepted"); err != nil {
		return err
	}
	if err := expectEqual("re-send invocation id", again.InvocationID, sent.InvocationID); err != nil {
		return err
	}
	out, err = Decode[string](e.Ingress.WorkflowOutput(ctx, svcBlockAndWaitWorkflow, workflowID))
	if err != nil {
		return fmt.Errorf("output after re-submit: %w", err)
	}
	return expectEqual("output after re-submit", out, "Till")
}
