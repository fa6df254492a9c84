package restatetest

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
)

// Env is an in-process Restate runtime for the services it was made with:
// invocations, journals, state, timers and the virtual clock live in
// memory. Make one with [New]; it is safe for concurrent use and shuts
// down when the test ends.
//
// At most one handler executes at a time, on goroutines the environment
// owns; which one runs next depends only on the order of requests and
// timers, so a test sees the same interleaving on every run.
type Env struct {
	t        testing.TB
	cfg      config
	services map[string]*endpoint.Service

	ctx    context.Context // parent of every attempt's context
	cancel context.CancelFunc

	mu     sync.Mutex
	offset time.Duration // the virtual clock is the wall clock plus offset
	// clock mirrors offset for handlers, which read the virtual clock
	// without the lock (virtualNow).
	clock   atomic.Int64
	created uint64 // invocations created so far
	records map[string]*record
	order   []*record
	byBin   map[string]*record
	idem    map[idemKey]*record
	objects map[objectKey]*object
	ready   []task
	// timers are what makes invocations progress: timers of sleeps,
	// delayed sends, retries and stream inactivity; the clock jumps to them
	// while a client waits. background timers (retention) only fire when
	// the clock passes them.
	timers     timerHeap
	background timerHeap
	seq        uint64
	running    *attempt        // the attempt whose handler executes
	open       []*attempt      // attempts whose handler goroutine has not exited, oldest first
	blocked    int             // clients waiting for a result: the clock may jump
	idle       []chan struct{} // Settle calls waiting for the environment to be idle
	reports    []Violation     // violations to report outside the lock
	held       []heldAnswer    // client answers held back until reports are made
	// reporting is true while the loop reports violations.
	reporting bool
	seen      []Violation // every violation so far
	closed    bool
	wakeCh    chan struct{}
	stop      chan struct{}
	stopped   chan struct{}
	// goroutines counts the goroutines that watch attempts end.
	goroutines sync.WaitGroup
}

type idemKey struct{ service, key, handler, idem string }

type objectKey struct{ service, key string }

// task is an entry of the run queue: a new attempt of an invocation, or
// (a set) the resumption of a parked bidi attempt.
type task struct {
	r *record
	a *attempt
}

