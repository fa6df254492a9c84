// Package invocation is the attempt driver: it builds an attempt's start
// message and journal, creates the replay engine and runs the handler
// against it, serialising the handler's operations with the transport's
// input, executing run closures, waiting for notifications on an open
// stream and stopping the handler when the attempt suspends or fails. Every
// transport (h2c, lambda) and every test runtime (props' simulator,
// restatetest, the journal replayer) runs its attempts through it.
//
// [New] takes one [Config]. Then either the caller calls
// [Invocation.Start], which runs the handler on a goroutine of its own, and
// keeps feeding input with [Invocation.Feed] and [Invocation.CloseInput]
// until [Invocation.Done] is closed; or it gives Config.Input with
// Config.PullInput and calls [Invocation.Run], which runs the handler on
// the calling goroutine and reads the input there whenever the handler
// waits for it. A step-driven
// runtime sets Config.Step and takes what the attempt does with
// [Invocation.Events]. [StartMessage] is the one place a start message is
// built, and [Engine] gives a caller that drives the engine itself a fed
// engine without an invocation. The typed API in package restate performs
// the handler's operations through [Invocation.Do] and [Invocation.Await].
package invocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// HandlerFunc is a handler erased to bytes: it takes its input with
// [Invocation.Input], its first operation, and ends with
// `return inv.Return(output)` (a value or a terminal failure), or returns
// a retryable error (a *replay.Error, or any other error for an internal
// one).
//
// The input and the output go through the invocation rather than through
// the function's parameters and results, so that no copy of them stays on
// the stack below a waiting handler: a parked invocation holds its
// goroutine's stack, and every byte of a frame under the handler counts
// towards it (see run).
type HandlerFunc func(inv *Invocation) error

// RunFunc executes a run closure and reports its outcome and retry policy.
// The context is cancelled when the invocation is cancelled or the
// transport goes away.
type RunFunc func(ctx context.Context) (replay.RunOutcome, replay.RetryPolicy)

// Output receives the engine's frames. The invocation calls Write with its
// lock held, from the handler goroutine (or from Fail), never
// concurrently. It is an interface so that a transport's per-request value
// can be the output as well as the [Input], without a closure for each.
type Output interface {
	Write(frames []byte) error
}

// OutputFunc is an Output made of a function.
type OutputFunc func(frames []byte) error

// Write calls f.
func (f OutputFunc) Write(frames []byte) error { return f(frames) }

// Event is what a handler's attempt reports to a runtime that drives it one
// step at a time (a simulator, an in-process test runtime): frames it
// wrote, which the Output copied, or, when Idle, that the handler blocks
// waiting for input (see Config.Waiting and Config.Step).
type Event struct {
	Frames []byte
	Idle   bool
}

// ErrMisuse is wrapped by the errors of operations made from the wrong place:
// inside a run closure, or from a goroutine other than the handler's while
// the handler is busy.
var ErrMisuse = errors.New("restate: context misuse")

// ErrAttemptOver is what an operation returns on a goroutine other than the
// handler's once the attempt is over (it suspended, failed or lost its
// transport): the handler's own goroutine would end there, but a goroutine
// the handler waits for must return to it. The next attempt replays the
// operation.
var ErrAttemptOver = errors.New("restate: the attempt is over (it suspended or failed); return from the handler, the next attempt continues from the journal")

// Invocation is one running attempt.
type Invocation struct {
	mu     sync.Mutex
	m      *replay.Machine
	out    Output
	ctx    context.Context
	wake   chan struct{}
	done   chan struct{}
	runs   map[replay.Handle]RunFunc
	cancel context.CancelFunc // cancels the executing run closure

	busy     atomic.Bool // an operation is in progress
	inRun    atomic.Bool // a run closure is executing
	detached bool        // the transport stopped accepting output
	returned bool        // the handler gave its output to Return
	writeErr error

	traceParent, traceState string
	logger                  *slog.Logger
	clock                   func() time.Time // Config.Clock

	// The hooks of Config; see there.
	waiting      func()
	input        Input
	pullInput    bool
	inputStarted bool
	pulling      bool

	queue *queue // of a step-driven attempt (Config.Step)
}

