package suite

import (
	"context"
	"fmt"
	"strings"
)

// combinatorsClass ports Combinators: awaitables combined with any/all
// semantics over awakeables, timers, runs and signals.
func combinatorsClass() *Class {
	return &Class{
		Name:     Combinators,
		Services: []string{svcInterpreter, svcTestUtils},
		Tests: []Test{
			{Name: "awakeableOrTimeoutUsingAwaitAny", Concurrent: true, Run: awakeableOrTimeoutUsingAwaitAny},
			{Name: "awakeableOrTimeoutUsingAwakeableTimeoutCommand", Concurrent: true, Run: awakeableOrTimeoutUsingAwakeableTimeoutCommand},
			{Name: "firstSuccessfulCompletedAwakeable", Concurrent: true, Run: firstSuccessfulCompletedAwakeable},
			{Name: "signalFirstSuccessfulOrAllFailed", Concurrent: true, Run: signalFirstSuccessfulOrAllFailed},
			{Name: "signalAllSuccessfulOrFirstFailed", Concurrent: true, Run: signalAllSuccessfulOrFirstFailed},
			{Name: "signalAllCompleted", Concurrent: true, Run: signalAllCompleted},
			{Name: "signalFirstCompleted", Concurrent: true, Run: signalFirstCompleted},
			{Name: "mixedRunWinsRaceAgainstSignal", Concurrent: true, Run: mixedRunWinsRaceAgainstSignal},
			{Name: "mixedSignalWinsAfterRunFails", Concurrent: true, Run: mixedSignalWinsAfterRunFails},
			{Name: "mixedAllSucceededRunAndSignal", Concurrent: true, Run: mixedAllSucceededRunAndSignal},
			{Name: "mixedAllCompletedRunSignalAndFailedRun", Concurrent: true, Run: mixedAllCompletedRunSignalAndFailedRun},
		},
	}
}

func awakeableOrTimeoutUsingAwaitAny(ctx context.Context, e *Env) error {
	res, err := Call[string](ctx, e.Ingress, interpret(NewUUID()),
		interpretRequest(awaitAny(createAwakeable("awk1"), sleepCmd(100))), Idempotent())
	if err != nil {
		return err
	}
	return expectEqual("result", res, "sleep")
}

func awakeableOrTimeoutUsingAwakeableTimeoutCommand(ctx context.Context, e *Env) error {
	_, err := e.Ingress.Call(ctx, interpret(NewUUID()),
		interpretRequest(awaitAwakeableOrTimeout("should-timeout-awk", 100)), Idempotent())
	if err == nil {
		return fmt.Errorf("interpretCommands succeeded, want a failure containing %q", "await-timeout")
	}
	return expect(strings.Contains(err.Error(), "await-timeout"), "error %q does not contain %q", err, "await-timeout")
}

