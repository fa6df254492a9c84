package suite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// sleepClass ports Sleep: durable timers.
func sleepClass() *Class {
	return &Class{
		Name:     Sleep,
		Services: []string{svcInterpreter},
		Tests: []Test{
			{Name: "sleep", Concurrent: true, Run: sleepOnce},
			{Name: "manySleeps", Concurrent: true, Timeout: 60 * time.Second, Run: manySleeps},
		},
	}
}

func sleepOnce(ctx context.Context, e *Env) error {
	const sleepDuration = 10 * time.Millisecond
	start := time.Now()
	if _, err := e.Ingress.Call(ctx, interpret(NewUUID()),
		interpretRequest(awaitOne(sleepCmd(sleepDuration.Milliseconds()))), Idempotent()); err != nil {
		return err
	}
	elapsed := time.Since(start)
	return expect(elapsed >= sleepDuration, "elapsed %s, want >= %s", elapsed, sleepDuration)
}

func manySleeps(ctx context.Context, e *Env) error {
	const (
		minSleep                   = 10
		maxSleep                   = 50
		sleepsPerInvocation        = 20
		concurrentSleepInvocations = 50
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, concurrentSleepInvocations)
	var wg sync.WaitGroup
	for range concurrentSleepInvocations {
		sleeps := make([]command, sleepsPerInvocation)
		for i := range sleeps {
			sleeps[i] = sleepCmd(minSleep + rand.Int64N(maxSleep-minSleep+1))
		}
		wg.Go(func() {
			_, err := e.Ingress.Call(ctx, interpret(NewUUID()), interpretRequest(awaitAllCompleted(sleeps...)), Idempotent())
			if err != nil {
				errs <- err
				cancel()
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// sleepWithFailuresClass ports SleepWithFailures: a durable sleep survives
// the service endpoint being killed or terminated and restarted.
func sleepWithFailuresClass() *Class {
	return &Class{
		Name:     SleepWithFailures,
		Services: []string{svcInterpreter},
		Tests: []Test{
			{Name: "sleepAndKillServiceEndpoint", Timeout: 60 * time.Second, Run: func(ctx context.Context, e *Env) error {
				return asyncSleepTest(ctx, e, e.Services.KillAndRestart)
			}},
			{Name: "sleepAndTerminateServiceEndpoint", Timeout: 60 * time.Second, Run: func(ctx context.Context, e *Env) error {
				return asyncSleepTest(ctx, e, e.Services.TerminateAndRestart)
			}},
		},
	}
}

// asyncSleepTest starts a 4 s durable sleep, runs action after a random
// quarter-to-half of it while the call is in flight, waits for the call and
// checks it took at least the sleep duration.
func asyncSleepTest(ctx context.Context, e *Env, action func(context.Context) error) error {
	const sleepDuration = 4 * time.Second
	start := time.Now()
	callErr := make(chan error, 1)
	go func() {
		_, err := e.Ingress.Call(ctx, interpret(NewUUID()),
			interpretRequest(awaitOne(sleepCmd(sleepDuration.Milliseconds()))), Idempotent())
		callErr <- err
	}()
	lo, hi := int64(sleepDuration/4), int64(sleepDuration/2)
	select {
	case <-time.After(time.Duration(lo + rand.Int64N(hi-lo+1))):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := action(ctx); err != nil {
		return fmt.Errorf("restart service endpoint: %w", err)
	}
	if err := <-callErr; err != nil {
		return err
	}
	elapsed := time.Since(start)
	return expect(elapsed >= sleepDuration, "elapsed %s, want >= %s", elapsed, sleepDuration)
}
