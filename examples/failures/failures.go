// Package failures shows how a handler's error decides what Restate does
// next:
//
//   - A terminal error (*restate.TerminalError, restate.Terminal) is the
//     invocation's result: Restate does not retry it, and the caller gets
//     its code, message and metadata — through calls between handlers too.
//
//   - Any other error is transient: Restate retries the invocation, with
//     the delay of the retry policy or the one given with
//     restate.RetryAfter.
//
//   - A retry policy bounds the retries: when they are exhausted the
//     invocation is killed (the caller gets a terminal error) or paused
//     until an operator resumes or kills it.
//
//     curl localhost:8080/Failures/reserve --json '{"item": "book", "quantity": 0}'
//     curl localhost:8080/Failures/flaky --json 2
package failures

import (
	"errors"
	"fmt"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// Reservation is the input of reserve.
type Reservation struct {
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
}

// Reserve validates a reservation. Invalid input will not get better on a
// retry, so it fails with a terminal error with code 422 and metadata.
var Reserve = restate.NewHandler("reserve", func(ctx restate.Context, r Reservation) (string, error) {
	if r.Quantity <= 0 {
		return "", &restate.TerminalError{
			Code:     422,
			Message:  fmt.Sprintf("cannot reserve %d of %q", r.Quantity, r.Item),
			Metadata: map[string]string{"field": "quantity"},
		}
	}
	return fmt.Sprintf("reserved %d %s", r.Quantity, r.Item), nil
})

// Flaky fails with a transient error on its first n attempts and succeeds
// afterwards. Request().RetryCount counts the failed attempts since the
// journal last grew; this handler journals nothing, so it counts them all.
var Flaky = restate.NewHandler("flaky", func(ctx restate.Context, n uint32) (string, error) {
	attempt := ctx.Request().RetryCount + 1
	if attempt <= n {
		// Retried after 10ms instead of the retry policy's delay.
		return "", restate.RetryAfter(fmt.Errorf("attempt %d: service unavailable", attempt), 10*time.Millisecond)
	}
	return fmt.Sprintf("succeeded on attempt %d", attempt), nil
})

// errDown is what GiveUp and Stuck keep failing with.
var errDown = errors.New("the warehouse is down")

// GiveUp always fails transiently; its retry policy gives up after 3
// attempts and kills the invocation, so the caller gets a terminal error.
var GiveUp = restate.NewHandler("giveUp", restate.NoInput(func(ctx restate.Context) (string, error) {
	return "", errDown
}), restate.WithRetryPolicy(restate.InvocationRetryPolicy{
	InitialInterval: 10 * time.Millisecond,
	MaxAttempts:     3,
	OnMaxAttempts:   restate.OnMaxKill,
}))

// Stuck always fails transiently; its retry policy pauses the invocation
// after 2 attempts, for an operator to fix the cause and resume it, or to
// kill it.
var Stuck = restate.NewHandler("stuck", restate.NoInput(func(ctx restate.Context) (string, error) {
	return "", errDown
}), restate.WithRetryPolicy(restate.InvocationRetryPolicy{
	InitialInterval: 10 * time.Millisecond,
	MaxAttempts:     2,
	OnMaxAttempts:   restate.OnMaxPause,
}))

// ReserveAll reserves each item with a call to reserve. A terminal error of
// a call comes back with its code and metadata; the handler adds context and
// keeps it terminal.
var ReserveAll = restate.NewHandler("reserveAll", func(ctx restate.Context, rs []Reservation) ([]string, error) {
	var out []string
	for _, r := range rs {
		msg, err := Reserve.Call(ctx, r).Await()
		var te *restate.TerminalError
		if errors.As(err, &te) {
			return nil, &restate.TerminalError{Code: te.Code, Metadata: te.Metadata,
				Message: fmt.Sprintf("reservation %d of %d: %s", len(out)+1, len(rs), te.Message)}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, msg)
	}
	return out, nil
})

// Failures is the service to serve.
var Failures = restate.NewService("Failures", Reserve, Flaky, GiveUp, Stuck, ReserveAll,
	restate.WithDocumentation("Terminal errors, retries and retry policies."))
