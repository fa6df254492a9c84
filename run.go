package restate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// RunOption configures a run: a name, a codec for its result, and its retry
// policy.
type RunOption interface {
	applyRun(*runConfig)
}

type runConfig struct {
	name   string
	codec  Codec
	policy replay.RetryPolicy
}

type runOption func(*runConfig)

func (o runOption) applyRun(c *runConfig) { o(c) }

// WithRunCodec sets the codec of the run's result (default JSON).
func WithRunCodec(c Codec) RunOption { return runOption(func(r *runConfig) { r.codec = c }) }

// WithMaxAttempts makes the run give up after n executions: its last
// retryable error becomes a terminal error (or pauses the invocation with
// [WithPauseOnMaxAttempts]). Without a bound, a run retries forever.
func WithMaxAttempts(n uint32) RunOption {
	return runOption(func(r *runConfig) { r.policy.MaxAttempts = n })
}

// WithMaxRetryDuration makes the run give up once it has been retrying for d.
func WithMaxRetryDuration(d time.Duration) RunOption {
	return runOption(func(r *runConfig) { r.policy.MaxDuration = d })
}

// WithRetryInterval sets the delay before the first retry of the run; with
// a factor above 1 (see [WithRetryFactor]) later delays grow exponentially.
// Without it the runtime's invocation retry policy decides the delay.
func WithRetryInterval(d time.Duration) RunOption {
	return runOption(func(r *runConfig) { r.policy.InitialInterval = d })
}

// WithRetryFactor sets the exponential backoff factor of the run's retries.
func WithRetryFactor(f float64) RunOption {
	return runOption(func(r *runConfig) { r.policy.Factor = f })
}

// WithMaxRetryInterval caps the delay between retries of the run.
func WithMaxRetryInterval(d time.Duration) RunOption {
	return runOption(func(r *runConfig) { r.policy.MaxInterval = d })
}

// WithPauseOnMaxAttempts pauses the invocation instead of failing the run
// when its retries are exhausted (protocol V7; older versions fail the
// attempt with code 573).
func WithPauseOnMaxAttempts() RunOption {
	return runOption(func(r *runConfig) { r.policy.OnMax = replay.PauseOnMaxAttempts })
}

// Run executes fn once and journals its result: on replay it returns the
// journaled result without executing fn again. A terminal error from fn is
// journaled as the run's result; any other error is retried according to
// the run's retry policy (forever by default), and once the policy is
// exhausted it becomes a terminal error. A retryable error therefore never
// returns to the handler: the attempt ends and Restate retries it, so the
// error Run returns is always terminal (or a cancellation or misuse error).
//
// Each run adds one journal entry, and one round trip to the runtime when
// not replaying: the result is only returned once Restate stored it.
func Run[T any](ctx Context, fn func(RunContext) (T, error), opts ...RunOption) (T, error) {
	return runAndAwait(ctx, fn, opts)
}

// RunVoid is [Run] for side effects without a result.
func RunVoid(ctx Context, fn func(RunContext) error, opts ...RunOption) error {
	_, err := runAndAwait(ctx, func(rc RunContext) (Void, error) { return Void{}, fn(rc) }, opts)
	return err
}

