package restatetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/wire"
)

// CallOption configures [Call]: [WithIdempotencyKey], [WithHeaders],
// [WithFailureAt].
type CallOption interface {
	applyCall(*requestConfig)
}

// SendOption configures [Send] and [Submit]: [WithIdempotencyKey],
// [WithHeaders], [WithDelay], [WithFailureAt].
type SendOption interface {
	applySend(*requestConfig)
}

// RequestOption is an option accepted by both [Call] and [Send].
type RequestOption interface {
	CallOption
	SendOption
}

type requestConfig struct {
	idempotencyKey string
	headers        map[string]string
	delay          time.Duration
	failAt         int
}

type requestOption func(*requestConfig)

func (o requestOption) applyCall(c *requestConfig) { o(c) }
func (o requestOption) applySend(c *requestConfig) { o(c) }

type sendOption func(*requestConfig)

func (o sendOption) applySend(c *requestConfig) { o(c) }

// WithIdempotencyKey makes the request idempotent: requests to the same
// target with the same key start one invocation, and later ones get its
// result (Call) or its id with status [ingress.SendStatusPreviouslyAccepted]
// (Send), until its idempotency retention (one day by default) runs out on
// the virtual clock. Workflow run handlers reject it with a 400 [*ingress.Error].
func WithIdempotencyKey(key string) RequestOption {
	return requestOption(func(c *requestConfig) { c.idempotencyKey = key })
}

// WithHeaders adds headers to the request; the handler sees them, with
// lowercase names, in Request().Headers. Repeated options add up.
func WithHeaders(h map[string]string) RequestOption {
	return requestOption(func(c *requestConfig) {
		if c.headers == nil {
			c.headers = make(map[string]string, len(h))
		}
		for k, v := range h {
			c.headers[strings.ToLower(k)] = v
		}
	})
}

// WithDelay starts the invocation after d on the virtual clock instead of
// right away.
func WithDelay(d time.Duration) SendOption {
	return sendOption(func(c *requestConfig) { c.delay = d })
}

// WithFailureAt makes the first attempt of the invocation that writes a
// command at journal index index or later (see [Entry.Index]) fail just
// before the runtime stores it, as if the process crashed there: the
// runtime keeps the entries before it and retries after the retry policy's
// backoff. Use it to test that a handler recovers from a crash at any
// point: runs journaled before the index are not executed again. When the
// entry at index is a notification, the failure hits the next command.
// Index 0 is the input, which the handler never writes: 0 or less means
// no failure.
func WithFailureAt(index int) RequestOption {
	return requestOption(func(c *requestConfig) { c.failAt = index })
}

func newRequest[In, Out any](t restate.Target[In, Out], in In, cfg requestConfig, send bool) (request, error) {
	q := request{service: t.Service, handler: t.Handler, key: t.Key, idem: cfg.idempotencyKey, failAt: -1, ingress: true}
	if cfg.failAt > 0 {
		q.failAt = cfg.failAt
	}
	path := "/" + t.Service
	if t.Key != "" {
		path += "/" + t.Key
	}
	path += "/" + t.Handler
	if send {
		path += "/send"
	}
	headers := map[string]string{"x-restate-ingress-path": path}
	if t.HasInput() {
		b, err := t.Encode(in)
		if err != nil {
			return q, fmt.Errorf("restatetest: cannot encode the input of %s: %w", t, err)
		}
		if b == nil {
			b = []byte{}
		}
		q.input = b
		headers["content-type"] = t.ContentType()
	}
	maps.Copy(headers, cfg.headers)
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		q.headers = append(q.headers, wire.HeaderEntry{Key: k, Value: headers[k]})
	}
	return q, nil
}

