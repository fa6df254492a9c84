package restatetest_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

var (
	declined = &restate.TerminalError{Code: restate.CodePreconditionFailed, Message: "card declined", Metadata: map[string]string{"card": "visa"}}
	charge   = restate.NewHandler("charge", func(ctx restate.Context, where string) (string, error) {
		switch where {
		case "handler":
			return "", fmt.Errorf("charging order 17: %w", declined)
		case "run":
			return restate.Run(ctx, func(restate.RunContext) (string, error) {
				return "", fmt.Errorf("charging order 17: %w", declined)
			})
		case "plain":
			return "", declined
		}
		// A WithTimeout that fires: ErrTimeout matches here, in the
		// invocation whose timer fired.
		_, err := restate.WithTimeout(ctx, restate.NewAwakeable[string](ctx).Future, time.Second).Await()
		if !errors.Is(err, restate.ErrTimeout) {
			return "", fmt.Errorf("the timer's error %v does not match ErrTimeout", err)
		}
		return "", err
	})
	chargeCaller = restate.NewHandler("call", func(ctx restate.Context, where string) (string, error) {
		return restate.Remote[string, string]("Charges", "charge").Call(ctx, where).Await()
	})
	chargeServices = []restate.ServiceDefinition{restate.NewService("Charges", charge, chargeCaller)}
)

// TestWrappedTerminalErrorTravels checks that a terminal error wrapped with
// context reaches the caller with the wrapping text, its code and its
// metadata, from a handler's return and from a run closure alike, and that
// a caller gets a WithTimeout's 408 by its code, while only the invocation
// whose timer fired matches ErrTimeout.
func TestWrappedTerminalErrorTravels(t *testing.T) {
	cases := []struct {
		where string
		code  restate.Code
		msg   string
	}{
		{"handler", restate.CodePreconditionFailed, "charging order 17: card declined"},
		{"run", restate.CodePreconditionFailed, "charging order 17: card declined"},
		{"plain", restate.CodePreconditionFailed, "card declined"},
		{"timeout", restate.CodeTimeout, "await-timeout: no result after 1s"},
	}
	env := restatetest.New(t, chargeServices)
	for _, tc := range cases {
		for _, target := range []restate.Target[string, string]{charge.Target(), chargeCaller.Target()} {
			t.Run(tc.where+"/"+target.String(), func(t *testing.T) {
				_, err := restatetest.Call(testContext(t), env, target, tc.where)
				wantCode(t, err, tc.code, tc.msg)
				var te *restate.TerminalError
				errors.As(err, &te)
				if tc.code == restate.CodePreconditionFailed && te.Metadata["card"] != "visa" {
					t.Errorf("metadata %v, want card=visa", te.Metadata)
				}
				if errors.Is(err, restate.ErrTimeout) {
					t.Errorf("%v matches ErrTimeout outside the invocation whose timer fired", err)
				}
				if tc.code == restate.CodeTimeout && restate.ErrorCode(err) != restate.CodeTimeout {
					t.Errorf("ErrorCode(%v) = %d, want 408", err, restate.ErrorCode(err))
				}
			})
		}
	}
}
