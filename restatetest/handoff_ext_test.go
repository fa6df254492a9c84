package restatetest_test

import (
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// handoff hands its context to a goroutine of its own and waits for it:
// only one goroutine uses the context at a time, which restate-server
// accepts (TestStartServerHandoff checks that against the real server).
var handoff = restate.NewHandler("run", func(ctx restate.Context, d time.Duration) (string, error) {
	done := make(chan error, 1)
	go func() { done <- restate.Sleep(ctx, d) }()
	if err := <-done; err != nil {
		return "", err
	}
	v, err := restate.Run(ctx, func(restate.RunContext) (string, error) { return "woke", nil })
	return v, err
})

var handoffServices = []restate.ServiceDefinition{restate.NewService("Handoff", handoff)}

// TestHandoffToGoroutine checks that a handler whose durable operation
// happens on a goroutine it waits for returns normally in every mode,
// including the ones where the attempt suspends inside that goroutine.
func TestHandoffToGoroutine(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			env := restatetest.New(t, handoffServices, m.opts...)
			got, err := restatetest.Call(testContext(t), env, handoff.Target(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if got != "woke" {
				t.Fatalf("result %q, want %q", got, "woke")
			}
		})
	}
}