// Call invokes the target with in and waits for its result, as
// ingress.Call does through restate-server. A terminal failure of the
// invocation is returned as a *restate.TerminalError; a request the ingress
// would reject as an [*ingress.Error]. While it waits and nothing else can run,
// the virtual clock jumps to the next timer (unless [WithManualClock]).
// ctx bounds the wait; the error then says what the invocation waits for.
func Call[In, Out any](ctx context.Context, env *Env, t restate.Target[In, Out], in In, opts ...CallOption) (Out, error) {
	var zero Out
	var cfg requestConfig
	for _, o := range opts {
		if o != nil {
			o.applyCall(&cfg)
		}
	}
	q, err := newRequest(t, in, cfg, false)
	if err != nil {
		return zero, err
	}
	_, res, err := env.call(ctx, q)
	if err != nil {
		return zero, err
	}
	return decodeResult(t.Decode, res, t.String())
}

// call submits q and waits for its result; it returns the invocation's
// id with it.
func (e *Env) call(ctx context.Context, q request) (string, wire.Result, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return "", wire.Result{}, errClosed
	}
	r, existed, err := e.submit(q)
	if err != nil {
		e.mu.Unlock()
		return "", wire.Result{}, err
	}
	c := e.newClient(true)
	if existed && r.workflowRun() {
		e.answer(c, outcome{res: failureWorkflowInvoked})
	} else {
		e.await(r, waiter{client: c})
	}
	e.mu.Unlock()
	e.wake()
	res, err := e.wait(ctx, r, c)
	return r.id, res, err
}

// attach waits for the result of the invocation find returns; r is nil
// when there is none.
func (e *Env) attach(ctx context.Context, find func(*Env) *record) (r *record, res wire.Result, err error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, res, errClosed
	}
	r = find(e)
	if r == nil {
		e.mu.Unlock()
		return nil, res, nil
	}
	c := e.newClient(true)
	e.await(r, waiter{client: c})
	e.mu.Unlock()
	e.wake()
	res, err = e.wait(ctx, r, c)
	return r, res, err
}

// output returns the result of the invocation find returns if it
// completed; r is nil when there is none.
func (e *Env) output(find func(*Env) *record) (r *record, res wire.Result, done bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r = find(e)
	if r == nil {
		return nil, res, false
	}
	return r, r.result, r.status == statusCompleted
}

// wait waits for c's answer about r, or for ctx to end.
func (e *Env) wait(ctx context.Context, r *record, c *client) (wire.Result, error) {
	select {
	case o := <-c.ch:
		return o.res, o.err
	case <-ctx.Done():
	}
	e.mu.Lock()
	if c.answered {
		e.mu.Unlock()
		o := <-c.ch
		return o.res, o.err
	}
	r.waiters = slices.DeleteFunc(r.waiters, func(w waiter) bool { return w.client == c })
	c.answered = true
	if c.blocking {
		e.blocked--
	}
	desc := e.describeWait(r)
	e.mu.Unlock()
	return wire.Result{}, fmt.Errorf("restatetest: %w while waiting for %s", ctx.Err(), desc)
}

// describeWait says what r is doing, for errors of clients that gave up.
func (e *Env) describeWait(r *record) string {
	in := e.info(r)
	s := fmt.Sprintf("%s (%s), which is %s", r.id, r.target(), in.Status)
	if len(in.Awaiting) > 0 {
		s += " waiting for " + strings.Join(in.Awaiting, ", ")
	}
	if in.LastFailure != "" {
		s += "; last failure " + in.LastFailure
	}
	return s
}

func decodeResult[Out any](decode func([]byte) (Out, error), res wire.Result, what string) (Out, error) {
	var zero Out
	switch res.Kind {
	case wire.ResultFailure:
		return zero, terminal(res.Failure)
	case wire.ResultValue, wire.ResultVoid:
		v, err := decode(res.Value)
		if err != nil {
			return zero, fmt.Errorf("restatetest: cannot decode the result of %s into %T: %w", what, zero, err)
		}
		return v, nil
	}
	return zero, fmt.Errorf("restatetest: unexpected result %s of %s", res.Kind, what)
}

