package suite

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"time"
)

// ingressClass ports Ingress: custom headers reach the handler; raw
// (non-JSON) input and output.
func ingressClass() *Class {
	return &Class{
		Name:     IngressClass,
		Services: []string{svcTestUtils},
		// Short cleanup interval because of the tests with idempotent calls.
		RuntimeEnv: map[string]string{"RESTATE_WORKER__CLEANUP_INTERVAL": "1s"},
		Tests: []Test{
			{Name: "headersPassThrough", Concurrent: true, Timeout: 15 * time.Second, Run: headersPassThrough},
			{Name: "rawHandler", Concurrent: true, Run: rawHandler},
		},
	}
}

func headersPassThrough(ctx context.Context, e *Env) error {
	const headerName, headerValue = "x-my-custom-header", "x-my-custom-value"
	headers, err := Call[map[string]string](ctx, e.Ingress, ServiceTarget(svcTestUtils, "echoHeaders"), nil,
		IdempotencyKey(NewUUID()), Header(headerName, headerValue))
	if err != nil {
		return err
	}
	got, ok := headers[headerName]
	return expect(ok && got == headerValue, "echoHeaders = %v, want an entry %s=%s", headers, headerName, headerValue)
}

func rawHandler(ctx context.Context, e *Env) error {
	input := make([]byte, 100)
	_, _ = rand.Read(input)
	resp, err := e.Ingress.Call(ctx, ServiceTarget(svcTestUtils, "rawEcho"), Raw(input), Idempotent())
	if err != nil {
		return err
	}
	if !bytes.Equal(resp.Body, input) {
		return fmt.Errorf("rawEcho returned %v, want %v", resp.Body, input)
	}
	return nil
}
