package restatetest

import (
	"fmt"
	"log/slog"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Option configures [New]. A nil Option is ignored.
type Option interface {
	apply(*config)
}

type option func(*config)

func (o option) apply(c *config) { o(c) }

type config struct {
	manualClock    bool
	alwaysReplay   bool
	lazyState      bool
	bidi           bool
	version        wire.Version
	retry          retryPolicy
	logger         *slog.Logger
	attemptTimeout time.Duration
	onViolation    func(Violation)
	seed           uint64
}

// retryPolicy is an invocation retry policy with every field resolved.
type retryPolicy struct {
	initial, max time.Duration
	factor       float64
	maxAttempts  int // 0 = unlimited
	kill         bool
}

// delay returns the delay before retry n (from 1).
func (p retryPolicy) delay(n int) time.Duration {
	d := float64(p.initial)
	for i := 1; i < n && d < float64(p.max); i++ {
		d *= p.factor
	}
	return min(time.Duration(d), p.max)
}

// defaultRetryPolicy is restate-server 1.7's default invocation retry
// policy: 500ms doubling up to 60s, 70 attempts, then pause.
var defaultRetryPolicy = retryPolicy{initial: 500 * time.Millisecond, max: 60 * time.Second, factor: 2, maxAttempts: 70}

func newConfig(opts []Option) config {
	c := config{
		version:        wire.V6,
		retry:          defaultRetryPolicy,
		logger:         slog.New(slog.DiscardHandler),
		attemptTimeout: 30 * time.Second,
		seed:           1,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithManualClock stops the virtual clock from jumping ahead by itself:
// timers, delayed sends and retry backoffs then fire only when [Env.Advance]
// moves the clock past them or as much wall-clock time passes. By default
// the clock jumps to the next timer whenever a [Call] or an
// [Invocation.Attach] waits and nothing else can run, so a handler that
// sleeps for 30 days completes at once.
func WithManualClock() Option {
	return option(func(c *config) { c.manualClock = true })
}

// WithAlwaysReplay makes every invocation replay its whole journal after
// each entry: once an attempt has journaled one new command (and the
// result of a run it executed, with the commands written before that run),
// the runtime ends the attempt and invokes
// the handler again, as after a suspension. A handler that does not issue
// the same commands on replay fails with a journal mismatch (code 570),
// reported as a [Violation]. It costs one attempt per journal entry, and
// run closures never execute twice.
func WithAlwaysReplay() Option {
	return option(func(c *config) { c.alwaysReplay = true })
}

// WithLazyState sends no state with the start message of keyed handlers:
// every state read is a round trip to the runtime, as for services made
// with restate.WithLazyState. By default the whole state is sent eagerly.
func WithLazyState() Option {
	return option(func(c *config) { c.lazyState = true })
}

// WithBidiStreams runs attempts as bidirectional streams, as restate-server
// does over HTTP/2: completions arrive while the handler waits, so an
// attempt suspends only when the environment has nothing left to run and a
// handler still waits. By default every attempt is request/response: each
// await the journal cannot resolve suspends the attempt and the runtime
// replays the journal in a new one when a result arrives. A stream stays
// open while its handler waits, until the handler's inactivity timeout (one
// minute by default) passes on the virtual clock. [WithAlwaysReplay] takes
// precedence: its attempts are request/response.
func WithBidiStreams() Option {
	return option(func(c *config) { c.bidi = true })
}

// WithProtocolVersion sets the service protocol version of every attempt
// (default wire.V6, what restate-server 1.7 negotiates with this SDK).
// Features such as scopes and pausing need wire.V7.
func WithProtocolVersion(v wire.Version) Option {
	if v < wire.MinVersion || v > wire.MaxVersion {
		panic(fmt.Sprintf("restatetest: WithProtocolVersion: unsupported protocol version %d", v))
	}
	return option(func(c *config) { c.version = v })
}

// WithRetryPolicy sets the default invocation retry policy, which services
// and handlers may override with restate.WithRetryPolicy. The default is
// restate-server's: 500ms doubling up to 60s, 70 attempts, then pause.
// Backoff delays run on the virtual clock. A paused invocation makes the
// clients waiting for it fail with an error wrapping [ErrPaused].
func WithRetryPolicy(p restate.InvocationRetryPolicy) Option {
	return option(func(c *config) {
		c.retry = mergeRetry(c.retry, p.InitialInterval, p.MaxInterval, p.Factor, p.MaxAttempts, string(p.OnMaxAttempts))
	})
}

func mergeRetry(p retryPolicy, initial, maxInterval time.Duration, factor float64, maxAttempts uint32, onMax string) retryPolicy {
	if initial > 0 {
		p.initial = initial
	}
	if maxInterval > 0 {
		p.max = maxInterval
	}
	if factor > 0 {
		p.factor = factor
	}
	if maxAttempts > 0 {
		p.maxAttempts = int(maxAttempts)
	}
	switch restate.OnMax(onMax) {
	case restate.OnMaxKill:
		p.kill = true
	case restate.OnMaxPause:
		p.kill = false
	}
	return p
}

// WithLogger sets the logger handlers log to with ctx.Log(); by default
// their logs are dropped.
func WithLogger(l *slog.Logger) Option {
	return option(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithAttemptTimeout bounds how long one attempt may run without writing
// anything (default 30s): a handler blocked on something other than the
// SDK is then reported as a [Violation] and its invocation paused.
func WithAttemptTimeout(d time.Duration) Option {
	return option(func(c *config) {
		if d > 0 {
			c.attemptTimeout = d
		}
	})
}

// WithViolationHandler receives the [Violation]s the environment detects
// instead of the default, which fails the test with t.Errorf ([New]) or
// only records them ([Start]). Use it to assert that a handler is caught
// being non-deterministic. It is called from the goroutine that makes the
// environment progress, so it must not wait on the environment ([Call],
// [Invocation.Attach], [Env.Settle], [Env.Advance]).
func WithViolationHandler(fn func(Violation)) Option {
	return option(func(c *config) { c.onViolation = fn })
}

// WithSeed changes the seed that invocation ids and the handlers' random
// seeds derive from (default 1). The same seed and the same requests give
// the same ids on every run.
func WithSeed(seed uint64) Option {
	return option(func(c *config) { c.seed = seed })
}
