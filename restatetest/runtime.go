package restatetest

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"time"

	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/wire"
)

// status is the lifecycle state of an invocation, named as restate-server's
// sys_invocation table names it.
type status uint8

const (
	statusScheduled  status = iota + 1 // a delayed send, not started yet
	statusInboxed                      // waits for its key's exclusive lock
	statusReady                        // waits for its turn to run an attempt
	statusRunning                      // an attempt is open
	statusSuspended                    // waits for a notification
	statusBackingOff                   // waits to retry after a failed attempt
	statusPaused                       // stopped retrying
	statusCompleted                    // has a result
)

func (s status) String() string {
	switch s {
	case statusScheduled:
		return "scheduled"
	case statusInboxed:
		return "pending"
	case statusReady:
		return "ready"
	case statusRunning:
		return "running"
	case statusSuspended:
		return "suspended"
	case statusBackingOff:
		return "backing-off"
	case statusPaused:
		return "paused"
	case statusCompleted:
		return "completed"
	}
	return "unknown"
}

// record is one invocation, as the runtime stores it.
type record struct {
	id      string
	bin     []byte
	seed    uint64
	svc     *endpoint.Service
	h       *endpoint.Handler
	key     string
	idem    string
	obj     *object // keyed invocations: the object or workflow instance
	journal []wire.Message
	status  status
	queued  bool // in the run queue
	// awaited is what the last suspension waits for.
	awaited     map[wire.NotificationID]bool
	result      wire.Result
	createdAt   time.Time
	completedAt time.Time
	waiters     []waiter
	children    []*record // invocations it called or sent to
	caller      *record
	att         *attempt
	attempts    int
	failures    int    // failed attempts since the last suspension
	retryCount  uint32 // failed attempts since the last stored command
	lastStored  time.Time
	lastFailure string
	failAt      int // inject a failure before this journal index; -1 = none
	gen         int // invalidates timers of an earlier backoff
	purged      bool
}

func (r *record) target() string {
	if r.key == "" {
		return r.svc.Name + "/" + r.h.Name
	}
	return r.svc.Name + "/" + r.key + "/" + r.h.Name
}

func (r *record) workflowRun() bool {
	return r.svc.Kind == endpoint.KindWorkflow && r.h.Kind == endpoint.HandlerWorkflow
}

// exclusive reports whether the handler takes its key's lock: exclusive
// object handlers and workflow run handlers.
func exclusive(svc *endpoint.Service, h *endpoint.Handler) bool {
	switch svc.Kind {
	case endpoint.KindVirtualObject:
		return h.Kind != endpoint.HandlerShared
	case endpoint.KindWorkflow:
		return h.Kind == endpoint.HandlerWorkflow
	}
	return false
}

// object is the stored state of one virtual object or workflow key.
type object struct {
	state    map[string][]byte
	holder   *record // holds the exclusive lock
	inbox    []*record
	promises map[string]wire.Result
	// promiseWaiters are the GetPromise commands waiting per promise.
	promiseWaiters map[string][]completionTarget
	run            *record // workflows: the run invocation of the key
}

func (e *Env) object(service, key string) *object {
	k := objectKey{service, key}
	o := e.objects[k]
	if o == nil {
		o = &object{state: map[string][]byte{}, promises: map[string]wire.Result{}, promiseWaiters: map[string][]completionTarget{}}
		e.objects[k] = o
	}
	return o
}

// completionTarget is a completion id of an invocation's journal.
type completionTarget struct {
	r  *record
	id uint32
}

// waiter is someone waiting for an invocation's result: a caller's call
// or attach command, or a client.
type waiter struct {
	caller *record
	id     uint32
	typ    wire.Type
	client *client
}

// client is a Call or Attach of a test (or of the HTTP ingress) waiting
// for a result.
type client struct {
	ch       chan outcome
	blocking bool // counts as a waiting client for the clock
	answered bool
}

type outcome struct {
	res wire.Result
	err error
}

func (e *Env) newClient(blocking bool) *client {
	c := &client{ch: make(chan outcome, 1), blocking: blocking}
	if blocking {
		e.blocked++
	}
	return c
}

func (e *Env) answer(c *client, o outcome) {
	if c.answered {
		return
	}
	c.answered = true
	if c.blocking {
		e.blocked--
	}
	if len(e.reports) > 0 || e.reporting {
		// A client that learns about a violation must not get there before
		// the report: the test could end first, and t.Errorf after the end
		// of a test panics.
		e.held = append(e.held, heldAnswer{c, o})
		return
	}
	c.ch <- o
}

