package suite

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// killInvocationClass ports KillInvocation: killing a blocked call tree
// through the admin API releases the objects it held.
func killInvocationClass() *Class {
	return &Class{
		Name:     KillInvocation,
		Services: []string{svcKillTestRunner, svcKillTestSingleton, svcAwakeableHolder},
		Tests:    []Test{{Name: "kill", Run: killInvocation}},
	}
}

func killInvocation(ctx context.Context, e *Env) error {
	key := NewUUID()
	sent, err := e.Ingress.Send(ctx, ObjectTarget(svcKillTestRunner, key, "startCallTree"), nil, Idempotent())
	if err != nil {
		return fmt.Errorf("send KillTestRunner.startCallTree: %w", err)
	}
	// Make sure the call tree has been built before killing it.
	if err := awaitAwakeableHeld(ctx, e, key); err != nil {
		return err
	}
	if _, err := e.Ingress.Call(ctx, ObjectTarget(svcAwakeableHolder, key, "unlock"), "cancel", Idempotent()); err != nil {
		return fmt.Errorf("AwakeableHolder.unlock: %w", err)
	}
	err = Eventually(ctx, "verify test", 0, func(ctx context.Context) error {
		return e.Runtime.KillInvocation(ctx, sent.InvocationID)
	})
	if err != nil {
		return err
	}
	return Eventually(ctx, "singleton service is unlocked after killing the call tree", 0, func(ctx context.Context) error {
		_, err := e.Ingress.Call(ctx, ObjectTarget(svcKillTestSingleton, key, "isUnlocked"), nil)
		return err
	})
}

// killRuntimeClass ports KillRuntime: state survives a SIGKILL of the
// runtime.
func killRuntimeClass() *Class {
	return &Class{
		Name:     KillRuntime,
		Services: []string{svcCounter},
		Tests: []Test{{
			Name:    "startAndKillRuntimeRetainsTheState",
			Timeout: 60 * time.Second,
			Run: func(ctx context.Context, e *Env) error {
				return restartRuntimeRetainsState(ctx, e, func(ctx context.Context) error {
					e.Runtime.Kill()
					return e.Runtime.Restart(ctx)
				})
			},
		}},
	}
}

// stopRuntimeClass ports StopRuntime: state survives a graceful stop
// (SIGTERM) of the runtime.
func stopRuntimeClass() *Class {
	return &Class{
		Name:     StopRuntime,
		Services: []string{svcCounter},
		Tests: []Test{{
			Name:    "startAndStopRuntimeRetainsTheState",
			Timeout: 60 * time.Second,
			Run: func(ctx context.Context, e *Env) error {
				return restartRuntimeRetainsState(ctx, e, func(ctx context.Context) error {
					// docker restart: SIGTERM, SIGKILL after 10 s.
					stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
					defer cancel()
					if err := e.Runtime.Stop(stopCtx); err != nil {
						e.Logf("graceful stop: %v", err)
					}
					return e.Runtime.Restart(ctx)
				})
			},
		}},
	}
}

// restartRuntimeRetainsState adds 1 to a counter, restarts the runtime with
// restart, then adds 2 (retrying for up to 60 s with a fixed idempotency
// key) and expects 1 -> 3.
func restartRuntimeRetainsState(ctx context.Context, e *Env, restart func(context.Context) error) error {
	// A dedicated client, closed before the restart so that no connection
	// dangles across it.
	first := &Ingress{URL: e.Ingress.URL, Client: &http.Client{Transport: &http.Transport{}}}
	res1, err := Call[counterUpdate](ctx, first, ObjectTarget(svcCounter, "my-key", "add"), 1, Idempotent())
	if err != nil {
		return fmt.Errorf("first add: %w", err)
	}
	if err := expectEqual("first add", res1, counterUpdate{OldValue: 0, NewValue: 1}); err != nil {
		return err
	}
	first.Client.CloseIdleConnections()

	if err := restart(ctx); err != nil {
		return fmt.Errorf("restart runtime: %w", err)
	}

	idempotencyKey := NewUUID()
	return Eventually(ctx, "second add", 60*time.Second, func(ctx context.Context) error {
		// A new client per attempt, with a 5 s connect timeout.
		client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}
		defer client.CloseIdleConnections()
		in := &Ingress{URL: e.Ingress.URL, Client: client}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		res2, err := Call[counterUpdate](ctx, in, ObjectTarget(svcCounter, "my-key", "add"), 2, IdempotencyKey(idempotencyKey))
		if err != nil {
			return err
		}
		return expectEqual("second add", res2, counterUpdate{OldValue: 1, NewValue: 3})
	})
}