// exitSignal ends a handler whose attempt is over: exitLocked panics with
// it, run recovers it. Deferred calls in user code run on the way, as they
// would for any panic.
type exitSignal struct{}

func (inv *Invocation) needInputLocked() {
	if !inv.inputStarted && inv.input != nil {
		inv.inputStarted = true
		inv.input.Start()
	}
}

// Now reads the invocation's clock: Clock, or the wall clock.
func (inv *Invocation) Now() time.Time {
	if inv.clock != nil {
		return inv.clock()
	}
	return time.Now()
}

// Context returns the transport's context.
func (inv *Invocation) Context() context.Context { return inv.ctx }

// Done is closed when the handler goroutine has exited.
func (inv *Invocation) Done() <-chan struct{} { return inv.done }

// Feed gives the engine a chunk of the request body and wakes a waiting
// handler.
func (inv *Invocation) Feed(p []byte) error {
	inv.mu.Lock()
	err := inv.m.FeedBytes(p)
	cancel := inv.cancel
	if cancel != nil && !inv.m.CancelRequested() {
		cancel = nil
	}
	inv.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	inv.signal()
	return err
}

// CloseInput tells the engine the request body ended and wakes a waiting
// handler, which then suspends if it still waits.
func (inv *Invocation) CloseInput() {
	inv.mu.Lock()
	_ = inv.m.CloseInput()
	inv.interruptLocked()
	inv.mu.Unlock()
	inv.signal()
}

// interruptLocked stops a Pull in progress. The handler cannot return
// before it takes the lock again, so the transport's request is still
// being served.
func (inv *Invocation) interruptLocked() {
	if inv.pulling {
		inv.input.Interrupt()
	}
}

func (inv *Invocation) signal() {
	select {
	case inv.wake <- struct{}{}:
	default:
	}
}

// Detach stops all further output: the transport can no longer write (it
// returned, the peer is gone, or the server gives up on the attempt). A
// waiting handler ends at once; a running one at its next operation. The
// context of an executing run closure is cancelled, since its result could
// no longer be journaled.
func (inv *Invocation) Detach() {
	inv.mu.Lock()
	inv.detached = true
	cancel := inv.cancel
	inv.interruptLocked()
	inv.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	inv.signal()
}

// WriteErr returns the first error the output returned, if any.
func (inv *Invocation) WriteErr() error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.writeErr
}

// goneLocked reports whether the handler must stop: the attempt is over, or
// its output can no longer reach the runtime (the transport detached, or a
// write failed). Continuing after a failed write would execute side effects
// whose results can never be journaled.
func (inv *Invocation) goneLocked() bool {
	return inv.detached || inv.writeErr != nil || inv.m.Closed()
}

func (inv *Invocation) flushLocked() {
	if !inv.m.HasOutput() {
		return
	}
	b := inv.m.TakeOutput()
	if inv.detached || inv.writeErr != nil {
		return
	}
	if err := inv.out.Write(b); err != nil {
		inv.writeErr = err
	}
}

// Start runs h in a new goroutine owned by the invocation.
func (inv *Invocation) Start(h HandlerFunc) {
	go inv.run(h)
}

// Run runs h on the calling goroutine and returns when it has returned or
// the attempt is over; Done is closed then.
func (inv *Invocation) Run(h HandlerFunc) {
	inv.run(h)
}

// run must keep a frame of its own, which onRunGoroutine looks for.
//
//go:noinline
func (inv *Invocation) run(h HandlerFunc) {
	// The frames below a waiting handler are kept small (the work before and
	// after it is in functions of their own), so that a parked invocation's
	// goroutine fits in a small stack.
	returned := false
	defer inv.ended(&returned)
	inv.complete(h(inv))
	returned = true
}

