package restatetest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/internal/sim"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// ending is how an attempt ended, from its terminal message.
type ending uint8

const (
	endNone ending = iota
	endOutput
	endSuspended
	endFailed
)

// stopReason says why the runtime ended an attempt itself.
type stopReason uint8

const (
	stopNone     stopReason = iota
	stopReplay              // WithAlwaysReplay: replay before the next entry
	stopInjected            // WithFailureAt
	stopKilled
	stopStalled
)

// attempt is the runtime side of one attempt of an invocation.
type attempt struct {
	e      *Env
	r      *record
	h      *invocation.Invocation
	cancel context.CancelFunc
	dec    *wire.Decoder
	done   chan struct{} // closed once the handler goroutine exited

	// The rest is guarded by the environment's lock.
	lastEvent time.Time
	closed    bool // the request body is closed
	parked    bool // a bidi handler waits for input and none is pending
	parkGen   int
	queued    bool // a resumption is in the run queue
	closeReq  bool // the stream is to be closed at the next resumption
	// pending holds the frames a parked or running bidi attempt receives at
	// its next turn, and pendingIDs their notification ids.
	pending    []byte
	pendingIDs []wire.NotificationID
	// unseen are notifications stored while the attempt could not receive
	// them: they resume a suspension that waits for one.
	unseen      []wire.NotificationID
	ending      ending
	failure     *wire.ErrorMessage
	awaited     []wire.NotificationID
	newCommands int
	stop        stopReason
	stopMsg     string
	finished    bool
	// held are the commands written after the attempt's new command under
	// WithAlwaysReplay: the attempt ends before them, unless the result of
	// a run among them arrives, which means its closure already executed.
	held []wire.Message
}

func (a *attempt) hasEvents() bool {
	if a.h.HasEvents() {
		return true
	}
	select {
	case <-a.done:
		return !a.finished
	default:
		return false
	}
}

// feedable reports whether notifications can still reach the attempt.
func (a *attempt) feedable() bool {
	return !a.closed && a.stop == stopNone && a.ending == endNone && !a.finished
}

// detach stops all output of the attempt and cancels its context: the
// handler ends at its next operation.
func (a *attempt) detach() {
	a.h.Detach()
	a.cancel()
}

// halt ends the attempt on the runtime's initiative: what it writes from
// now on is dropped.
func (a *attempt) halt(reason stopReason, msg string) {
	if a.stop != stopNone {
		return
	}
	a.stop, a.stopMsg = reason, msg
	a.detach()
}

// startAttempt runs a new attempt of r: the start message and the whole
// journal, then the handler.
func (e *Env) startAttempt(r *record) {
	r.attempts++
	r.status = statusRunning
	bidi := e.cfg.bidi && !e.cfg.alwaysReplay
	ctx, cancel := context.WithCancel(e.ctx)
	a := &attempt{e: e, r: r, cancel: cancel, dec: wire.NewDecoder(0), done: make(chan struct{}), closed: !bidi, lastEvent: time.Now()}
	a.h = invocation.New(ctx, invocation.Config{
		Version:    e.cfg.version,
		Start:      e.startMessage(r),
		Journal:    r.journal,
		CloseInput: !bidi,
		Step:       true,
		Wake:       e.wake,
		Logger:     e.cfg.logger,
		Clock:      e.virtualNow,
	})
	if !a.h.Ready() {
		cancel()
		e.violate(e.violation(r, Protocol, fmt.Sprintf("the engine rejected the start message and the journal: %v", a.h.Err())))
		e.pause(r, "the engine rejected the journal")
		return
	}
	r.att = a
	e.open = append(e.open, a)
	e.running = a
	e.goroutines.Add(1)
	a.h.Start(r.h.Invoke)
	go func() {
		defer e.goroutines.Done()
		<-a.h.Done()
		close(a.done)
		e.wake()
	}()
}

