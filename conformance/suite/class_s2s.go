package suite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// serviceToServiceCommunicationClass ports ServiceToServiceCommunication:
// calls and one-way calls (with idempotency keys and delays) issued by a
// handler.
func serviceToServiceCommunicationClass() *Class {
	return &Class{
		Name:     ServiceToServiceCommunication,
		Services: []string{svcProxy, svcTestUtils, svcCounter},
		Tests: []Test{
			{Name: "regularCall", Concurrent: true, Run: regularCall},
			{Name: "oneWayCall", Concurrent: true, Run: oneWayCall},
			{Name: "oneWayCallWithIdempotencyKey", Concurrent: true, Run: oneWayCallWithIdempotencyKey},
			{Name: "callWithIdempotencyKey", Concurrent: true, Run: callWithIdempotencyKey},
			{Name: "oneWayCallWithDelay", Concurrent: true, Timeout: 30 * time.Second, Run: oneWayCallWithDelay},
		},
	}
}

func regularCall(ctx context.Context, e *Env) error {
	res, err := Call[Bytes](ctx, e.Ingress, ServiceTarget(svcProxy, "call"), proxyRequest{
		ServiceName: svcTestUtils,
		HandlerName: "uppercaseEcho",
		Message:     JSONBytes("ping"),
	}, Idempotent())
	if err != nil {
		return err
	}
	if want := JSONBytes("PING"); !bytes.Equal(res, want) {
		return fmt.Errorf("the Proxy call returned %q, want %q", []byte(res), []byte(want))
	}
	return nil
}

// awaitCounter waits until Counter/key/get returns want.
func awaitCounter(ctx context.Context, e *Env, key string, want int64) error {
	return Eventually(ctx, "counter value", 0, func(ctx context.Context) error {
		n, err := Call[int64](ctx, e.Ingress, ObjectTarget(svcCounter, key, "get"), nil)
		if err != nil {
			return err
		}
		return expectEqual("counter", n, want)
	})
}

func oneWayCall(ctx context.Context, e *Env) error {
	counterID := NewUUID()
	if _, err := e.Ingress.Call(ctx, ServiceTarget(svcProxy, "oneWayCall"), proxyRequest{
		ServiceName:      svcCounter,
		VirtualObjectKey: counterID,
		HandlerName:      "add",
		Message:          JSONBytes(1),
	}, Idempotent()); err != nil {
		return err
	}
	return awaitCounter(ctx, e, counterID, 1)
}

func oneWayCallWithIdempotencyKey(ctx context.Context, e *Env) error {
	counterID, idempotencyKey := NewUUID(), NewUUID()
	// In a loop, because there can be failures.
	err := Eventually(ctx, "one way call", 0, func(ctx context.Context) error {
		_, err := e.Ingress.Call(ctx, ServiceTarget(svcProxy, "oneWayCall"), proxyRequest{
			ServiceName:      svcCounter,
			VirtualObjectKey: counterID,
			HandlerName:      "add",
			Message:          JSONBytes(1),
			IdempotencyKey:   idempotencyKey,
		})
		return err
	})
	if err != nil {
		return err
	}
	if err := awaitCounter(ctx, e, counterID, 1); err != nil {
		return err
	}
	out, err := Decode[counterUpdate](e.Ingress.IdempotentOutput(ctx, ObjectTarget(svcCounter, counterID, "add"), idempotencyKey))
	if err != nil {
		return fmt.Errorf("idempotent invocation output: %w", err)
	}
	return expectEqual("output", out, counterUpdate{OldValue: 0, NewValue: 1})
}

func callWithIdempotencyKey(ctx context.Context, e *Env) error {
	counterID, idempotencyKey := NewUUID(), NewUUID()
	err := Eventually(ctx, "call", 0, func(ctx context.Context) error {
		raw, err := Call[Bytes](ctx, e.Ingress, ServiceTarget(svcProxy, "call"), proxyRequest{
			ServiceName:      svcCounter,
			VirtualObjectKey: counterID,
			HandlerName:      "add",
			Message:          JSONBytes(1),
			IdempotencyKey:   idempotencyKey,
		})
		if err != nil {
			return err
		}
		var res counterUpdate
		if err := json.Unmarshal(raw, &res); err != nil {
			return fmt.Errorf("decode %q: %w", []byte(raw), err)
		}
		return expectEqual("result", res, counterUpdate{OldValue: 0, NewValue: 1})
	})
	if err != nil {
		return err
	}
	if err := awaitCounter(ctx, e, counterID, 1); err != nil {
		return err
	}
	out, err := Decode[counterUpdate](e.Ingress.IdempotentOutput(ctx, ObjectTarget(svcCounter, counterID, "add"), idempotencyKey))
	if err != nil {
		return fmt.Errorf("idempotent invocation output: %w", err)
	}
	return expectEqual("output", out, counterUpdate{OldValue: 0, NewValue: 1})
}

func oneWayCallWithDelay(ctx context.Context, e *Env) error {
	counterID := NewUUID()
	start := time.Now()
	for range 10 {
		if _, err := e.Ingress.Call(ctx, ServiceTarget(svcProxy, "oneWayCall"), proxyRequest{
			ServiceName:      svcCounter,
			VirtualObjectKey: counterID,
			HandlerName:      "add",
			Message:          JSONBytes(1),
			// Long enough to keep false positives of the timing check rare.
			DelayMillis: 5000,
		}, Idempotent()); err != nil {
			return err
		}
	}
	if err := awaitCounter(ctx, e, counterID, 10); err != nil {
		return err
	}
	// The calls happened, and the delay was applied before queueing each
	// invocation (otherwise this would take at least 50 s).
	elapsed := time.Since(start)
	return expect(elapsed >= 5*time.Second, "elapsed %s, want >= 5s", elapsed)
}