// ended closes Done once the handler has returned, or turns its panic into
// a retryable failure. It runs deferred, so that it can recover.
func (inv *Invocation) ended(returned *bool) {
	if !*returned {
		// Either the handler panicked, or an operation ended it with
		// exitSignal after the attempt closed. A panic in user code must
		// never take the process down: it becomes a retryable failure,
		// because the next attempt may well succeed. Once the attempt is
		// over, whatever panicked (user code may have recovered exitSignal
		// and panicked with something else) has nothing more to say.
		if r := recover(); r != nil && r != (exitSignal{}) {
			inv.mu.Lock()
			_ = inv.m.Fail(&replay.Error{
				Code:       replay.CodeInternal,
				Message:    fmt.Sprintf("panic in handler: %v", r),
				Stacktrace: string(debug.Stack()),
			})
			inv.flushLocked()
			inv.mu.Unlock()
		}
	}
	close(inv.done)
}

// Return ends the attempt with the handler's output: a value or a terminal
// failure. It returns nil, so that a handler ends with
// `return inv.Return(output)`.
func (inv *Invocation) Return(output wire.Result) error {
	inv.busy.Store(true)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.m.Output(output) == nil {
		_ = inv.m.End()
	}
	inv.returned = true
	inv.flushLocked()
	return nil
}

// complete ends the attempt with the error the handler returned, if any.
func (inv *Invocation) complete(err error) {
	inv.busy.Store(true)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if err == nil && !inv.returned {
		err = errors.New("the handler returned without an output")
	}
	if err != nil {
		var re *replay.Error
		if !errors.As(err, &re) {
			re = &replay.Error{Code: replay.CodeInternal, Message: err.Error()}
		}
		_ = inv.m.Fail(re)
	}
	inv.flushLocked()
}

// Input takes the invocation's input: the handler's first operation.
func (inv *Invocation) Input() replay.Input {
	inv.busy.Store(true)
	defer inv.busy.Store(false)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	in, err := inv.m.Input()
	if err != nil && inv.exitLocked() != nil {
		// Only the handler's own goroutine takes the input.
		runtime.Goexit()
	}
	return in
}

// exitLocked flushes the output and ends the handler: it unwinds the
// handler with exitSignal, which run recovers. The caller holds the lock
// and releases it in a deferred call.
//
// A goroutine of the user's own to which the handler handed its context
// (the handler waits for it, so only one goroutine uses the context at a
// time, which restate-server accepts) has no run below it to recover
// exitSignal, and a panic there would take the process down. Ending it
// with runtime.Goexit instead would leave the handler waiting for it
// forever, so exitLocked returns ErrAttemptOver there, and the operation
// returns it: the goroutine hands it back to the handler, whose next
// operation, or return, ends the attempt's handler as usual.
func (inv *Invocation) exitLocked() error {
	inv.flushLocked()
	if !onRunGoroutine() {
		return ErrAttemptOver
	}
	panic(exitSignal{})
}

// runEntry is the entry address of Invocation.run, taken from the method
// itself rather than from its name, so that a rename cannot break
// onRunGoroutine: the compiler checks the reference.
var runEntry = reflect.ValueOf((*Invocation).run).Pointer()

// onRunGoroutine reports whether the calling goroutine is running a
// handler, that is whether a frame of Invocation.run is on its stack. run
// is never inlined, so it always has a frame of its own, and a function
// inlined into run reports run's entry as the outermost one. The walk is
// cheap next to what ends an attempt (a suspension or a failure written to
// the runtime), the only time it happens, and costs the hot path nothing.
//
// The question is about the goroutine, not the invocation's state, and the
// stack is the only cheap record of goroutine identity Go offers. A token
// in the handler's context cannot tell: a user goroutine that misuses the
// handler's context carries the same one. Nor can the busy and inRun
// flags: while the handler's goroutine blocks outside the SDK (waiting for
// that very goroutine, say), the misusing goroutine holds busy as the
// handler would. Recording a goroutine id at the start of run costs every
// attempt about as much as a short handler (runtime.Stack) and an
// allocation.
func onRunGoroutine() bool {
	var pcs [64]uintptr
	for skip := 2; ; {
		n := runtime.Callers(skip, pcs[:])
		for _, pc := range pcs[:n] {
			// pc is a return address; pc-1 is inside the call.
			if f := runtime.FuncForPC(pc - 1); f != nil && f.Entry() == runEntry {
				return true
			}
		}
		if n < len(pcs) {
			return false
		}
		skip += n
	}
}