func (e *Env) startMessage(r *record) *invocation.Start {
	st := &invocation.Start{
		ID:             r.bin,
		DebugID:        r.id,
		Key:            r.key,
		RetryCount:     r.retryCount,
		Seed:           r.seed,
		IdempotencyKey: r.idem,
	}
	if r.retryCount > 0 {
		st.SinceLastStored = e.now().Sub(r.lastStored)
	}
	if r.obj != nil && !e.lazy(r) {
		st.Eager = true
		st.State = r.obj.state
	}
	return st
}

func (e *Env) lazy(r *record) bool {
	if e.cfg.lazyState {
		return true
	}
	if l := r.h.Options.EnableLazyState; l != nil {
		return *l
	}
	return r.svc.Options.EnableLazyState != nil && *r.svc.Options.EnableLazyState
}

// drain processes what a attempt wrote and, once its handler exited, how
// it ended. It reports whether there was anything to do.
func (e *Env) drain(a *attempt) bool {
	var exited bool
	select {
	case <-a.done:
		exited = true // every event was queued before done closed
	default:
	}
	evs := a.h.Events()
	for _, ev := range evs {
		a.lastEvent = time.Now()
		if ev.Idle {
			e.idleEvent(a)
		} else {
			e.frames(a, ev.Frames)
		}
	}
	if len(a.held) > 0 {
		a.held = nil
		a.halt(stopReplay, "")
	}
	if exited && !a.finished {
		e.finish(a)
		return true
	}
	return len(evs) > 0
}

func (e *Env) frames(a *attempt, b []byte) {
	_, _ = a.dec.Write(b)
	for {
		f, ok, err := a.dec.Next()
		if err != nil {
			e.violate(e.violation(a.r, Protocol, fmt.Sprintf("the engine wrote a malformed frame: %v", err)))
			a.halt(stopStalled, "malformed frame")
			return
		}
		if !ok {
			return
		}
		e.frame(a, f)
	}
}

// frame stores or acts on one frame, as restate-server does.
func (e *Env) frame(a *attempt, f wire.Frame) {
	if a.stop != stopNone {
		return // the runtime no longer listens
	}
	r := a.r
	msg, err := f.Decode()
	if err != nil {
		e.violate(e.violation(r, Protocol, fmt.Sprintf("the engine wrote a malformed %s: %v", f.Header.Type, err)))
		return
	}
	if a.ending != endNone {
		e.violate(e.violation(r, Protocol, fmt.Sprintf("the engine wrote %s after the attempt's terminal message", f.Header.Type)))
		return
	}
	switch msg.(type) {
	case *wire.SuspensionMessage, *wire.ErrorMessage, *wire.EndMessage:
		if len(a.held) > 0 {
			// The attempt ends before its held commands: drop its end.
			a.held = nil
			a.halt(stopReplay, "")
			return
		}
	}
	switch m := msg.(type) {
	case *wire.ProposeRunCompletionMessage:
		if !e.journalHeldRun(a, m.ResultCompletionID) {
			return
		}
		n := &wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(m.ResultCompletionID), Result: m.Result}
		var ack wire.Message
		if f.Header.RequestedAck() {
			ack = &wire.ProposeRunCompletionAckMessage{CompletionID: m.ResultCompletionID}
		}
		e.deliverFrame(r, n, ack)
	case *wire.SuspensionMessage:
		a.ending = endSuspended
		a.awaited = awaitedOf(m)
	case *wire.ErrorMessage:
		a.ending = endFailed
		a.failure = m
	case *wire.EndMessage:
		a.ending = endOutput
	case *wire.AwaitingOnMessage:
		// A hint: the runtime decides by itself what the handler waits for.
	default:
		t := msg.Type()
		if !t.IsCommand() || t == wire.TypeInputCommand {
			e.violate(e.violation(r, Protocol, fmt.Sprintf("the engine wrote an unexpected %s", t)))
			return
		}
		if e.cfg.alwaysReplay && a.newCommands > 0 {
			a.held = append(a.held, msg)
			return
		}
		e.journal(a, msg)
	}
}