type heldAnswer struct {
	c *client
	o outcome
}

// release sends the answers held back until the reports were made.
func (e *Env) release() {
	for _, h := range e.held {
		h.c.ch <- h.o
	}
	e.held = nil
}

// request is a new invocation, from a client or a handler.
type request struct {
	service, handler, key string
	input                 []byte
	headers               []wire.HeaderEntry
	idem                  string
	at                    time.Time // when to start; zero or past = now
	failAt                int
	caller                *record
	ingress               bool // from a client: the ingress checks apply
}

// Known failures, as restate-server reports them.
var (
	failureKilled          = wire.FailureResult(409, "killed")
	failureCanceled        = wire.FailureResult(409, "canceled")
	failureNotFound        = wire.FailureResult(404, "not found")
	failurePromiseComplete = wire.FailureResult(409, "promise was already completed")
	failureWorkflowInvoked = wire.FailureResult(409, "the workflow method was already invoked")
)

// submit creates the invocation q asks for, or finds the one it duplicates
// (same idempotency key, or same workflow key for a run handler): existed
// is then true. Ingress requests fail with an *ingress.Error when the ingress would
// reject them; requests of handlers for unknown targets get an invocation
// that failed with 404.
func (e *Env) submit(q request) (r *record, existed bool, err error) {
	svc := e.services[q.service]
	var h *endpoint.Handler
	if svc != nil {
		h = svc.Handler(q.handler)
	}
	if h == nil {
		msg := fmt.Sprintf("the service '%s' exists, but the handler '%s' was not found, check that the handler exists in the latest registered service version.", q.service, q.handler)
		fail := wire.FailureResult(404, fmt.Sprintf("Service handler '%s/%s' not found. Check whether you've registered the correct version of your service.", q.service, q.handler))
		if svc == nil {
			msg = fmt.Sprintf("service '%s' not found, make sure to register the service before calling it.", q.service)
			fail = wire.FailureResult(404, fmt.Sprintf("Service '%s' not found. Check whether the deployment containing the service is registered.", q.service))
		}
		if q.ingress {
			return nil, false, &ingress.Error{StatusCode: 404, Message: msg}
		}
		return e.failed(q, fail), false, nil
	}
	keyed := svc.Kind != endpoint.KindService
	switch {
	case keyed && q.key == "":
		if q.ingress {
			return nil, false, &ingress.Error{StatusCode: 400, Message: "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler"}
		}
		return e.failed(q, wire.FailureResult(400, fmt.Sprintf("%s %q needs a key", svc.Kind, svc.Name))), false, nil
	case !keyed && q.key != "":
		if q.ingress {
			return nil, false, &ingress.Error{StatusCode: 400, Message: "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler"}
		}
		q.key = ""
	}
	if q.ingress {
		if private(svc, h) {
			return nil, false, &ingress.Error{StatusCode: 400, Message: "the invoked service is not public"}
		}
		if q.idem != "" && svc.Kind == endpoint.KindWorkflow && h.Kind == endpoint.HandlerWorkflow {
			return nil, false, &ingress.Error{StatusCode: 400, Message: "cannot use the idempotency key with workflow handlers. The handler invocation will already be idempotent by the workflow key itself."}
		}
	}
	if svc.Kind == endpoint.KindWorkflow && h.Kind == endpoint.HandlerWorkflow {
		q.idem = "" // the workflow key is the idempotency key
		if run := e.object(svc.Name, q.key).run; run != nil {
			return run, true, nil
		}
	}
	if q.idem != "" {
		if r := e.idem[idemKey{svc.Name, q.key, h.Name, q.idem}]; r != nil {
			return r, true, nil
		}
	}
	r = e.newRecord(svc, h, q)
	if q.at.After(e.now()) {
		r.status = statusScheduled
		e.after(q.at, func() {
			if r.status == statusScheduled {
				e.enqueue(r)
			}
		})
	} else {
		e.enqueue(r)
	}
	return r, false, nil
}

func private(svc *endpoint.Service, h *endpoint.Handler) bool {
	if p := h.Options.IngressPrivate; p != nil {
		return *p
	}
	return svc.Options.IngressPrivate != nil && *svc.Options.IngressPrivate
}

