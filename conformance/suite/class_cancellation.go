package suite

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

// blockingOperations are the values of CancelTest.BlockingOperation.
var blockingOperations = []string{"CALL", "SLEEP", "AWAKEABLE"}

// cancellationClass ports Cancellation: cancelling a blocked call tree from
// the admin API and from a service context.
func cancellationClass() *Class {
	c := &Class{
		Name:     Cancellation,
		Services: []string{svcCancelTestRunner, svcCancelTestBlocking, svcAwakeableHolder, svcProxy, svcTestUtils},
	}
	for _, op := range blockingOperations {
		c.Tests = append(c.Tests, Test{
			Name: "cancelFromAdminAPI/" + op,
			Run:  func(ctx context.Context, e *Env) error { return cancelFromAdminAPI(ctx, e, op) },
		})
	}
	for _, op := range blockingOperations {
		c.Tests = append(c.Tests, Test{
			Name: "cancelFromContext/" + op,
			Run:  func(ctx context.Context, e *Env) error { return cancelFromContext(ctx, e, op) },
		})
	}
	return c
}

// awaitAwakeableHeld waits until AwakeableHolder/key holds an awakeable.
func awaitAwakeableHeld(ctx context.Context, e *Env, key string) error {
	return Eventually(ctx, "awakeable is registered", 0, func(ctx context.Context) error {
		has, err := Call[bool](ctx, e.Ingress, ObjectTarget(svcAwakeableHolder, key, "hasAwakeable"), nil)
		if err != nil {
			return err
		}
		return expect(has, "AwakeableHolder.hasAwakeable = false")
	})
}

// awaitBlockingUnlocked waits until CancelTestBlockingService/key accepts
// an exclusive call again.
func awaitBlockingUnlocked(ctx context.Context, e *Env, key string) error {
	return Eventually(ctx, "blocking service is unlocked", 0, func(ctx context.Context) error {
		_, err := e.Ingress.Call(ctx, ObjectTarget(svcCancelTestBlocking, key, "isUnlocked"), nil)
		return err
	})
}

// verifyTest calls CancelTestRunner/key/verifyTest within 1 s: it can only
// run once startTest has finished (the object key is locked until then).
func verifyTest(ctx context.Context, e *Env, key string, opts ...CallOption) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err := e.Ingress.Call(ctx, ObjectTarget(svcCancelTestRunner, key, "verifyTest"), nil, opts...)
	return err
}

func cancelFromAdminAPI(ctx context.Context, e *Env, op string) error {
	key := NewUUID()
	sent, err := e.Ingress.Send(ctx, ObjectTarget(svcCancelTestRunner, key, "startTest"), op, Idempotent())
	if err != nil {
		return fmt.Errorf("send CancelTestRunner.startTest: %w", err)
	}
	if err := awaitAwakeableHeld(ctx, e, key); err != nil {
		return err
	}
	if _, err := e.Ingress.Call(ctx, ObjectTarget(svcAwakeableHolder, key, "unlock"), "cancel", Idempotent()); err != nil {
		return fmt.Errorf("AwakeableHolder.unlock: %w", err)
	}
	// The cancellation might arrive before the blocking call was made, so
	// retry.
	err = Eventually(ctx, "verify test", 0, func(ctx context.Context) error {
		if err := e.Runtime.CancelInvocation(ctx, sent.InvocationID); err != nil {
			var apiErr *restateserver.APIError
			if !errors.As(err, &apiErr) || (apiErr.StatusCode != http.StatusConflict && apiErr.StatusCode != http.StatusNotFound) {
				return err
			}
			// Already completed or cancelled.
		}
		return verifyTest(ctx, e, key)
	})
	if err != nil {
		return err
	}
	return awaitBlockingUnlocked(ctx, e, key)
}

func cancelFromContext(ctx context.Context, e *Env, op string) error {
	key := NewUUID()
	id, err := Call[string](ctx, e.Ingress, ServiceTarget(svcProxy, "oneWayCall"), proxyRequest{
		ServiceName:      svcCancelTestRunner,
		VirtualObjectKey: key,
		HandlerName:      "startTest",
		Message:          JSONBytes(op),
	}, Idempotent())
	if err != nil {
		return fmt.Errorf("Proxy.oneWayCall: %w", err)
	}
	if err := awaitAwakeableHeld(ctx, e, key); err != nil {
		return err
	}
	if _, err := e.Ingress.Call(ctx, ObjectTarget(svcAwakeableHolder, key, "unlock"), "cancel", Idempotent()); err != nil {
		return fmt.Errorf("AwakeableHolder.unlock: %w", err)
	}
	err = Eventually(ctx, "verify test", 0, func(ctx context.Context) error {
		if _, err := e.Ingress.Call(ctx, ServiceTarget(svcTestUtils, "cancelInvocation"), id, Idempotent()); err != nil {
			return err
		}
		return verifyTest(ctx, e, key, Idempotent())
	})
	if err != nil {
		return err
	}
	return awaitBlockingUnlocked(ctx, e, key)
}