// journal stores a new command of the attempt and acts on it. It reports
// false when an injected failure ended the attempt instead.
func (e *Env) journal(a *attempt, msg wire.Message) bool {
	r := a.r
	idx := len(r.journal)
	if r.failAt >= 0 && idx >= r.failAt {
		r.failAt = -1
		a.halt(stopInjected, fmt.Sprintf("restatetest: failure injected before journal entry %d (%s)", idx, sim.Describe(msg)))
		return false
	}
	r.journal = append(r.journal, msg)
	a.newCommands++
	r.retryCount = 0
	r.lastStored = e.now()
	e.apply(r, msg)
	return true
}

// journalHeldRun journals the held commands up to the run whose result
// arrived: its closure executed, so the attempt cannot end before it without
// executing it twice. It reports false when the attempt ended meanwhile.
func (e *Env) journalHeldRun(a *attempt, completion uint32) bool {
	i := slices.IndexFunc(a.held, func(m wire.Message) bool {
		rc, ok := m.(*wire.RunCommand)
		return ok && rc.ResultCompletionID == completion
	})
	if i < 0 {
		return true
	}
	todo := a.held[:i+1]
	a.held = a.held[i+1:]
	for _, m := range todo {
		if !e.journal(a, m) {
			a.held = nil
			return false
		}
	}
	return true
}

// idleEvent handles a bidi handler that blocks waiting for input: it gets
// what is pending, or is parked until something arrives or the stream's
// inactivity timeout closes it.
func (e *Env) idleEvent(a *attempt) {
	if a.stop != stopNone || a.ending != endNone || a.finished {
		return
	}
	if e.running != a && e.running != nil {
		a.parked = true
		if len(a.pending) > 0 {
			e.queueResume(a)
		}
		return
	}
	if len(a.pending) > 0 || a.closeReq {
		e.feed(a)
		return
	}
	a.parked = true
	if e.running == a {
		e.running = nil
	}
	a.parkGen++
	gen := a.parkGen
	e.after(e.now().Add(e.inactivity(a.r)), func() {
		if a.parked && a.parkGen == gen && a.feedable() {
			a.closeReq = true
			e.queueResume(a)
		}
	})
}

// inactivity is how long a bidi stream stays open while its handler waits:
// the handler's inactivity timeout, one minute by default as on
// restate-server.
func (e *Env) inactivity(r *record) time.Duration {
	for _, o := range []*endpoint.Options{&r.h.Options, &r.svc.Options} {
		if o.InactivityTimeout != nil {
			return *o.InactivityTimeout
		}
	}
	return time.Minute
}

func (e *Env) queueResume(a *attempt) {
	if !a.queued {
		a.queued = true
		e.ready = append(e.ready, task{a: a})
	}
}

// resume gives a parked attempt its turn.
func (e *Env) resume(a *attempt) {
	a.queued = false
	if !a.parked || a.stop != stopNone || a.ending != endNone || a.finished {
		return
	}
	if len(a.pending) > 0 || a.closeReq {
		e.feed(a)
	}
}

// feed sends a waiting bidi handler what is pending, or closes its input.
func (e *Env) feed(a *attempt) {
	a.parked = false
	e.running = a
	a.lastEvent = time.Now()
	if len(a.pending) > 0 {
		// Activity: the inactivity timeout starts again when the handler
		// next waits.
		b := a.pending
		a.pending, a.pendingIDs, a.closeReq = nil, nil, false
		_ = a.h.Feed(b)
		return
	}
	a.closeReq = false
	a.closed = true
	a.h.CloseInput()
}

// stall ends an attempt whose handler made no progress for the attempt
// timeout.
func (e *Env) stall(a *attempt) {
	r := a.r
	e.violate(e.violation(r, Progress, fmt.Sprintf("the handler made no progress for %s: it blocks on something other than the SDK", e.cfg.attemptTimeout)))
	a.halt(stopStalled, "stalled")
	if e.running == a {
		e.running = nil
	}
	if r.att == a {
		r.att = nil
	}
	if r.status != statusCompleted {
		e.pause(r, "the handler stalled")
	}
}