func (e *Env) newRecord(svc *endpoint.Service, h *endpoint.Handler, q request) *record {
	e.created++
	bin, id := newIDs(e.cfg.seed, e.created, svc.Name, q.key)
	hash := fnv.New64a()
	hash.Write(bin)
	now := e.now()
	r := &record{
		id:         id,
		bin:        bin,
		seed:       splitmix(hash.Sum64()),
		svc:        svc,
		h:          h,
		key:        q.key,
		idem:       q.idem,
		journal:    []wire.Message{&wire.InputCommand{Headers: q.headers, Value: q.input}},
		createdAt:  now,
		lastStored: now,
		failAt:     q.failAt,
		caller:     q.caller,
	}
	if svc.Kind != endpoint.KindService {
		r.obj = e.object(svc.Name, q.key)
		if r.workflowRun() {
			r.obj.run = r
		}
	}
	if q.idem != "" {
		e.idem[idemKey{svc.Name, q.key, h.Name, q.idem}] = r
	}
	e.records[id] = r
	e.byBin[string(bin)] = r
	e.order = append(e.order, r)
	return r
}

// failed records an invocation of an unknown or malformed target that
// failed at once, so that the caller gets an invocation id and a failure.
func (e *Env) failed(q request, res wire.Result) *record {
	svc := &endpoint.Service{Name: q.service, Kind: endpoint.KindService}
	h := &endpoint.Handler{Name: q.handler}
	q.key, q.idem = "", ""
	r := e.newRecord(svc, h, q)
	r.status = statusReady
	e.complete(r, res)
	return r
}

// enqueue makes a new invocation runnable, through its key's inbox when
// it needs the exclusive lock.
func (e *Env) enqueue(r *record) {
	if r.obj != nil && exclusive(r.svc, r.h) {
		if r.obj.holder != nil {
			r.status = statusInboxed
			r.obj.inbox = append(r.obj.inbox, r)
			return
		}
		r.obj.holder = r
	}
	e.makeReady(r)
}

func (e *Env) makeReady(r *record) {
	r.status = statusReady
	if !r.queued {
		r.queued = true
		e.ready = append(e.ready, task{r: r})
	}
}

// startNext starts the first task of the run queue.
func (e *Env) startNext() {
	t := e.ready[0]
	e.ready = e.ready[1:]
	if t.a != nil {
		e.resume(t.a)
		return
	}
	t.r.queued = false
	if t.r.status == statusReady {
		e.startAttempt(t.r)
	}
}

// await makes w wait for r's result; it is answered at once when r has
// completed.
func (e *Env) await(r *record, w waiter) {
	switch {
	case r.status == statusCompleted:
		e.respond(w, r.result)
	case r.status == statusPaused && w.client != nil:
		e.answer(w.client, outcome{err: pausedError(r)})
	default:
		r.waiters = append(r.waiters, w)
	}
}

func (e *Env) respond(w waiter, res wire.Result) {
	if w.client != nil {
		e.answer(w.client, outcome{res: res})
		return
	}
	e.deliver(w.caller, &wire.Notification{MessageType: w.typ, ID: wire.CompletionID(w.id), Result: res})
}

// deliver stores a notification in r's journal and routes it to the open
// attempt, or resumes r when its suspension waits for it.
func (e *Env) deliver(r *record, n *wire.Notification) {
	e.deliverFrame(r, n, nil)
}

// deliverFrame is deliver with the frame an open bidi attempt receives
// instead of the notification (a V7 run acknowledgement), when not nil.
func (e *Env) deliverFrame(r *record, n *wire.Notification, frame wire.Message) {
	if r.status == statusCompleted || r.purged {
		return
	}
	r.journal = append(r.journal, n)
	if a := r.att; a != nil {
		if a.feedable() {
			if frame == nil {
				frame = n
			}
			a.pending = wire.AppendFrame(a.pending, frame, 0)
			a.pendingIDs = append(a.pendingIDs, n.ID)
			if a.parked {
				e.queueResume(a)
			}
		} else {
			a.unseen = append(a.unseen, n.ID)
		}
		return
	}
	if r.status == statusSuspended && r.awaited[n.ID] {
		e.makeReady(r)
	}
}

