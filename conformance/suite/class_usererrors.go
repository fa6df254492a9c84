package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// userErrorsMetadata is the metadata attached to terminal errors.
var userErrorsMetadata = map[string]string{"key1": "value1", "key2": "value2"}

// userErrorsClass ports UserErrors: terminal errors (with metadata) and
// retryable errors.
func userErrorsClass() *Class {
	return &Class{
		Name:     UserErrors,
		Services: []string{svcFailing, svcCounter},
		Tests: []Test{
			{Name: "invokeTerminallyFailingCall", Concurrent: true, Run: invokeTerminallyFailingCall},
			{Name: "failSeveralTimes", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
				// The endpoint must not become unstable after the first failure.
				for range 3 {
					if err := invokeTerminallyFailingCall(ctx, e); err != nil {
						return err
					}
				}
				return nil
			}},
			{Name: "internalCallFailurePropagation", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
				return expectTerminalFailure(ctx, e, "callTerminallyFailingCall", "propagated error")
			}},
			{Name: "sideEffectWithTerminalError", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
				return expectTerminalFailure(ctx, e, "terminallyFailingSideEffect", "failed side effect")
			}},
			{Name: "invokeTerminallyFailingCallWithMetadata", Concurrent: true, Run: invokeTerminallyFailingCallWithMetadata},
			{Name: "failSeveralTimesWithMetadata", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
				for range 3 {
					if err := invokeTerminallyFailingCallWithMetadata(ctx, e); err != nil {
						return err
					}
				}
				return nil
			}},
			{Name: "internalCallFailurePropagationWithMetadata", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
				return expectErrorWithMetadata(ctx, e, "callTerminallyFailingCall", "propagated error with metadata")
			}},
			{Name: "sideEffectWithTerminalErrorWithMetadata", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
				return expectErrorWithMetadata(ctx, e, "terminallyFailingSideEffect", "failed side effect with metadata")
			}},
			{Name: "setStateThenFailShouldPersistState", Concurrent: true, Run: setStateThenFailShouldPersistState},
			{Name: "invocationWithEventualSuccess", Concurrent: true, Run: invocationWithEventualSuccess},
		},
	}
}

// expectFailureContaining checks that err is a failure whose message
// contains msg.
func expectFailureContaining(err error, msg string) error {
	if err == nil {
		return fmt.Errorf("call succeeded, want a failure containing %q", msg)
	}
	return expect(strings.Contains(err.Error(), msg), "error %q does not contain %q", err, msg)
}

// expectTerminalFailure calls Failing/<random>/handler with errorMessage and
// expects a failure containing it.
func expectTerminalFailure(ctx context.Context, e *Env, handler, errorMessage string) error {
	_, err := e.Ingress.Call(ctx, ObjectTarget(svcFailing, NewUUID(), handler),
		failureToPropagate{ErrorMessage: errorMessage}, Idempotent())
	return expectFailureContaining(err, errorMessage)
}

func invokeTerminallyFailingCall(ctx context.Context, e *Env) error {
	return expectTerminalFailure(ctx, e, "terminallyFailingCall", "my error")
}

// expectErrorWithMetadata posts to Failing/<random>/handler with metadata
// and checks the error body: status >= 400, message containing the error
// message, metadata containing all entries.
func expectErrorWithMetadata(ctx context.Context, e *Env, handler, errorMessage string) error {
	_, err := e.Ingress.Call(ctx, ObjectTarget(svcFailing, NewUUID(), handler),
		failureToPropagate{ErrorMessage: errorMessage, Metadata: userErrorsMetadata}, Idempotent())
	if err == nil {
		return fmt.Errorf("call succeeded, want a failure")
	}
	var ie *IngressError
	if !errors.As(err, &ie) {
		return err
	}
	if ie.Status < 400 {
		return fmt.Errorf("status %d, want >= 400", ie.Status)
	}
	var body struct {
		Code     *int              `json:"code"`
		Message  *string           `json:"message"`
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(ie.Body, &body); err != nil || body.Message == nil {
		return fmt.Errorf("error body %q is not a Restate error (%v)", ie.Body, err)
	}
	if !strings.Contains(*body.Message, errorMessage) {
		return fmt.Errorf("error message %q does not contain %q", *body.Message, errorMessage)
	}
	got := map[string]string{}
	for k := range userErrorsMetadata {
		if v, ok := body.Metadata[k]; ok {
			got[k] = v
		}
	}
	if !maps.Equal(got, userErrorsMetadata) {
		return fmt.Errorf("error metadata %v does not contain all of %v", body.Metadata, userErrorsMetadata)
	}
	return nil
}

func invokeTerminallyFailingCallWithMetadata(ctx context.Context, e *Env) error {
	return expectErrorWithMetadata(ctx, e, "terminallyFailingCall", "my error with metadata")
}

func setStateThenFailShouldPersistState(ctx context.Context, e *Env) error {
	const counterName = "my-failure-counter"
	_, err := e.Ingress.Call(ctx, ObjectTarget(svcCounter, counterName, "addThenFail"), 1, Idempotent())
	if err := expectFailureContaining(err, counterName); err != nil {
		return err
	}
	n, err := Call[int64](ctx, e.Ingress, ObjectTarget(svcCounter, counterName, "get"), nil, Idempotent())
	if err != nil {
		return err
	}
	return expectEqual("counter", n, int64(1))
}

func invocationWithEventualSuccess(ctx context.Context, e *Env) error {
	n, err := Call[int](ctx, e.Ingress, ObjectTarget(svcFailing, NewUUID(), "failingCallWithEventualSuccess"), nil, Idempotent())
	if err != nil {
		return err
	}
	return expectEqual("result", n, 4)
}