// finish acts on how an attempt ended, once its handler exited.
func (e *Env) finish(a *attempt) {
	a.finished = true
	a.cancel()
	if i := slices.Index(e.open, a); i >= 0 {
		e.open = slices.Delete(e.open, i, i+1)
	}
	if e.running == a {
		e.running = nil
	}
	r := a.r
	if r.att == a {
		r.att = nil
	}
	a.unseen = append(a.unseen, a.pendingIDs...)
	if r.status != statusRunning {
		return // killed, stalled or closed meanwhile
	}
	switch {
	case a.stop == stopReplay:
		e.makeReady(r)
	case a.stop == stopInjected:
		e.retry(r, &wire.ErrorMessage{Code: 500, Message: a.stopMsg})
	case a.stop != stopNone:
	case a.ending == endOutput:
		var out *wire.OutputCommand
		for _, m := range r.journal {
			if o, ok := m.(*wire.OutputCommand); ok {
				out = o
			}
		}
		if out == nil {
			e.violate(e.violation(r, Protocol, "EndMessage without an output command"))
			e.pause(r, "EndMessage without an output command")
			return
		}
		e.complete(r, out.Result)
	case a.ending == endSuspended:
		if len(a.awaited) == 0 {
			e.violate(e.violation(r, Protocol, "empty SuspensionMessage"))
			e.pause(r, "empty suspension")
			return
		}
		r.status = statusSuspended
		r.failures = 0
		r.awaited = make(map[wire.NotificationID]bool, len(a.awaited))
		for _, id := range a.awaited {
			r.awaited[id] = true
		}
		for _, id := range a.unseen {
			if r.awaited[id] {
				e.makeReady(r)
				break
			}
		}
	case a.ending == endFailed:
		f := a.failure
		switch uint16(f.Code) {
		case replay.CodeJournalMismatch:
			e.violate(e.violation(r, Determinism, fmt.Sprintf("[%d] %s", f.Code, f.Message)))
			r.lastFailure = fmt.Sprintf("[%d] %s", f.Code, f.Message)
			e.pause(r, r.lastFailure)
		case replay.CodeProtocolViolation:
			e.violate(e.violation(r, Protocol, fmt.Sprintf("[%d] %s", f.Code, f.Message)))
			e.pause(r, fmt.Sprintf("[%d] %s", f.Code, f.Message))
		default:
			e.retry(r, f)
		}
	default:
		e.violate(e.violation(r, Protocol, "the attempt ended without EndMessage, SuspensionMessage or ErrorMessage"))
		e.pause(r, "the attempt ended without a terminal message")
	}
}

// awaitedOf returns the notification ids a suspension waits for, with V7
// trees flattened: the runtime resumes when any of them arrives, and the
// handler suspends again if that is not enough.
func awaitedOf(s *wire.SuspensionMessage) []wire.NotificationID {
	var ids []wire.NotificationID
	for _, c := range s.WaitingCompletions {
		ids = append(ids, wire.CompletionID(c))
	}
	for _, c := range s.WaitingSignals {
		ids = append(ids, wire.SignalID(c))
	}
	for _, n := range s.WaitingNamedSignals {
		ids = append(ids, wire.NamedSignalID(n))
	}
	if s.AwaitingOn != nil {
		ids = flatten(s.AwaitingOn, ids)
	}
	return ids
}

func flatten(f *wire.Future, ids []wire.NotificationID) []wire.NotificationID {
	for _, c := range f.WaitingCompletions {
		ids = append(ids, wire.CompletionID(c))
	}
	for _, c := range f.WaitingSignals {
		ids = append(ids, wire.SignalID(c))
	}
	for _, n := range f.WaitingNamedSignals {
		ids = append(ids, wire.NamedSignalID(n))
	}
	for i := range f.NestedFutures {
		ids = flatten(&f.NestedFutures[i], ids)
	}
	return ids
}
