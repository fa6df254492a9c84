package services

import (
	"strings"

	restate "github.com/qcodr/restate-sdk-go"
)

// ResolveSignalRequest is the input of TestUtilsService.resolveSignal.
type ResolveSignalRequest struct {
	InvocationID string `json:"invocationId"`
	SignalName   string `json:"signalName"`
	Value        string `json:"value"`
}

// RejectSignalRequest is the input of TestUtilsService.rejectSignal.
type RejectSignalRequest struct {
	InvocationID string `json:"invocationId"`
	SignalName   string `json:"signalName"`
	Reason       string `json:"reason"`
}

// TestUtilsService is a service of small utilities: echoes (JSON, upper
// case, headers, raw bytes), counting executed runs, cancelling an
// invocation and resolving or rejecting another invocation's signal.
var TestUtilsService = restate.NewService("TestUtilsService",
	restate.NewHandler("echo", func(_ restate.Context, s string) (string, error) { return s, nil }),
	restate.NewHandler("uppercaseEcho", func(_ restate.Context, s string) (string, error) {
		return strings.ToUpper(s), nil
	}),
	restate.NewHandler("echoHeaders", restate.NoInput(func(ctx restate.Context) (map[string]string, error) {
		h := ctx.Request().Headers
		if h == nil {
			h = map[string]string{}
		}
		return h, nil
	})),
	restate.NewHandler("rawEcho", func(_ restate.Context, b []byte) ([]byte, error) { return b, nil },
		restate.WithCodec(restate.Raw), restate.WithInputContentType("*/*")),
	restate.NewHandler("countExecutedSideEffects", func(ctx restate.Context, increments int) (int, error) {
		// A plain variable: only runs executed by this attempt count, so
		// with every run replayed (always suspending) the result is 0.
		executed := 0
		for range increments {
			err := restate.RunVoid(ctx, func(restate.RunContext) error {
				executed++
				return nil
			})
			if err != nil {
				return 0, err
			}
		}
		return executed, nil
	}),
	restate.NewHandler("cancelInvocation", restate.NoOutput(func(ctx restate.Context, invocationID string) error {
		return restate.CancelInvocation(ctx, invocationID)
	})),
	restate.NewHandler("resolveSignal", restate.NoOutput(func(ctx restate.Context, r ResolveSignalRequest) error {
		return restate.ResolveSignal(ctx, r.InvocationID, r.SignalName, r.Value)
	})),
	restate.NewHandler("rejectSignal", restate.NoOutput(func(ctx restate.Context, r RejectSignalRequest) error {
		return restate.RejectSignal(ctx, r.InvocationID, r.SignalName, &restate.TerminalError{Message: r.Reason})
	})),
)
