package suite

import (
	"context"
	"fmt"
)

// nonDeterminismErrorsClass ports NonDeterminismErrors: handlers whose
// replay diverges must be detected as non-deterministic (the invocation
// fails; with one attempt and on-max-attempts=kill it is killed) and never
// reach their final one-way call.
func nonDeterminismErrorsClass() *Class {
	c := &Class{
		Name:     NonDeterminismErrors,
		Services: []string{svcNonDeterministic, svcCounter},
		RuntimeEnv: map[string]string{
			"RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS":     "1",
			"RESTATE_DEFAULT_RETRY_POLICY__ON_MAX_ATTEMPTS":  "kill",
			"RESTATE_DEFAULT_RETRY_POLICY__INITIAL_INTERVAL": "1ms",
		},
	}
	for _, handler := range []string{"eitherSleepOrCall", "callDifferentMethod", "backgroundInvokeWithDifferentTargets", "setDifferentKey"} {
		c.Tests = append(c.Tests, Test{
			Name:       "method/" + handler,
			Concurrent: true,
			Run:        func(ctx context.Context, e *Env) error { return nonDeterministicMethod(ctx, e, handler) },
		})
	}
	return c
}

func nonDeterministicMethod(ctx context.Context, e *Env, handler string) error {
	// Increment the counter first; this makes sure the Counter service is
	// there.
	if _, err := e.Ingress.Call(ctx, ObjectTarget(svcCounter, handler, "add"), 1, Idempotent()); err != nil {
		return fmt.Errorf("add to the Counter: %w", err)
	}
	if _, err := e.Ingress.Call(ctx, ObjectTarget(svcNonDeterministic, handler, handler), nil, Idempotent()); err == nil {
		return fmt.Errorf("NonDeterministic/%s/%s succeeded, want a failure", handler, handler)
	}
	return Eventually(ctx, "counter was not incremented", 0, func(ctx context.Context) error {
		n, err := Call[int64](ctx, e.Ingress, ObjectTarget(svcCounter, handler, "get"), nil)
		if err != nil {
			return err
		}
		return expectEqual("counter", n, int64(1))
	})
}