func (inv *Invocation) enter() error {
	if inv.inRun.Load() {
		return fmt.Errorf("%w: the handler context was used inside a run closure; use only the run's own context there, and do durable operations outside the closure", ErrMisuse)
	}
	if !inv.busy.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: the handler context was used from two goroutines at once; a handler's durable operations must happen on its own goroutine, in a deterministic order", ErrMisuse)
	}
	return nil
}

func (inv *Invocation) leave() { inv.busy.Store(false) }

// Do runs fn with the engine locked. When fn's error closed the attempt
// (suspension, or a failure the engine wrote as ErrorMessage), Do flushes the
// output and ends the handler goroutine: user code never continues after
// the attempt is over.
func (inv *Invocation) Do(fn func(m *replay.Machine) error) error {
	if err := inv.enter(); err != nil {
		return err
	}
	defer inv.leave()
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.goneLocked() {
		return inv.exitLocked()
	}
	err := fn(inv.m)
	if inv.m.Closed() {
		if err := inv.exitLocked(); err != nil {
			return err
		}
	}
	return err
}

// RegisterRun remembers the closure of a run that needs execution.
func (inv *Invocation) RegisterRun(h replay.Handle, fn RunFunc) {
	if inv.runs == nil {
		inv.runs = make(map[replay.Handle]RunFunc)
	}
	inv.runs[h] = fn
}

// Replaying reports whether the engine is replaying journaled commands.
func (inv *Invocation) Replaying() bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.m.Replaying()
}

// Resolver decides whether what the handler waits for is available; it runs
// with the engine locked and should cache the results it reads.
type Resolver interface {
	Resolved(m *replay.Machine) bool
}

// Await blocks until r reports resolved (StatusReady) or the invocation was
// cancelled (StatusCancelled), asking the engine to make progress on f,
// executing run closures and waiting for input as the engine asks. r runs
// before each engine await and after it reports progress. When the attempt
// suspends or fails, the handler goroutine ends.
func (inv *Invocation) Await(f replay.Future, r Resolver) (replay.Status, error) {
	if err := inv.enter(); err != nil {
		return 0, err
	}
	defer inv.leave()
	inv.mu.Lock()
	defer inv.mu.Unlock()
loop:
	for {
		if inv.goneLocked() {
			break
		}
		if !inv.cancellingLocked() && r.Resolved(inv.m) {
			return replay.StatusReady, nil
		}
		if len(f.Handles) == 0 && len(f.Children) == 0 {
			return 0, errors.New("restate: awaiting a future that cannot complete")
		}
		res, err := inv.m.Await(f)
		if err != nil {
			break
		}
		switch res.Status {
		case replay.StatusCancelled:
			return res.Status, nil
		case replay.StatusExecuteRun:
			if inv.executeRunLocked(res.Run) != nil {
				break loop
			}
		case replay.StatusNeedInput, replay.StatusWaitingRun:
			inv.flushLocked()
			if inv.writeErr != nil {
				// The runtime never saw what the handler waits on; waiting
				// for its answer would park the handler until ctx ends.
				break loop
			}
			if inv.pullInput && !inv.inputStarted {
				if inv.waiting != nil {
					inv.waiting()
				}
				// An ended transport context marks the invocation detached:
				// the loop's next turn ends the handler.
				inv.pullLocked()
				continue
			}
			inv.needInputLocked()
			if inv.waiting != nil {
				inv.waiting()
			}
			inv.mu.Unlock()
			select {
			case <-inv.wake:
			case <-inv.ctx.Done():
				inv.mu.Lock()
				inv.detached = true
				break loop
			}
			inv.mu.Lock()
		}
	}
	// One exit for every way the attempt ends, which keeps Await's frame,
	// under every parked handler, small.
	return 0, inv.exitLocked()
}