func terminal(f wire.Failure) error {
	te := &restate.TerminalError{Code: restate.Code(f.Code), Message: f.Message}
	if len(f.Metadata) > 0 {
		te.Metadata = make(map[string]string, len(f.Metadata))
		for _, m := range f.Metadata {
			te.Metadata[m.Key] = m.Value
		}
	}
	return te
}

// Send starts an invocation of the target with in and returns at once
// with a handle to attach to it later, as ingress.Send does. With
// [WithDelay] the invocation starts after the delay on the virtual clock.
// The invocation runs on the environment's goroutines; use [Env.Settle] to
// wait until it cannot make more progress.
func Send[In, Out any](ctx context.Context, env *Env, t restate.Target[In, Out], in In, opts ...SendOption) (Invocation[Out], error) {
	var cfg requestConfig
	for _, o := range opts {
		if o != nil {
			o.applySend(&cfg)
		}
	}
	q, err := newRequest(t, in, cfg, true)
	if err != nil {
		return Invocation[Out]{}, err
	}
	id, status, err := env.send(ctx, q, cfg.delay)
	if err != nil {
		return Invocation[Out]{}, err
	}
	inv := ByID(env, t, id)
	inv.status = status
	return inv, nil
}

func (e *Env) send(ctx context.Context, q request, delay time.Duration) (string, ingress.SendStatus, error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return "", "", errClosed
	}
	if delay > 0 {
		q.at = e.now().Add(delay)
	}
	r, existed, err := e.submit(q)
	if err != nil {
		return "", "", err
	}
	e.wake()
	if existed {
		return r.id, ingress.SendStatusPreviouslyAccepted, nil
	}
	return r.id, ingress.SendStatusAccepted, nil
}

// Submit starts the run handler of a workflow (t is the run handler's
// target with the workflow key) and returns a handle that attaches by the
// workflow key, as ingress.Submit does. A workflow key runs once:
// submitting it again starts nothing and returns status
// [ingress.SendStatusPreviouslyAccepted].
func Submit[In, Out any](ctx context.Context, env *Env, t restate.Target[In, Out], in In, opts ...SendOption) (Invocation[Out], error) {
	if t.Key == "" {
		return Invocation[Out]{}, fmt.Errorf("restatetest: Submit %s: a workflow target needs the workflow key; use the run handler's Target(key)", t)
	}
	inv, err := Send(ctx, env, t, in, opts...)
	if err != nil {
		return inv, err
	}
	h := ByWorkflow(env, t)
	h.id, h.status = inv.id, inv.status
	return h, nil
}

// Invocation is a handle on an invocation: one started with [Send] or
// [Submit], or one found again with [ByID], [ByIdempotencyKey] or
// [ByWorkflow]. It is a small value; copies are equivalent.
type Invocation[Out any] struct {
	env    *Env
	err    error // the handle is malformed
	find   func(*Env) *record
	what   string
	id     string
	status ingress.SendStatus
	decode func([]byte) (Out, error)
}

// ID returns the invocation id (inv_…), or "" for a handle made with
// [ByIdempotencyKey] or [ByWorkflow], which find the invocation by key.
func (i Invocation[Out]) ID() string { return i.id }

// Status says whether the [Send] or [Submit] that returned the handle
// started a new invocation; it is "" for handles made otherwise.
func (i Invocation[Out]) Status() ingress.SendStatus { return i.status }

// Attach waits for the invocation to complete and returns its result, or
// its terminal failure as a *restate.TerminalError; an unknown invocation
// (or one whose retention expired) is a terminal failure with code 404, a
// malformed id a 400 [*ingress.Error], as through restate-server's ingress.
// While it waits and nothing else can run, the virtual clock jumps to the
// next timer (unless [WithManualClock]).
func (i Invocation[Out]) Attach(ctx context.Context) (Out, error) {
	var zero Out
	if i.env == nil {
		return zero, errors.New("restatetest: Attach on a zero Invocation")
	}
	if i.err != nil {
		return zero, i.err
	}
	r, res, err := i.env.attach(ctx, i.find)
	switch {
	case err != nil:
		return zero, err
	case r == nil:
		return zero, terminal(failureNotFound.Failure)
	}
	return decodeResult(i.decode, res, i.what)
}