func firstSuccessfulCompletedAwakeable(ctx context.Context, e *Env) error {
	testID := NewUUID()
	type outcome struct {
		res string
		err error
	}
	result := make(chan outcome, 1)
	go func() {
		res, err := Call[string](ctx, e.Ingress, interpret(testID), interpretRequest(awaitAnySuccessful(
			createAwakeable("awk0"),
			runThrowTerminalException("run0"),
			createAwakeable("awk1"),
			runThrowTerminalException("run1"),
			createAwakeable("awk2"),
			runThrowTerminalException("run2"),
		)), Idempotent())
		result <- outcome{res, err}
	}()
	hasAwakeable := func(ctx context.Context, key string, opts ...CallOption) error {
		has, err := Call[bool](ctx, e.Ingress, ObjectTarget(svcInterpreter, testID, "hasAwakeable"), key, opts...)
		if err != nil {
			return err
		}
		return expect(has, "hasAwakeable(%s) = false", key)
	}
	err := Eventually(ctx, "awakeable awk2 created", 0, func(ctx context.Context) error {
		return hasAwakeable(ctx, "awk2")
	})
	if err != nil {
		return err
	}
	if err := hasAwakeable(ctx, "awk0", Idempotent()); err != nil {
		return err
	}
	if err := hasAwakeable(ctx, "awk1", Idempotent()); err != nil {
		return err
	}
	// Rejecting awakeable 2 must not complete anything.
	if _, err := e.Ingress.Call(ctx, ObjectTarget(svcInterpreter, testID, "rejectAwakeable"),
		command{"awakeableKey": "awk2", "reason": "fail"}, Idempotent()); err != nil {
		return fmt.Errorf("rejectAwakeable: %w", err)
	}
	// Resolving awakeable 1 completes the command successfully.
	if _, err := e.Ingress.Call(ctx, ObjectTarget(svcInterpreter, testID, "resolveAwakeable"),
		command{"awakeableKey": "awk1", "value": "awk1-result"}, Idempotent()); err != nil {
		return fmt.Errorf("resolveAwakeable: %w", err)
	}
	select {
	case o := <-result:
		if o.err != nil {
			return o.err
		}
		return expectEqual("result", o.res, "awk1-result")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resolveSignal and rejectSignal go through TestUtilsService.
func resolveSignal(ctx context.Context, e *Env, invocationID, name, value string) error {
	_, err := e.Ingress.Call(ctx, ServiceTarget(svcTestUtils, "resolveSignal"),
		signalRequest{InvocationID: invocationID, SignalName: name, Value: value}, Idempotent())
	if err != nil {
		return fmt.Errorf("resolveSignal(%s): %w", name, err)
	}
	return nil
}

func rejectSignal(ctx context.Context, e *Env, invocationID, name, reason string) error {
	_, err := e.Ingress.Call(ctx, ServiceTarget(svcTestUtils, "rejectSignal"),
		signalRequest{InvocationID: invocationID, SignalName: name, Reason: reason}, Idempotent())
	if err != nil {
		return fmt.Errorf("rejectSignal(%s): %w", name, err)
	}
	return nil
}

// signalScenario sends interpretCommands(cmd), applies the signal actions
// to the invocation and checks the attached result.
func signalScenario(ctx context.Context, e *Env, cmd command, actions func(id string) error, want string) error {
	sent, err := e.Ingress.Send(ctx, interpret(NewUUID()), interpretRequest(cmd), Idempotent())
	if err != nil {
		return fmt.Errorf("send interpretCommands: %w", err)
	}
	if err := actions(sent.InvocationID); err != nil {
		return err
	}
	res, err := Decode[string](e.Ingress.AttachInvocation(ctx, sent.InvocationID))
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	return expectEqual("result", res, want)
}

func signalFirstSuccessfulOrAllFailed(ctx context.Context, e *Env) error {
	return signalScenario(ctx, e,
		awaitAnySuccessful(createSignal("sig0"), createSignal("sig1"), createSignal("sig2")),
		func(id string) error {
			if err := rejectSignal(ctx, e, id, "sig0", "fail0"); err != nil {
				return err
			}
			if err := rejectSignal(ctx, e, id, "sig2", "fail2"); err != nil {
				return err
			}
			return resolveSignal(ctx, e, id, "sig1", "success1")
		}, "success1")
}

func signalAllSuccessfulOrFirstFailed(ctx context.Context, e *Env) error {
	return signalScenario(ctx, e,
		awaitAllSucceededOrFirstFailed(createSignal("sig0"), createSignal("sig1"), createSignal("sig2")),
		func(id string) error {
			for i, v := range []string{"val0", "val1", "val2"} {
				if err := resolveSignal(ctx, e, id, fmt.Sprintf("sig%d", i), v); err != nil {
					return err
				}
			}
			return nil
		}, "val0|val1|val2")
}

func signalAllCompleted(ctx context.Context, e *Env) error {
	return signalScenario(ctx, e,
		awaitAllCompleted(createSignal("sig0"), createSignal("sig1"), createSignal("sig2")),
		func(id string) error {
			if err := resolveSignal(ctx, e, id, "sig0", "val0"); err != nil {
				return err
			}
			if err := rejectSignal(ctx, e, id, "sig1", "err1"); err != nil {
				return err
			}
			return resolveSignal(ctx, e, id, "sig2", "val2")
		}, "ok:val0|err:err1|ok:val2")
}

func signalFirstCompleted(ctx context.Context, e *Env) error {
	return signalScenario(ctx, e,
		awaitAny(createSignal("sig0"), createSignal("sig1"), createSignal("sig2")),
		func(id string) error { return resolveSignal(ctx, e, id, "sig1", "first") },
		"first")
}

func mixedRunWinsRaceAgainstSignal(ctx context.Context, e *Env) error {
	// runReturns completes immediately; the signal is never resolved.
	res, err := Call[string](ctx, e.Ingress, interpret(NewUUID()),
		interpretRequest(awaitFirstCompleted(createSignal("sig"), runReturns("runval"))), Idempotent())
	if err != nil {
		return err
	}
	return expectEqual("result", res, "runval")
}

func mixedSignalWinsAfterRunFails(ctx context.Context, e *Env) error {
	return signalScenario(ctx, e,
		awaitFirstSucceededOrAllFailed(runThrowTerminalException("fail"), createSignal("sig")),
		func(id string) error { return resolveSignal(ctx, e, id, "sig", "sigval") },
		"sigval")
}

func mixedAllSucceededRunAndSignal(ctx context.Context, e *Env) error {
	return signalScenario(ctx, e,
		awaitAllSucceededOrFirstFailed(runReturns("runval"), createSignal("sig")),
		func(id string) error { return resolveSignal(ctx, e, id, "sig", "sigval") },
		"runval|sigval")
}

func mixedAllCompletedRunSignalAndFailedRun(ctx context.Context, e *Env) error {
	return signalScenario(ctx, e,
		awaitAllCompleted(runReturns("runval"), createSignal("sig"), runThrowTerminalException("fail")),
		func(id string) error { return resolveSignal(ctx, e, id, "sig", "sigval") },
		"ok:runval|ok:sigval|err:fail")
}