// New starts an environment that runs services, the same values a
// deployment serves with package h2c, and stops it when t ends. It fails
// the test on a nil or duplicate service, and reports [Violation]s with
// t.Errorf unless [WithViolationHandler] says otherwise.
func New(t testing.TB, services []restate.ServiceDefinition, opts ...Option) *Env {
	t.Helper()
	e, err := start(t, services, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

// Start starts an environment outside a test: in TestMain, to share one
// environment between the tests of a package as the examples' end-to-end
// tests share a restate-server, or in a program. Stop it with
// [Env.Close]. Without [WithViolationHandler], violations are only
// recorded (see [Env.Violations]). It fails on a nil or duplicate service.
func Start(services []restate.ServiceDefinition, opts ...Option) (*Env, error) {
	return start(nil, services, opts)
}

// Close stops an environment made with [Start]: it ends every attempt and
// fails every waiting client. Environments made with [New] close when
// their test ends.
func (e *Env) Close() { e.close() }

func start(t testing.TB, services []restate.ServiceDefinition, opts []Option) (*Env, error) {
	cfg := newConfig(opts)
	ctx, cancel := context.WithCancel(context.Background())
	e := &Env{
		t:        t,
		cfg:      cfg,
		services: map[string]*endpoint.Service{},
		ctx:      ctx,
		cancel:   cancel,
		records:  map[string]*record{},
		byBin:    map[string]*record{},
		idem:     map[idemKey]*record{},
		objects:  map[objectKey]*object{},
		wakeCh:   make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	for _, s := range services {
		if s == nil {
			cancel()
			return nil, errors.New("restatetest: nil service")
		}
		d := s.Definition()
		if _, dup := e.services[d.Name]; dup {
			cancel()
			return nil, fmt.Errorf("restatetest: duplicate service %q", d.Name)
		}
		e.services[d.Name] = d
	}
	go e.loop()
	return e, nil
}

// Now returns the time on the virtual clock: the wall clock plus every
// jump the clock made.
func (e *Env) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now()
}

func (e *Env) now() time.Time { return time.Now().Add(e.offset) }

// virtualNow is the clock of every attempt's SDK: the times a handler
// journals (timers, delayed sends, restate.Now) are on the virtual clock.
// It needs no lock: the clock only moves while no handler executes.
func (e *Env) virtualNow() time.Time { return time.Now().Add(time.Duration(e.clock.Load())) }

// setNow moves the virtual clock forward to t; it never goes back.
func (e *Env) setNow(t time.Time) {
	if d := time.Until(t); d > e.offset {
		e.offset = d
		e.clock.Store(int64(d))
	}
}

// ceilMilli rounds t up to a whole millisecond: due times are whole
// milliseconds (rounded up from the time they were set), so a clock moved
// to a rounded target reaches every timer set within d of its start.
func ceilMilli(t time.Time) time.Time {
	if r := t.Truncate(time.Millisecond); r.Before(t) {
		return r.Add(time.Millisecond)
	}
	return t
}

// Advance lets everything that can run now run (see [Env.Settle]), then
// moves the virtual clock forward by d, firing the timers, delayed sends
// and retries due on the way in order, and returns once everything they
// set off has run as far as it can. The clock ends at least d later,
// rounded up to a whole millisecond, as due times are: a timer of d set
// before Advance(d) started has fired when it returns.
func (e *Env) Advance(d time.Duration) {
	e.Settle()
	e.mu.Lock()
	target := ceilMilli(e.now().Add(d))
	e.mu.Unlock()
	for {
		e.Settle()
		e.mu.Lock()
		if e.running != nil && !e.closed {
			// A client started an attempt since: the clock only moves while
			// no handler executes, so that the times the SDK reads from the
			// wall clock map onto the virtual clock with one offset.
			e.mu.Unlock()
			continue
		}
		next, ok := e.nextTimer()
		if e.closed || !ok || next.After(target) {
			e.setNow(target)
			e.mu.Unlock()
			break
		}
		e.setNow(next)
		e.mu.Unlock()
		e.wake()
	}
	e.Settle()
}

// Settle waits until nothing can run: every invocation has completed,
// suspended, paused or waits for a timer that is not due, or for an
// awakeable, a signal, a promise or a client. It does not move the clock.
func (e *Env) Settle() {
	for {
		e.mu.Lock()
		if e.closed || e.isIdle() {
			e.mu.Unlock()
			return
		}
		ch := make(chan struct{})
		e.idle = append(e.idle, ch)
		e.mu.Unlock()
		e.wake()
		select {
		case <-ch:
		case <-e.stopped:
			return
		}
	}
}

// isIdle reports whether the loop has nothing to do now.
func (e *Env) isIdle() bool {
	if e.running != nil || len(e.ready) > 0 {
		return false
	}
	for _, a := range e.open {
		if a.hasEvents() {
			return false
		}
	}
	if next, ok := e.nextTimer(); ok && !next.After(e.now()) {
		return false
	}
	if len(e.timers) > 0 && !e.cfg.manualClock && e.blocked > 0 {
		return false // the clock jumps
	}
	return true
}

func (e *Env) wake() {
	select {
	case e.wakeCh <- struct{}{}:
	default:
	}
}

// loop is the scheduler: it processes what attempts write, fires timers
// and starts attempts, one handler at a time.
func (e *Env) loop() {
	defer close(e.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		e.mu.Lock()
		e.pump()
		wait, ok := e.nextWake()
		reports := e.reports
		e.reports = nil
		e.reporting = len(reports) > 0
		e.mu.Unlock()
		if len(reports) > 0 {
			e.report(reports)
			e.mu.Lock()
			e.reporting = false
			e.release()
			e.mu.Unlock()
		}
		if ok {
			timer.Reset(wait)
		}
		select {
		case <-e.wakeCh:
		case <-timer.C:
		case <-e.stop:
			timer.Stop()
			return
		}
		timer.Stop()
	}
}

// pump does everything that can be done now.
func (e *Env) pump() {
	for !e.closed {
		progressed := false
		for _, a := range slices.Clone(e.open) {
			if e.drain(a) {
				progressed = true
			}
		}
		if e.running != nil && time.Since(e.running.lastEvent) > e.cfg.attemptTimeout {
			e.stall(e.running)
			progressed = true
		}
		if e.fireDue() {
			progressed = true
		}
		if e.running == nil && len(e.ready) > 0 {
			e.startNext()
			progressed = true
		}
		if progressed {
			continue
		}
		if e.running == nil && !e.cfg.manualClock && e.blocked > 0 && len(e.timers) > 0 {
			// Someone waits and nothing can run: jump to the next timer.
			e.setNow(e.timers[0].at)
			continue
		}
		if e.isIdle() {
			for _, ch := range e.idle {
				close(ch)
			}
			e.idle = nil
		}
		return
	}
}

// nextWake returns how long the loop may sleep before a timer is due or
// the running attempt stalls.
func (e *Env) nextWake() (time.Duration, bool) {
	var wait time.Duration
	next, ok := e.nextTimer()
	if ok {
		wait = max(next.Sub(e.now()), time.Millisecond)
	}
	if a := e.running; a != nil {
		d := max(time.Until(a.lastEvent.Add(e.cfg.attemptTimeout)), time.Millisecond)
		if !ok || d < wait {
			wait, ok = d, true
		}
	}
	return wait, ok
}

// nextTimer returns when the next timer of either kind is due.
func (e *Env) nextTimer() (time.Time, bool) {
	switch {
	case len(e.timers) > 0 && len(e.background) > 0:
		if earlier(e.background[0], e.timers[0]) {
			return e.background[0].at, true
		}
		return e.timers[0].at, true
	case len(e.timers) > 0:
		return e.timers[0].at, true
	case len(e.background) > 0:
		return e.background[0].at, true
	}
	return time.Time{}, false
}

// fireDue fires the timers of both kinds that are due on the virtual
// clock, in the order they were due.
func (e *Env) fireDue() bool {
	fired := false
	now := e.now()
	for {
		h := &e.timers
		if len(e.background) > 0 && (len(e.timers) == 0 || earlier(e.background[0], e.timers[0])) {
			h = &e.background
		}
		if len(*h) == 0 || (*h)[0].at.After(now) {
			return fired
		}
		heap.Pop(h).(*timer).fire()
		fired = true
	}
}

// after runs fire when the virtual clock reaches at.
func (e *Env) after(at time.Time, fire func()) {
	e.seq++
	heap.Push(&e.timers, &timer{at: at, seq: e.seq, fire: fire})
}

// afterInBackground is after for a timer the clock never jumps to.
func (e *Env) afterInBackground(at time.Time, fire func()) {
	e.seq++
	heap.Push(&e.background, &timer{at: at, seq: e.seq, fire: fire})
}

func (e *Env) violate(v Violation) {
	e.seen = append(e.seen, v)
	e.reports = append(e.reports, v)
}

// report hands violations to the handler or fails the test, outside the
// lock.
func (e *Env) report(vs []Violation) {
	for _, v := range vs {
		switch {
		case e.cfg.onViolation != nil:
			e.cfg.onViolation(v)
		case e.t != nil:
			e.t.Errorf("%s", v)
		}
	}
}

// Violations returns every violation detected so far, in order.
func (e *Env) Violations() []Violation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Violation(nil), e.seen...)
}