// pullLocked reads input with Input.Pull, releasing the lock meanwhile. A read
// error ends the input; an ended transport context ends the handler.
func (inv *Invocation) pullLocked() {
	inv.pulling = true
	inv.mu.Unlock()
	err := inv.input.Pull(inv.feedPulled)
	inv.mu.Lock()
	inv.pulling = false
	if err != nil && !inv.m.InputClosed() {
		_ = inv.m.CloseInput()
	}
	if inv.ctx.Err() != nil {
		inv.detached = true
	}
}

func (inv *Invocation) feedPulled(p []byte) error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.m.InputClosed() {
		return nil // closed by CloseInput while the read was blocked
	}
	return inv.m.FeedBytes(p)
}

// cancellingLocked reports whether the engine applied the cancel signal and
// has not finished the cancellation yet (it waits for the invocation id of
// a child call, to cancel it). The engine's next await continues it, and
// asking r first would be wrong: a notification applied while the
// cancellation waited may resolve r, but a replay, which has all those
// notifications at once, cancels instead, and then fails with a journal
// mismatch.
//
// It asks whether the signal was applied first: that is a lookup, while
// CancelRequested may scan the notifications not applied yet, which made
// every await of a replay cost as much as the rest of its journal.
func (inv *Invocation) cancellingLocked() bool {
	if _, applied := inv.m.Peek(replay.CancelHandle); !applied {
		return false
	}
	return inv.m.CancelRequested() // false when implicit cancellation is off
}

func (inv *Invocation) executeRunLocked(h replay.Handle) error {
	fn := inv.runs[h]
	delete(inv.runs, h)
	if fn == nil {
		_ = inv.m.Fail(&replay.Error{Code: replay.CodeInternal, Message: "run closure not registered"})
		return inv.exitLocked()
	}
	runCtx, cancel := context.WithCancel(inv.ctx)
	inv.cancel = cancel
	inv.inRun.Store(true)
	inv.needInputLocked()
	inv.mu.Unlock()

	start := time.Now()
	out, policy := safeRun(fn, runCtx)
	out.Duration = time.Since(start)
	interrupted := runCtx.Err() != nil

	inv.mu.Lock()
	inv.inRun.Store(false)
	inv.cancel = nil
	cancel()
	if inv.goneLocked() {
		return inv.exitLocked()
	}
	if out.Retryable != nil && interrupted && inv.m.CancelRequested() {
		// The cancel signal interrupted the closure (it cancelled its
		// context), and the closure failed: journal that the run was
		// cancelled, a terminal failure, so that the invocation ends as
		// cancelled in this attempt instead of retrying a run whose
		// invocation is being cancelled.
		out = replay.RunOutcome{Result: wire.FailureResult(409, "cancelled: the invocation was cancelled while the run executed"), Duration: out.Duration}
	}
	if err := inv.m.ProposeRun(h, out, policy); err != nil || inv.m.Closed() {
		return inv.exitLocked()
	}
	return nil
}

func safeRun(fn RunFunc, ctx context.Context) (out replay.RunOutcome, policy replay.RetryPolicy) {
	defer func() {
		if r := recover(); r != nil {
			out = replay.RunOutcome{Retryable: &replay.Error{
				Code:       replay.CodeInternal,
				Message:    fmt.Sprintf("panic in run: %v", r),
				Stacktrace: string(debug.Stack()),
			}}
		}
	}()
	return fn(ctx)
}

// InputStarted reports whether the Input was started (Input.Start).
func (inv *Invocation) InputStarted() bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.inputStarted
}
