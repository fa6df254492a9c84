package suite

import (
	"context"
)

// runFlushClass ports RunFlush: a run must wait for the runtime's
// acknowledgement, so under always-suspending every run is replayed and the
// local counter of the completing attempt stays 0.
func runFlushClass() *Class {
	return &Class{
		Name:     RunFlush,
		Services: []string{svcTestUtils},
		Tests: []Test{{Name: "flush", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
			n, err := Call[int](ctx, e.Ingress, ServiceTarget(svcTestUtils, "countExecutedSideEffects"), 3, Idempotent())
			if err != nil {
				return err
			}
			return expectEqual("executed side effects", n, 0)
		}}},
	}
}

// runRetryClass ports RunRetry: run retry policies.
func runRetryClass() *Class {
	return &Class{
		Name:     RunRetry,
		Services: []string{svcFailing},
		Tests: []Test{
			{Name: "withSuccess", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
				return runAttempts(ctx, e, "sideEffectSucceedsAfterGivenAttempts", 3)
			}},
			{Name: "executedOnlyOnce", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
				return runAttempts(ctx, e, "sideEffectFailsAfterGivenAttempts", 1)
			}},
			{Name: "withExhaustedAttempts", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
				return runAttempts(ctx, e, "sideEffectFailsAfterGivenAttempts", 3)
			}},
		},
	}
}

// runAttempts calls Failing/<random>/handler(attempts) and expects a result
// of at least attempts.
func runAttempts(ctx context.Context, e *Env, handler string, attempts int) error {
	n, err := Call[int](ctx, e.Ingress, ObjectTarget(svcFailing, NewUUID(), handler), attempts, Idempotent())
	if err != nil {
		return err
	}
	return expect(n >= attempts, "%s(%d) = %d, want >= %d", handler, attempts, n, attempts)
}
