package suite

import (
	"context"
	"fmt"
	"strings"
)

// signalsClass ports Signals: named signals resolved or rejected from
// another invocation.
func signalsClass() *Class {
	return &Class{
		Name:     Signals,
		Services: []string{svcInterpreter, svcTestUtils},
		Tests: []Test{
			{Name: "resolve", Concurrent: true, Run: func(ctx context.Context, e *Env) error {
				return signalScenario(ctx, e, awaitOne(createSignal("mysignal")),
					func(id string) error { return resolveSignal(ctx, e, id, "mysignal", "hello") },
					"hello")
			}},
			{Name: "reject", Concurrent: true, Run: signalReject},
		},
	}
}

func signalReject(ctx context.Context, e *Env) error {
	sent, err := e.Ingress.Send(ctx, interpret(NewUUID()), interpretRequest(awaitOne(createSignal("mysignal"))), Idempotent())
	if err != nil {
		return fmt.Errorf("send interpretCommands: %w", err)
	}
	if err := rejectSignal(ctx, e, sent.InvocationID, "mysignal", "boom"); err != nil {
		return err
	}
	_, err = e.Ingress.AttachInvocation(ctx, sent.InvocationID)
	if err == nil {
		return fmt.Errorf("attach succeeded, want a failure containing %q", "boom")
	}
	return expect(strings.Contains(err.Error(), "boom"), "error %q does not contain %q", err, "boom")
}
