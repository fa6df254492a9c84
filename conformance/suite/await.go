package suite

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// Polling parameters of [Eventually], the Awaitility defaults the Kotlin
// suite relies on.
const (
	DefaultAwaitTimeout = 10 * time.Second
	PollDelay           = 100 * time.Millisecond
	PollInterval        = 100 * time.Millisecond
)

// Eventually is the port of Awaitility's "await withAlias alias atMost
// timeout untilAsserted { ... }": it evaluates check after [PollDelay] and
// then every [PollInterval] until it returns nil, ignoring errors in the
// meantime. It fails with the last error when timeout (zero means
// [DefaultAwaitTimeout]) elapses or ctx ends. Each evaluation gets a context
// bounded by the overall deadline.
func Eventually(ctx context.Context, alias string, timeout time.Duration, check func(ctx context.Context) error) error {
	if timeout <= 0 {
		timeout = DefaultAwaitTimeout
	}
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wait := PollDelay
	lastErr := errors.New("condition never evaluated")
	evaluated := false
	for {
		timer := time.NewTimer(wait)
		select {
		case <-actx.Done():
			timer.Stop()
			return fmt.Errorf("%s: not satisfied within %s: %w", alias, time.Since(start).Round(time.Millisecond), lastErr)
		case <-timer.C:
		}
		err := check(actx)
		if err == nil {
			return nil
		}
		if actx.Err() != nil && evaluated {
			// The deadline cut this attempt short: the previous attempt's
			// error says more about the condition than a context error.
			lastErr = fmt.Errorf("%w (last attempt interrupted: %v)", lastErr, err)
		} else {
			lastErr = err
		}
		evaluated = true
		wait = PollInterval
	}
}

// expectEqual fails when got and want differ (reflect.DeepEqual).
func expectEqual(what string, got, want any) error {
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("%s: got %#v, want %#v", what, got, want)
	}
	return nil
}

// expect fails with the formatted message when cond is false.
func expect(cond bool, format string, args ...any) error {
	if !cond {
		return fmt.Errorf(format, args...)
	}
	return nil
}