// Output returns the invocation's result if it has completed, with Ok
// false if it has not, without waiting. A terminal failure is returned as
// a *restate.TerminalError; an unknown invocation is an [*ingress.Error] with
// status 404.
func (i Invocation[Out]) Output(ctx context.Context) (restate.Maybe[Out], error) {
	if i.env == nil {
		return restate.Maybe[Out]{}, errors.New("restatetest: Output on a zero Invocation")
	}
	if err := ctx.Err(); err != nil {
		return restate.Maybe[Out]{}, err
	}
	if i.err != nil {
		return restate.Maybe[Out]{}, i.err
	}
	r, res, done := i.env.output(i.find)
	if r == nil {
		return restate.Maybe[Out]{}, &ingress.Error{StatusCode: 404, Message: "invocation not found"}
	}
	if !done {
		return restate.Maybe[Out]{}, nil
	}
	v, err := decodeResult(i.decode, res, i.what)
	if err != nil {
		return restate.Maybe[Out]{}, err
	}
	return restate.Maybe[Out]{Value: v, Ok: true}, nil
}

// ByID returns a handle on the invocation id of the target t. Only the
// output type and codec of t are used: the id alone names the invocation.
func ByID[In, Out any](env *Env, t restate.Target[In, Out], id string) Invocation[Out] {
	inv := Invocation[Out]{env: env, id: id, what: "invocation " + id, decode: t.Decode,
		find: func(e *Env) *record { return e.records[id] }}
	if err := checkInvocationID(id); err != nil {
		inv.err = &ingress.Error{StatusCode: 400, Message: fmt.Sprintf("bad invocation id '%s': %v", id, err)}
	}
	return inv
}

// ByIdempotencyKey returns a handle on the invocation of t (with its key,
// for virtual objects) started with idempotency key idempotencyKey.
func ByIdempotencyKey[In, Out any](env *Env, t restate.Target[In, Out], idempotencyKey string) Invocation[Out] {
	k := idemKey{t.Service, t.Key, t.Handler, idempotencyKey}
	return Invocation[Out]{env: env, what: fmt.Sprintf("%s with idempotency key %q", t, idempotencyKey), decode: t.Decode,
		find: func(e *Env) *record { return e.idem[k] }}
}

// ByWorkflow returns a handle on the run of the workflow key of t, the
// workflow's run handler target (its handler name is not used).
func ByWorkflow[In, Out any](env *Env, t restate.Target[In, Out]) Invocation[Out] {
	k := objectKey{t.Service, t.Key}
	return Invocation[Out]{env: env, what: fmt.Sprintf("workflow %s/%s", t.Service, t.Key), decode: t.Decode,
		find: func(e *Env) *record {
			if o := e.objects[k]; o != nil {
				return o.run
			}
			return nil
		}}
}

// ResolveAwakeable completes the awakeable id with value, encoded as JSON
// like the values restate.NewAwakeable decodes; its invocation resumes
// with the value. An id that names no invocation is ignored, as by
// restate-server; a malformed one is a 400 [*ingress.Error].
func ResolveAwakeable[T any](ctx context.Context, env *Env, id string, value T) error {
	b, err := restate.JSON.Marshal(value)
	if err != nil {
		return fmt.Errorf("restatetest: cannot encode the value of awakeable %s: %w", id, err)
	}
	if b == nil {
		b = []byte{}
	}
	return env.completeAwakeable(ctx, id, wire.ValueResult(b))
}

// RejectAwakeable fails the awakeable id: its invocation's await returns a
// terminal error with code 500 and reason as the message, as through the
// ingress.
func RejectAwakeable(ctx context.Context, env *Env, id, reason string) error {
	return env.completeAwakeable(ctx, id, wire.FailureResult(500, reason))
}