// apply performs what the runtime does when it stores command c of r. The
// times the SDK journaled were read from the virtual clock (see
// Env.virtualNow).
func (e *Env) apply(r *record, c wire.Message) {
	o := r.obj
	switch c := c.(type) {
	case *wire.GetLazyStateCommand:
		res := wire.VoidResult()
		if o != nil {
			if v, ok := o.state[string(c.Key)]; ok {
				res = wire.ValueResult(v)
			}
		}
		e.deliver(r, &wire.Notification{MessageType: wire.TypeGetLazyStateCompletion, ID: wire.CompletionID(c.ResultCompletionID), Result: res})
	case *wire.GetLazyStateKeysCommand:
		var keys [][]byte
		if o != nil {
			for _, k := range slices.Sorted(maps.Keys(o.state)) {
				keys = append(keys, []byte(k))
			}
		}
		e.deliver(r, &wire.Notification{MessageType: wire.TypeGetLazyStateKeysCompletion, ID: wire.CompletionID(c.ResultCompletionID),
			Result: wire.Result{Kind: wire.ResultStateKeys, StateKeys: keys}})
	case *wire.SetStateCommand:
		if o != nil {
			o.state[string(c.Key)] = append([]byte{}, c.Value...)
		}
	case *wire.ClearStateCommand:
		if o != nil {
			delete(o.state, string(c.Key))
		}
	case *wire.ClearAllStateCommand:
		if o != nil {
			clear(o.state)
		}
	case *wire.GetPromiseCommand:
		if o == nil {
			return
		}
		if res, ok := o.promises[c.Key]; ok {
			e.deliver(r, &wire.Notification{MessageType: wire.TypeGetPromiseCompletion, ID: wire.CompletionID(c.ResultCompletionID), Result: res})
			return
		}
		o.promiseWaiters[c.Key] = append(o.promiseWaiters[c.Key], completionTarget{r, c.ResultCompletionID})
	case *wire.PeekPromiseCommand:
		res := wire.VoidResult()
		if o != nil {
			if v, ok := o.promises[c.Key]; ok {
				res = v
			}
		}
		e.deliver(r, &wire.Notification{MessageType: wire.TypePeekPromiseCompletion, ID: wire.CompletionID(c.ResultCompletionID), Result: res})
	case *wire.CompletePromiseCommand:
		id := wire.CompletionID(c.ResultCompletionID)
		if o == nil {
			return
		}
		if _, done := o.promises[c.Key]; done {
			e.deliver(r, &wire.Notification{MessageType: wire.TypeCompletePromiseCompletion, ID: id, Result: failurePromiseComplete})
			return
		}
		o.promises[c.Key] = c.Completion
		e.deliver(r, &wire.Notification{MessageType: wire.TypeCompletePromiseCompletion, ID: id, Result: wire.VoidResult()})
		for _, w := range o.promiseWaiters[c.Key] {
			e.deliver(w.r, &wire.Notification{MessageType: wire.TypeGetPromiseCompletion, ID: wire.CompletionID(w.id), Result: c.Completion})
		}
		delete(o.promiseWaiters, c.Key)
	case *wire.SleepCommand:
		id := wire.CompletionID(c.ResultCompletionID)
		e.after(time.UnixMilli(int64(c.WakeUpTime)), func() {
			e.deliver(r, &wire.Notification{MessageType: wire.TypeSleepCompletion, ID: id, Result: wire.VoidResult()})
		})
	case *wire.CallCommand:
		callee, existed, _ := e.submit(request{service: c.ServiceName, handler: c.HandlerName, key: c.Key, input: c.Parameter,
			headers: c.Headers, idem: deref(c.IdempotencyKey), failAt: -1, caller: r})
		e.deliver(r, invocationIDNotification(c.InvocationIDNotificationIdx, callee.id))
		w := waiter{caller: r, id: c.ResultCompletionID, typ: wire.TypeCallCompletion}
		if existed && callee.workflowRun() {
			e.respond(w, failureWorkflowInvoked)
		} else {
			e.await(callee, w)
		}
		r.children = append(r.children, callee)
	case *wire.OneWayCallCommand:
		var at time.Time
		if c.InvokeTime > 0 {
			at = time.UnixMilli(int64(c.InvokeTime))
		}
		callee, _, _ := e.submit(request{service: c.ServiceName, handler: c.HandlerName, key: c.Key, input: c.Parameter,
			headers: c.Headers, idem: deref(c.IdempotencyKey), at: at, failAt: -1, caller: r})
		e.deliver(r, invocationIDNotification(c.InvocationIDNotificationIdx, callee.id))
		r.children = append(r.children, callee)
	case *wire.SendSignalCommand:
		target := e.records[c.TargetInvocationID]
		switch {
		case target == nil:
		case c.SignalName != "":
			e.deliver(target, &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.NamedSignalID(c.SignalName), Result: c.Result})
		case c.Idx == wire.SignalCancel:
			e.cancelRecord(target)
		default:
			e.deliver(target, &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(c.Idx), Result: c.Result})
		}
	case *wire.AttachInvocationCommand:
		w := waiter{caller: r, id: c.ResultCompletionID, typ: wire.TypeAttachInvocationCompletion}
		if target := e.resolve(c.Target); target != nil {
			e.await(target, w)
		} else {
			e.respond(w, failureNotFound)
		}
	case *wire.GetInvocationOutputCommand:
		res := failureNotFound
		if target := e.resolve(c.Target); target != nil {
			res = wire.VoidResult()
			if target.status == statusCompleted {
				res = target.result
			}
		}
		e.deliver(r, &wire.Notification{MessageType: wire.TypeGetInvocationOutputCompletion, ID: wire.CompletionID(c.ResultCompletionID), Result: res})
	case *wire.CompleteAwakeableCommand:
		bin, sig, err := parseAwakeableID(c.AwakeableID)
		if err != nil {
			return
		}
		if target := e.byBin[string(bin)]; target != nil {
			e.deliver(target, &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(sig), Result: c.Result})
		}
	}
}