// close stops the loop, ends every attempt and fails every waiting client.
func (e *Env) close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	for _, a := range e.open {
		a.detach()
	}
	for _, r := range e.records {
		for _, w := range r.waiters {
			if w.client != nil {
				e.answer(w.client, outcome{err: errClosed})
			}
		}
		r.waiters = nil
	}
	for _, ch := range e.idle {
		close(ch)
	}
	e.idle = nil
	e.mu.Unlock()
	close(e.stop)
	<-e.stopped
	e.mu.Lock()
	reports := e.reports // the loop stopped before it reported them
	e.reports = nil
	e.mu.Unlock()
	e.report(reports)
	e.mu.Lock()
	e.release()
	e.mu.Unlock()
	e.cancel()
	done := make(chan struct{})
	go func() {
		e.goroutines.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		if e.t != nil {
			e.t.Errorf("restatetest: a handler did not return within 5s of the end of the test; it blocks on something other than the SDK")
		}
	}
}

var errClosed = fmt.Errorf("restatetest: the environment is closed (the test ended)")

// timer is a virtual-clock timer.
type timer struct {
	at   time.Time
	seq  uint64
	fire func()
}

type timerHeap []*timer

func earlier(a, b *timer) bool {
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.seq < b.seq
}

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return earlier(h[i], h[j]) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(*timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