func (e *Env) completeAwakeable(ctx context.Context, id string, res wire.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bin, sig, err := parseAwakeableID(id)
	if err != nil {
		return &ingress.Error{StatusCode: 400, Message: err.Error()}
	}
	e.mu.Lock()
	if r := e.byBin[string(bin)]; r != nil {
		e.deliver(r, &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(sig), Result: res})
	}
	e.mu.Unlock()
	e.wake()
	return nil
}

// ResolveSignal sends the named signal with value (encoded as JSON, as
// restate.Signal decodes it) to the invocation id, as a handler does with
// restate.ResolveSignal. It fails with a 404 [*ingress.Error] for an unknown id
// and a 400 one for a malformed id.
func ResolveSignal[T any](ctx context.Context, env *Env, invocationID, name string, value T) error {
	b, err := restate.JSON.Marshal(value)
	if err != nil {
		return fmt.Errorf("restatetest: cannot encode the value of signal %q: %w", name, err)
	}
	if b == nil {
		b = []byte{}
	}
	return env.signal(ctx, invocationID, name, wire.ValueResult(b))
}

// RejectSignal fails the named signal of the invocation id with a
// terminal error with code 500 and reason as the message.
func RejectSignal(ctx context.Context, env *Env, invocationID, name, reason string) error {
	return env.signal(ctx, invocationID, name, wire.FailureResult(500, reason))
}

func (e *Env) signal(ctx context.Context, id, name string, res wire.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, err := e.lookupForAdmin(id)
	if err != nil {
		return err
	}
	defer e.mu.Unlock()
	e.deliver(r, &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.NamedSignalID(name), Result: res})
	e.wake()
	return nil
}

// CancelInvocation cancels the invocation id gracefully, as
// ingress.Admin.CancelInvocation does: its pending and future awaits fail
// with a terminal error with code 409, so it can run compensations, and it
// cancels its child calls. An invocation that has not started yet (delayed,
// or waiting for its key's lock) ends at once with 409 "canceled".
// Cancelling a completed invocation is a 409 [*ingress.Error], an unknown id a
// 404 one and a malformed id a 400 one, as from the admin API.
func (e *Env) CancelInvocation(ctx context.Context, id string) error {
	return e.terminate(ctx, id, e.cancelRecord)
}

// KillInvocation ends the invocation id at once with a terminal failure
// 409 "killed", without running any more of its code, and kills the
// invocations it called or sent to, as ingress.Admin.KillInvocation does.
// State changes it journaled stay. Killing a completed invocation is a 409
// [*ingress.Error], an unknown id a 404 one and a malformed id a 400 one.
func (e *Env) KillInvocation(ctx context.Context, id string) error {
	return e.terminate(ctx, id, e.kill)
}

func (e *Env) terminate(ctx context.Context, id string, fn func(*record)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, err := e.lookupForAdmin(id)
	if err != nil {
		return err
	}
	defer e.mu.Unlock()
	if r.status == statusCompleted {
		return &ingress.Error{StatusCode: 409, Message: fmt.Sprintf("The invocation '%s' was already completed.", id)}
	}
	fn(r)
	e.wake()
	return nil
}

// lookupForAdmin finds the invocation id and returns with the lock held,
// or fails as the admin API does: 400 for a malformed id, 404 for an
// unknown one.
func (e *Env) lookupForAdmin(id string) (*record, error) {
	if err := checkInvocationID(id); err != nil {
		return nil, &ingress.Error{StatusCode: 400, Message: fmt.Sprintf("The request field 'invocation_id' is invalid. Reason: %v", err)}
	}
	e.mu.Lock()
	r := e.records[id]
	if r == nil {
		e.mu.Unlock()
		return nil, &ingress.Error{StatusCode: 404, Message: fmt.Sprintf("The requested invocation '%s' does not exist", id)}
	}
	return r, nil
}