func invocationIDNotification(idx uint32, id string) *wire.Notification {
	return &wire.Notification{MessageType: wire.TypeCallInvocationIDCompletion, ID: wire.CompletionID(idx),
		Result: wire.Result{Kind: wire.ResultInvocationID, InvocationID: id}}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// resolve finds the invocation an attach or get-output command names.
func (e *Env) resolve(t wire.InvocationTarget) *record {
	switch t.Kind {
	case wire.TargetInvocationID:
		return e.records[t.InvocationID]
	case wire.TargetIdempotentRequest:
		q := t.IdempotentRequest
		return e.idem[idemKey{q.ServiceName, deref(q.ServiceKey), q.HandlerName, q.IdempotencyKey}]
	case wire.TargetWorkflow:
		if o := e.objects[objectKey{t.Workflow.WorkflowName, t.Workflow.WorkflowKey}]; o != nil {
			return o.run
		}
	}
	return nil
}

// complete ends r with res: its waiters get the result and its key's
// lock passes to the next invocation in the inbox.
func (e *Env) complete(r *record, res wire.Result) {
	r.status = statusCompleted
	r.result = res
	r.completedAt = e.now()
	r.gen++
	ws := r.waiters
	r.waiters = nil
	for _, w := range ws {
		e.respond(w, res)
	}
	if o := r.obj; o != nil {
		if o.holder == r {
			o.holder = nil
			e.nextInbox(o)
		}
		if i := slices.Index(o.inbox, r); i >= 0 {
			o.inbox = slices.Delete(o.inbox, i, i+1)
		}
	}
	e.afterInBackground(r.completedAt.Add(e.retention(r)), func() { e.purge(r) })
}

// nextInbox gives o's lock to the first invocation waiting for it.
func (e *Env) nextInbox(o *object) {
	for len(o.inbox) > 0 {
		next := o.inbox[0]
		o.inbox = o.inbox[1:]
		if next.status == statusInboxed {
			o.holder = next
			e.makeReady(next)
			return
		}
	}
}

// retention is how long a completed invocation stays attachable: its
// journal retention, its idempotency retention when it has a key, its
// workflow retention for a workflow run (each one day by default, as on
// restate-server).
func (e *Env) retention(r *record) time.Duration {
	pick := func(get func(*endpoint.Options) *time.Duration) time.Duration {
		if d := get(&r.h.Options); d != nil {
			return *d
		}
		if d := get(&r.svc.Options); d != nil {
			return *d
		}
		return 24 * time.Hour
	}
	d := pick(func(o *endpoint.Options) *time.Duration { return o.JournalRetention })
	if r.idem != "" {
		d = max(d, pick(func(o *endpoint.Options) *time.Duration { return o.IdempotencyRetention }))
	}
	if r.workflowRun() {
		d = pick(func(o *endpoint.Options) *time.Duration { return o.WorkflowCompletionRetention })
	}
	return d
}

// purge forgets a completed invocation once its retention expired: it can
// no longer be attached to, its idempotency key runs again, and a
// workflow's state and promises are gone.
func (e *Env) purge(r *record) {
	if r.purged {
		return
	}
	r.purged = true
	delete(e.records, r.id)
	delete(e.byBin, string(r.bin))
	if k := (idemKey{r.svc.Name, r.key, r.h.Name, r.idem}); r.idem != "" && e.idem[k] == r {
		delete(e.idem, k)
	}
	if o := r.obj; o != nil && o.run == r {
		o.run = nil
		clear(o.state)
		clear(o.promises)
	}
}

// retry handles a failed attempt per the invocation's retry policy.
func (e *Env) retry(r *record, f *wire.ErrorMessage) {
	r.failures++
	r.retryCount++
	r.lastFailure = fmt.Sprintf("[%d] %s", f.Code, f.Message)
	switch f.Behavior {
	case wire.BehaviorPause:
		e.pause(r, "the handler asked to pause after "+r.lastFailure)
		return
	case wire.BehaviorFail:
		e.complete(r, wire.FailureResult(f.Code, f.Message))
		return
	}
	p := e.retryPolicy(r)
	if p.maxAttempts > 0 && r.failures >= p.maxAttempts {
		if p.kill {
			e.complete(r, wire.FailureResult(f.Code, f.Message))
		} else {
			e.pause(r, fmt.Sprintf("%d attempts failed, the last one with %s", r.failures, r.lastFailure))
		}
		return
	}
	d := p.delay(r.failures)
	if f.NextRetryDelay != nil {
		d = time.Duration(*f.NextRetryDelay) * time.Millisecond
	}
	r.status = statusBackingOff
	r.gen++
	gen := r.gen
	e.after(e.now().Add(d), func() {
		if r.status == statusBackingOff && r.gen == gen {
			e.makeReady(r)
		}
	})
}

func (e *Env) retryPolicy(r *record) retryPolicy {
	p := e.cfg.retry
	for _, o := range []*endpoint.Options{&r.svc.Options, &r.h.Options} {
		if rp := o.RetryPolicy; rp != nil {
			var initial, maxInterval time.Duration
			var factor float64
			var attempts uint32
			if rp.InitialInterval != nil {
				initial = *rp.InitialInterval
			}
			if rp.MaxInterval != nil {
				maxInterval = *rp.MaxInterval
			}
			if rp.Factor != nil {
				factor = *rp.Factor
			}
			if rp.MaxAttempts != nil {
				attempts = *rp.MaxAttempts
			}
			p = mergeRetry(p, initial, maxInterval, factor, attempts, rp.OnMaxAttempts)
		}
	}
	return p
}

// ErrPaused is wrapped by the error a client gets when the invocation it
// waits for is paused: its retries are exhausted, the handler asked to
// pause, or the environment detected a [Violation]. restate-server keeps
// such a request waiting until an operator resumes or kills the
// invocation; a test would only time out.
var ErrPaused = errors.New("restatetest: invocation paused")

func pausedError(r *record) error {
	return fmt.Errorf("%w: %s (%s): %s", ErrPaused, r.id, r.target(), r.lastFailure)
}

// pause stops retrying r. Clients waiting for it fail; calling handlers
// keep waiting, as on the server.
func (e *Env) pause(r *record, reason string) {
	r.status = statusPaused
	r.lastFailure = reason
	kept := r.waiters[:0]
	for _, w := range r.waiters {
		if w.client != nil {
			e.answer(w.client, outcome{err: pausedError(r)})
			continue
		}
		kept = append(kept, w)
	}
	r.waiters = kept
}

// cancelRecord cancels r: an invocation that has not started ends with
// 409 "canceled"; a started one receives the cancel signal, and the SDK
// fails its awaits with 409 and cancels its own calls.
func (e *Env) cancelRecord(r *record) {
	switch r.status {
	case statusCompleted:
	case statusScheduled, statusInboxed:
		e.complete(r, failureCanceled)
		e.purge(r)
	default:
		e.deliver(r, &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(wire.SignalCancel), Result: wire.VoidResult()})
	}
}

// kill ends r at once with 409 "killed", aborting its attempt, and kills
// every invocation it called or sent to, as restate-server does.
func (e *Env) kill(r *record) {
	switch r.status {
	case statusCompleted:
		return
	case statusScheduled, statusInboxed:
		e.complete(r, failureKilled)
		e.purge(r)
		return
	}
	if a := r.att; a != nil {
		a.halt(stopKilled, "killed")
		r.att = nil
	}
	e.complete(r, failureKilled)
	for _, c := range r.children {
		e.kill(c)
	}
}
