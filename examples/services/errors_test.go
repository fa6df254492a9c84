package services_test

import (
	"errors"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/ingress"
)

// TestIngressRefusals checks the error types of requests the ingress
// refuses itself: with both backends (restate-server and restatetest) they
// are *ingress.Error with the server's status, never a terminal failure of
// an invocation.
func TestIngressRefusals(t *testing.T) {
	ctx := e2e.Context(t)
	cases := []struct {
		name   string
		status int
		do     func() error
	}{
		{"unknown service", 404, func() error {
			_, err := ingress.Call(ctx, env.Client, restate.Remote[string, string]("NoSuchService", "x").Target(), "")
			return err
		}},
		{"malformed invocation id", 400, func() error {
			_, err := ingress.ByID(env.Client, app.Status.Target("x"), "inv_notanid").Attach(ctx)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			var ie *ingress.Error
			if !errors.As(err, &ie) || ie.StatusCode != tc.status {
				t.Fatalf("%s (%s): %v (%T), want an *ingress.Error with status %d", tc.name, env.Backend, err, err, tc.status)
			}
		})
	}
}
