package services

import (
	"errors"
	"fmt"
	"sync"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// FailureToPropagate describes the terminal error the Failing handlers
// produce.
type FailureToPropagate struct {
	ErrorMessage string            `json:"errorMessage"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

func (f FailureToPropagate) err() error {
	return &restate.TerminalError{Message: f.ErrorMessage, Metadata: f.Metadata}
}

// attemptCounters are the process-local counters of the Failing handlers,
// one per handler and object key: the scenarios run concurrently on random
// keys, so they do not disturb each other.
type attemptCounters struct {
	mu sync.Mutex
	n  map[string]int
}

// inc increments the counter of key and returns its new value.
func (c *attemptCounters) inc(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[key]++
	return c.n[key]
}

// get returns the counter of key.
func (c *attemptCounters) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// reset sets the counter of key back to zero.
func (c *attemptCounters) reset(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.n, key)
}

var (
	eventualSuccessAttempts attemptCounters
	succeedingRunAttempts   attemptCounters
	failingRunAttempts      attemptCounters
)

var failingTerminallyFailingCall = restate.NewObjectHandler("terminallyFailingCall", restate.NoOutput(
	func(_ restate.ObjectContext, f FailureToPropagate) error { return f.err() }))

// Failing is a virtual object producing terminal and retryable failures,
// directly, through a call and inside runs with retry policies.
var Failing = restate.NewObject("Failing",
	failingTerminallyFailingCall,
	restate.NewObjectHandler("callTerminallyFailingCall", func(ctx restate.ObjectContext, f FailureToPropagate) (string, error) {
		if _, err := failingTerminallyFailingCall.Call(ctx, restate.UUID(ctx), f).Await(); err != nil {
			return "", err
		}
		return "", restate.TerminalErrorf("terminallyFailingCall succeeded unexpectedly")
	}),
	restate.NewObjectHandler("failingCallWithEventualSuccess", restate.NoInput(func(ctx restate.ObjectContext) (int, error) {
		n := eventualSuccessAttempts.inc(ctx.Key())
		if n < 4 {
			return 0, fmt.Errorf("failed attempt %d", n)
		}
		eventualSuccessAttempts.reset(ctx.Key())
		return n, nil
	})),
	restate.NewObjectHandler("terminallyFailingSideEffect", restate.NoOutput(func(ctx restate.ObjectContext, f FailureToPropagate) error {
		return restate.RunVoid(ctx, func(restate.RunContext) error { return f.err() })
	})),
	restate.NewObjectHandler("sideEffectSucceedsAfterGivenAttempts", func(ctx restate.ObjectContext, minimumAttempts int) (int, error) {
		key := ctx.Key()
		return restate.Run(ctx, func(restate.RunContext) (int, error) {
			n := succeedingRunAttempts.inc(key)
			if n < minimumAttempts {
				return 0, fmt.Errorf("failed attempt %d of %d", n, minimumAttempts)
			}
			succeedingRunAttempts.reset(key)
			return n, nil
		}, restate.WithName("failing_side_effect"), restate.WithRetryInterval(10*time.Millisecond), restate.WithRetryFactor(1))
	}),
	restate.NewObjectHandler("sideEffectFailsAfterGivenAttempts", func(ctx restate.ObjectContext, maxAttempts int) (int, error) {
		key := ctx.Key()
		err := restate.RunVoid(ctx, func(restate.RunContext) error {
			return fmt.Errorf("failed attempt %d", failingRunAttempts.inc(key))
		}, restate.WithName("failing_side_effect"), restate.WithRetryInterval(10*time.Millisecond), restate.WithRetryFactor(1),
			restate.WithMaxAttempts(uint32(max(maxAttempts, 1))))
		var te *restate.TerminalError
		if !errors.As(err, &te) {
			if err == nil {
				return 0, restate.TerminalErrorf("the run succeeded although it always fails")
			}
			return 0, err
		}
		return failingRunAttempts.get(key), nil
	}),
)