// runAndAwait is RunAsync(...).Await(). It journals the run with
// replay.(*Machine).RunAwait, which, when the journal already holds the
// run's result (a replay), also awaits and takes it in the same critical
// section: the engine sees the same calls in the same order as with a
// separate await, so nothing changes but the cost.
func runAndAwait[T any](ctx Context, fn func(RunContext) (T, error), opts []RunOption) (T, error) {
	hc := ctx.base()
	cfg := runConfig{codec: JSON}
	if len(opts) > 0 {
		cfg = runOptions(opts)
	}
	if fn == nil {
		var zero T
		return zero, errNilRun
	}
	var (
		r   replay.RunAwaited
		res wire.Result
	)
	err := hc.inv.Do(func(m *replay.Machine) error {
		// The closure does not escape: Do calls it.
		var err error
		r, err = m.RunAwait(cfg.name, &res)
		if err == nil && r.NeedsExecution {
			registerRun(hc, r.Handle, fn, cfg)
		}
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	if !r.NeedsExecution {
		switch r.Status {
		case replay.StatusReady:
			v, err := convertValue[T](res, cfg.codec, "run")
			if err != nil && cfg.name != "" && !IsTerminal(err) {
				err = fmt.Errorf("%s: %w", runName(cfg.name), err)
			}
			return v, err
		case replay.StatusCancelled:
			var zero T
			return zero, cancelledError()
		}
		// A cancellation in progress waits for input (the invocation id of
		// a child call): awaiting the run's future continues it.
	}
	return newNamedValueLeaf[T](hc.inv, r.Handle, cfg.codec, "run", cfg.name).Await()
}

var errNilRun = errors.New("restate: Run with a nil function")

// RunAsync journals a run and returns the future of its result. fn executes
// when the future (or a combinator containing it) is first awaited and the
// journal does not hold its result yet; it runs on the handler's goroutine.
func RunAsync[T any](ctx Context, fn func(RunContext) (T, error), opts ...RunOption) Future[T] {
	hc := ctx.base()
	cfg := runConfig{codec: JSON}
	if len(opts) > 0 {
		cfg = runOptions(opts)
	}
	if fn == nil {
		return failedFuture[T](hc.inv, errNilRun)
	}
	var h replay.Handle
	err := hc.inv.Do(func(m *replay.Machine) error {
		var (
			needs bool
			err   error
		)
		h, needs, err = m.Run(cfg.name)
		if err == nil && needs {
			registerRun(hc, h, fn, cfg)
		}
		return err
	})
	return issued(hc.inv, h, err, asNamedValue[T](cfg.codec, "run", cfg.name))
}

// registerRun registers the closure of a run that needs execution. It takes
// the configuration by value, so that only a run that executes moves it to
// the heap, not every replayed one.
func registerRun[T any](hc *handlerContext, h replay.Handle, fn func(RunContext) (T, error), cfg runConfig) {
	hc.inv.RegisterRun(h, func(runCtx context.Context) (replay.RunOutcome, replay.RetryPolicy) {
		return runOutcome(hc, runCtx, fn, &cfg), cfg.policy
	})
}

// runOptions applies opts to the default configuration. It is apart from
// RunAsync so that a run without options does not move its configuration
// to the heap (options take it by pointer, through an interface).
func runOptions(opts []RunOption) runConfig {
	cfg := &runConfig{codec: JSON}
	for _, o := range opts {
		if o != nil {
			o.applyRun(cfg)
		}
	}
	return *cfg
}

func runName(name string) string {
	if name == "" {
		return "run"
	}
	return fmt.Sprintf("run %q", name)
}

func runOutcome[T any](hc *handlerContext, runCtx context.Context, fn func(RunContext) (T, error), cfg *runConfig) replay.RunOutcome {
	v, err := fn(runContext{Context: runCtx, hc: hc})
	if err != nil {
		var te *TerminalError
		if errors.As(err, &te) {
			return replay.RunOutcome{Result: wrappedFailure(err, te)}
		}
		re := &replay.Error{Code: replay.CodeInternal, Message: fmt.Sprintf("%s failed: %v", runName(cfg.name), err)}
		var ra *retryAfterError
		if errors.As(err, &ra) {
			re.NextRetryDelay = ra.delay
		}
		return replay.RunOutcome{Retryable: re}
	}
	b, err := encode(cfg.codec, v)
	if err != nil {
		return replay.RunOutcome{Retryable: &replay.Error{Code: replay.CodeInternal,
			Message: fmt.Sprintf("%s: cannot encode the result %T: %v", runName(cfg.name), v, err)}}
	}
	return replay.RunOutcome{Result: wire.ValueResult(nonNil(b))}
}

// Now returns the current time, journaled with a run so that replays see the
// same instant, in whole milliseconds. It reads the transport's clock: the
// wall clock, or under restatetest its virtual clock, so a handler that
// uses Now (a rate limiter, a deadline) is tested with Env.Advance.
func Now(ctx Context) (time.Time, error) {
	inv := ctx.base().inv
	ms, err := Run(ctx, func(RunContext) (int64, error) { return inv.Now().UnixMilli(), nil }, WithName("now"))
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(ms), nil
}

// SleepOption configures a timer: [WithName].
type SleepOption interface {
	applySleep(*sleepConfig)
}

type sleepConfig struct{ name string }

// After starts a durable timer and returns the future of its firing. The
// timer survives restarts; while it runs the handler can suspend.
func After(ctx Context, d time.Duration, opts ...SleepOption) Future[Void] {
	hc := ctx.base()
	var cfg sleepConfig
	for _, o := range opts {
		if o != nil {
			o.applySleep(&cfg)
		}
	}
	wake := dueMillis(hc.inv.Now(), d)
	h, err := hc.inv.Sleep(wake, cfg.name)
	return issued(hc.inv, h, err, byConv(voidConv))
}

// dueMillis is the due time, in whole milliseconds since the epoch, of
// something d after now. It rounds up: due times are whole milliseconds,
// and a timer of d must never fire before d has passed. Rounding down
// would fire it up to a millisecond early.
func dueMillis(now time.Time, d time.Duration) uint64 {
	t := now.Add(d)
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return uint64(ms)
}

// Sleep waits for a durable timer of d. On replay it returns as soon as the
// journal shows the timer fired.
func Sleep(ctx Context, d time.Duration, opts ...SleepOption) error {
	_, err := After(ctx, d, opts...).Await()
	return err
}

// ---------------------------------------------------------------------------
// Awakeables

// Awakeable is a future completed from outside the invocation: by another
// handler ([ResolveAwakeable]) or through the ingress, using its ID.
type Awakeable[T any] struct {
	Future[T]
	id string
}

// ID returns the awakeable's id, to hand to whoever completes it.
func (a Awakeable[T]) ID() string { return a.id }

// NewAwakeable creates an awakeable whose value is decoded with JSON.
func NewAwakeable[T any](ctx Context) Awakeable[T] {
	hc := ctx.base()
	h, id, err := hc.inv.Awakeable()
	if err != nil {
		return Awakeable[T]{Future: failedFuture[T](hc.inv, err)}
	}
	return Awakeable[T]{Future: issued(hc.inv, h, nil, asNamedValue[T](JSON, "awakeable", id)), id: id}
}

// ResolveAwakeable completes the awakeable id with value (encoded as JSON).
func ResolveAwakeable[T any](ctx Context, id string, value T) error {
	b, err := encode(JSON, value)
	if err != nil {
		return fmt.Errorf("restate: cannot encode the awakeable value: %w", err)
	}
	return ctx.base().inv.CompleteAwakeable(id, wire.ValueResult(nonNil(b)))
}

// RejectAwakeable fails the awakeable id with a terminal error built from
// reason (its code and metadata when it is a *TerminalError).
func RejectAwakeable(ctx Context, id string, reason error) error {
	return ctx.base().inv.CompleteAwakeable(id, failureResult(asTerminal(reason)))
}

func asTerminal(err error) *TerminalError {
	var te *TerminalError
	if errors.As(err, &te) {
		if err != error(te) {
			// The wrapping text travels, as for a handler's error.
			return &TerminalError{Code: te.Code, Message: err.Error(), Metadata: te.Metadata, Err: err}
		}
		return te
	}
	if err == nil {
		return &TerminalError{Message: "rejected"}
	}
	return &TerminalError{Message: err.Error()}
}

// ---------------------------------------------------------------------------
// Named signals

// Signal returns the future of the named signal of this invocation, decoded
// with JSON. Another handler sends it with [ResolveSignal] or
// [RejectSignal] and this invocation's id.
func Signal[T any](ctx Context, name string) Future[T] {
	hc := ctx.base()
	h, err := hc.inv.Signal(name)
	return issued(hc.inv, h, err, asNamedValue[T](JSON, "signal", name))
}

// ResolveSignal sends the named signal with value to another invocation.
func ResolveSignal[T any](ctx Context, invocationID, name string, value T) error {
	b, err := encode(JSON, value)
	if err != nil {
		return fmt.Errorf("restate: cannot encode the signal value: %w", err)
	}
	return ctx.base().inv.SendSignal(invocationID, name, wire.ValueResult(nonNil(b)))
}

// RejectSignal fails the named signal of another invocation with a terminal
// error built from reason.
func RejectSignal(ctx Context, invocationID, name string, reason error) error {
	return ctx.base().inv.SendSignal(invocationID, name, failureResult(asTerminal(reason)))
}

// ---------------------------------------------------------------------------
// Durable promises

// DurablePromise is a workflow's named promise: the run handler or a shared
// handler awaits it, another resolves it; it survives the run handler.
type DurablePromise[T any] struct {
	hc   *handlerContext
	name string
}

// Promise returns the workflow's durable promise name, with values encoded
// as JSON.
func Promise[T any](ctx WorkflowSharedContext, name string) DurablePromise[T] {
	return DurablePromise[T]{hc: ctx.base(), name: name}
}

// Result returns the future of the promise's value: it completes when the
// promise is resolved or rejected.
func (p DurablePromise[T]) Result() Future[T] {
	h, err := p.hc.inv.GetPromise(p.name)
	return issued(p.hc.inv, h, err, asNamedValue[T](JSON, "promise", p.name))
}

// Peek returns the future of the promise's value if it is completed
// (Maybe.Ok false otherwise), without waiting for it.
func (p DurablePromise[T]) Peek() Future[Maybe[T]] {
	h, err := p.hc.inv.PeekPromise(p.name)
	if err != nil {
		return failedFuture[Maybe[T]](p.hc.inv, err)
	}
	return issued(p.hc.inv, h, nil, byConv(maybeConv[T](JSON, fmt.Sprintf("promise %q", p.name))))
}

// Resolve completes the promise with value. It fails with a terminal error
// when the promise was already completed.
func (p DurablePromise[T]) Resolve(value T) error {
	b, err := encode(JSON, value)
	if err != nil {
		return fmt.Errorf("restate: cannot encode the promise value: %w", err)
	}
	return p.complete(wire.ValueResult(nonNil(b)))
}

// Reject completes the promise with a terminal error built from reason. It
// fails with a terminal error when the promise was already completed.
func (p DurablePromise[T]) Reject(reason error) error {
	return p.complete(failureResult(asTerminal(reason)))
}

func (p DurablePromise[T]) complete(r wire.Result) error {
	h, err := p.hc.inv.CompletePromise(p.name, r)
	if err != nil {
		return err
	}
	_, err = newLeaf(p.hc.inv, h, voidConv).Await()
	return err
}

// leafKind says how the future of a command decodes its result: with conv,
// or else as a value or terminal failure decoded with codec, named what
// (and name) in errors.
type leafKind[T any] struct {
	conv       func(wire.Result) (T, error)
	codec      Codec
	what, name string
}

// byConv is the leafKind of a result that conv decodes.
func byConv[T any](conv func(wire.Result) (T, error)) leafKind[T] {
	return leafKind[T]{conv: conv}
}

// asValue is the leafKind of a value decoded with c.
func asValue[T any](c Codec, what string) leafKind[T] {
	return leafKind[T]{codec: c, what: what}
}

// asNamedValue is the leafKind of a value decoded with c, for an operation
// with a name (a run, a signal, a promise); the error text is only built
// when needed.
func asNamedValue[T any](c Codec, what, name string) leafKind[T] {
	return leafKind[T]{codec: c, what: what, name: name}
}

// issued returns the future of the command whose handle is h, or a failed
// future with err when issuing the command failed: the one way every
// operation that issues a command turns its outcome into a future.
func issued[T any](inv *invocation.Invocation, h replay.Handle, err error, k leafKind[T]) Future[T] {
	if err != nil {
		return failedFuture[T](inv, err)
	}
	if k.conv != nil {
		return newLeaf(inv, h, k.conv)
	}
	if k.name != "" {
		return newNamedValueLeaf[T](inv, h, k.codec, k.what, k.name)
	}
	return newValueLeaf[T](inv, h, k.codec, k.what)
}
