package invocation

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

type always bool

func (a always) Resolved(*replay.Machine) bool { return bool(a) }

// ready returns a machine that has received a start message and an input
// command, on an input stream that stays open.
func ready(t *testing.T) *replay.Machine {
	t.Helper()
	m := replay.New(wire.V6, replay.Options{})
	var b []byte
	b = wire.AppendFrame(b, &wire.StartMessage{ID: []byte("id"), DebugID: "inv_1", KnownEntries: 1}, 0)
	b = wire.AppendFrame(b, &wire.InputCommand{}, 0)
	if err := m.FeedBytes(b); err != nil || !m.Ready() {
		t.Fatalf("machine not ready: %v", err)
	}
	return m
}

// TestFailedWriteEndsHandler checks that a handler stops as soon as its
// output cannot be written: it must neither wait for an answer to commands
// the runtime never saw nor run further operations.
func TestFailedWriteEndsHandler(t *testing.T) {
	t.Parallel()
	errGone := errors.New("peer gone")
	inv := newInv(context.Background(), ready(t), func([]byte) error { return errGone })
	after := make(chan struct{}, 1)
	inv.Start(func(inv *Invocation) error {
		inv.Input()
		var h replay.Handle
		if err := inv.Do(func(m *replay.Machine) (err error) {
			h, err = m.Sleep(1, "")
			return err
		}); err != nil {
			return err
		}
		// The sleep command is flushed here, the write fails, and the
		// handler must end instead of waiting for the timer.
		_, _ = inv.Await(replay.Single(h), always(false))
		after <- struct{}{}
		return inv.Return(wire.VoidResult())
	})
	select {
	case <-inv.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the handler kept waiting after its output failed")
	}
	select {
	case <-after:
		t.Error("the handler continued after its output failed")
	default:
	}
	if err := inv.WriteErr(); !errors.Is(err, errGone) {
		t.Errorf("WriteErr() = %v, want %v", err, errGone)
	}
}

// TestOperationAfterFailedWriteEndsHandler checks that an operation after a
// failed write ends the handler, instead of running on (and, say, executing
// run closures whose results can never be journaled).
func TestOperationAfterFailedWriteEndsHandler(t *testing.T) {
	t.Parallel()
	writes := 0
	inv := newInv(context.Background(), ready(t), func([]byte) error {
		writes++
		return errors.New("peer gone")
	})
	ran := false
	inv.Start(func(inv *Invocation) error {
		inv.Input()
		_ = inv.Do(func(m *replay.Machine) error {
			_, err := m.Sleep(1, "")
			return err
		})
		// Flush the sleep command, as a wait would; the write fails.
		inv.mu.Lock()
		inv.flushLocked()
		inv.mu.Unlock()
		_ = inv.Do(func(m *replay.Machine) error {
			ran = true
			_, err := m.Sleep(2, "")
			return err
		})
		return inv.Return(wire.VoidResult())
	})
	<-inv.Done()
	if ran {
		t.Error("an operation ran after the output failed")
	}
	if writes != 1 {
		t.Errorf("output called %d times, want 1", writes)
	}
}

// TestDetachCancelsRun checks that detaching an invocation whose run
// closure executes cancels the closure's context and ends the handler,
// without proposing the result.
func TestDetachCancelsRun(t *testing.T) {
	t.Parallel()
	writes := 0
	inv := newInv(context.Background(), ready(t), func([]byte) error { writes++; return nil })
	started := make(chan struct{})
	ended := make(chan error, 1)
	inv.Start(func(inv *Invocation) error {
		inv.Input()
		var h replay.Handle
		if err := inv.Do(func(m *replay.Machine) (err error) {
			h, _, err = m.Run("wait")
			return err
		}); err != nil {
			return err
		}
		inv.RegisterRun(h, func(ctx context.Context) (replay.RunOutcome, replay.RetryPolicy) {
			close(started)
			<-ctx.Done()
			ended <- ctx.Err()
			return replay.RunOutcome{Result: wire.ValueResult([]byte("late"))}, replay.RetryPolicy{}
		})
		_, _ = inv.Await(replay.Single(h), always(false))
		return inv.Return(wire.VoidResult())
	})
	<-started
	inv.Detach()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("run context ended with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run closure was not cancelled")
	}
	select {
	case <-inv.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not end")
	}
	if writes != 0 {
		t.Errorf("%d writes after Detach, want none", writes)
	}
}

// TestCancelSignalCancelsRun checks that the cancel signal arriving while a
// run closure executes cancels the closure's context, so that HTTP and
// database calls made with it abort; the await then fails as cancelled.
func TestCancelSignalCancelsRun(t *testing.T) {
	t.Parallel()
	inv := newInv(context.Background(), ready(t), func([]byte) error { return nil })
	started := make(chan struct{})
	ended := make(chan error, 1)
	status := startSlowRun(inv, wire.VoidResult(), func(ctx context.Context) replay.RunOutcome {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return replay.RunOutcome{Result: wire.FailureResult(409, "aborted")}
	})
	<-started
	feedCancel(t, inv)
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("run context ended with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cancel signal did not cancel the run closure")
	}
	select {
	case s := <-status:
		if s != replay.StatusCancelled {
			t.Errorf("await status %v, want cancelled", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the await did not return after the cancellation")
	}
	inv.CloseInput()
	<-inv.Done()
}

// TestPullFeedsWaitingHandler runs a handler on the calling goroutine with
// Pull: the sleep's completion arrives through Pull while the handler
// waits, and no other goroutine is involved.
func TestPullFeedsWaitingHandler(t *testing.T) {
	t.Parallel()
	inv, output := recorded(t)
	completion := wire.AppendFrame(nil, &wire.Notification{MessageType: wire.TypeSleepCompletion, ID: wire.CompletionID(1), Result: wire.VoidResult()}, 0)
	pulls := 0
	in := &funcInput{}
	inv.input, inv.pullInput = in, true
	in.pull = func(feed func([]byte) error) error {
		pulls++
		if pulls > 1 {
			t.Error("pulled again after the completion arrived")
			return errors.New("no more input")
		}
		// Split the frame: the engine must reassemble it across feeds.
		if err := feed(completion[:3]); err != nil {
			return err
		}
		return feed(completion[3:])
	}
	in.start = func() { t.Error("StartInput called in pull mode without a run") }
	inv.Run(func(inv *Invocation) error {
		inv.Input()
		h := sleep(inv)
		if st, err := inv.Await(replay.Single(h), peekResolver{h}); err != nil || st != replay.StatusReady {
			t.Errorf("Await = %v, %v", st, err)
		}
		return inv.Return(wire.Result{Value: []byte(`"done"`)})
	})
	select {
	case <-inv.Done():
	default:
		t.Fatal("Done not closed after Run returned")
	}
	msgs := output()
	if len(msgs) != 3 || msgs[0].Type() != wire.TypeSleepCommand || msgs[1].Type() != wire.TypeOutputCommand || msgs[2].Type() != wire.TypeEnd {
		t.Errorf("output %v, want sleep, output, end", types(msgs))
	}
}

// TestPullEndedInputSuspends checks that a Pull that fails ends the input,
// so the waiting handler suspends, and that CloseInput from another
// goroutine interrupts a blocked Pull.
func TestPullEndedInputSuspends(t *testing.T) {
	t.Parallel()
	inv, output := recorded(t)
	blocked := make(chan struct{})
	unblock := make(chan struct{})
	in := &funcInput{}
	inv.input, inv.pullInput = in, true
	in.pull = func(func([]byte) error) error {
		close(blocked)
		<-unblock
		return errors.New("interrupted")
	}
	in.interrupt = func() { close(unblock) }
	go func() {
		<-blocked
		inv.CloseInput()
	}()
	after := false
	inv.Run(func(inv *Invocation) error {
		inv.Input()
		h := sleep(inv)
		_, _ = inv.Await(replay.Single(h), peekResolver{h})
		after = true
		return inv.Return(wire.VoidResult())
	})
	if after {
		t.Error("the handler continued after its attempt suspended")
	}
	msgs := output()
	if len(msgs) != 2 || msgs[1].Type() != wire.TypeSuspension {
		t.Errorf("output %v, want sleep, suspension", types(msgs))
	}
}

// TestRecoveredExitRecordsNothing checks a handler that recovers the panic
// which ends it after a suspension and carries on: its next operation ends
// it again, and what it returns is not recorded.
func TestRecoveredExitRecordsNothing(t *testing.T) {
	t.Parallel()
	inv, output := recorded(t)
	inv.CloseInput()
	recovered, secondOp := false, false
	inv.Run(func(inv *Invocation) error {
		inv.Input()
		func() {
			defer func() { recovered = recover() != nil }()
			h := sleep(inv)
			_, _ = inv.Await(replay.Single(h), peekResolver{h})
		}()
		_ = inv.Do(func(m *replay.Machine) error { return nil })
		secondOp = true
		return inv.Return(wire.Result{Value: []byte(`"ignored"`)})
	})
	if !recovered || secondOp {
		t.Errorf("recovered %v, second operation returned %v; want true, false", recovered, secondOp)
	}
	msgs := output()
	if len(msgs) != 2 || msgs[1].Type() != wire.TypeSuspension {
		t.Errorf("output %v, want sleep, suspension", types(msgs))
	}
}

// recorded returns an invocation on a ready machine and a function that
// decodes everything it wrote so far.
func recorded(t *testing.T) (*Invocation, func() []wire.Message) {
	var mu sync.Mutex
	var out []byte
	inv := newInv(context.Background(), ready(t), func(frames []byte) error {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, frames...)
		return nil
	})
	return inv, func() []wire.Message {
		mu.Lock()
		defer mu.Unlock()
		return decodeAll(t, out)
	}
}

// sleep issues a sleep command and returns its handle; an operation that
// fails ends the handler (the attempt is over), so there is no error.
func sleep(inv *Invocation) replay.Handle {
	var h replay.Handle
	_ = inv.Do(func(m *replay.Machine) (err error) {
		h, err = m.Sleep(1, "")
		return err
	})
	return h
}

type peekResolver struct{ h replay.Handle }

func (r peekResolver) Resolved(m *replay.Machine) bool {
	_, ok := m.Peek(r.h)
	return ok
}

func decodeAll(t *testing.T, b []byte) []wire.Message {
	t.Helper()
	var msgs []wire.Message
	for len(b) > 0 {
		hd, err := wire.DecodeHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		n := wire.HeaderSize + int(hd.Length)
		msg, err := wire.Decode(hd.Type, b[wire.HeaderSize:n])
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, msg)
		b = b[n:]
	}
	return msgs
}

func types(msgs []wire.Message) []wire.Type {
	var ts []wire.Type
	for _, m := range msgs {
		ts = append(ts, m.Type())
	}
	return ts
}

// TestOnRunGoroutine checks that onRunGoroutine finds run on the
// handler's goroutine, whether started with Start or Run, and not on a
// goroutine the handler starts nor on the caller of Start.
func TestOnRunGoroutine(t *testing.T) {
	t.Parallel()
	for _, start := range []string{"Start", "Run"} {
		inv := newInv(context.Background(), ready(t), func([]byte) error { return nil })
		var inHandler, inChild bool
		h := func(inv *Invocation) error {
			inv.Input()
			inHandler = onRunGoroutine()
			done := make(chan struct{})
			go func() { inChild = onRunGoroutine(); close(done) }()
			<-done
			return inv.Return(wire.VoidResult())
		}
		if start == "Start" {
			inv.Start(h)
		} else {
			inv.Run(h)
		}
		<-inv.Done()
		if !inHandler || inChild {
			t.Errorf("%s: onRunGoroutine() in the handler %v, on its child %v; want true, false", start, inHandler, inChild)
		}
	}
	if onRunGoroutine() {
		t.Error("onRunGoroutine() = true outside run")
	}
}

// TestExitDeepInHandler checks that an operation far below the handler
// (more frames than one stack walk reads, through closures the compiler may
// inline) still ends the handler by unwinding to run: Run returns on the
// calling goroutine, with the suspension written, and the code after the
// operation never runs.
func TestExitDeepInHandler(t *testing.T) {
	t.Parallel()
	inv, output := recorded(t)
	inv.CloseInput()
	continued := false
	var deep func(n int)
	deep = func(n int) {
		if n > 0 {
			deep(n - 1)
			return
		}
		h := sleep(inv)
		_, _ = inv.Await(replay.Single(h), peekResolver{h}) // suspends
		continued = true
	}
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		inv.Run(func(inv *Invocation) error {
			inv.Input()
			deep(200)
			return inv.Return(wire.VoidResult())
		})
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return on its caller's goroutine")
	}
	if continued {
		t.Error("the handler continued after the attempt suspended")
	}
	msgs := output()
	if len(msgs) != 2 || msgs[1].Type() != wire.TypeSuspension {
		t.Errorf("output %v, want sleep, suspension", types(msgs))
	}
}

// TestExitOnUserGoroutine checks a goroutine of the user's own to which the
// handler handed its context: once the attempt is over, its operation
// returns ErrAttemptOver instead of panicking, which would take the process
// down, or ending the goroutine, which would leave the handler waiting for
// it forever; the handler then returns, and the attempt stays suspended.
func TestExitOnUserGoroutine(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var out []byte
	inv := newInv(context.Background(), ready(t), func(b []byte) error {
		mu.Lock()
		out = append(out, b...)
		mu.Unlock()
		return nil
	})
	inv.CloseInput()
	userErr := make(chan error, 1)
	go inv.Run(func(inv *Invocation) error {
		inv.Input()
		go func() {
			h := sleep(inv)
			_, err := inv.Await(replay.Single(h), peekResolver{h}) // suspends: the attempt is over
			userErr <- err
		}()
		select {
		case err := <-userErr:
			if !errors.Is(err, ErrAttemptOver) {
				t.Errorf("await on the user's goroutine: %v, want ErrAttemptOver", err)
			}
			return err
		case <-time.After(5 * time.Second):
			t.Error("the user's goroutine did not return")
			return nil
		}
	})
	select {
	case <-inv.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not return")
	}
	mu.Lock()
	defer mu.Unlock()
	var got []wire.Type
	for d := wire.NewDecoder(0); ; {
		if len(out) > 0 {
			_, _ = d.Write(out)
			out = nil
		}
		f, ok, err := d.Next()
		if err != nil || !ok {
			break
		}
		got = append(got, f.Header.Type)
	}
	if want := []wire.Type{wire.TypeSleepCommand, wire.TypeSuspension}; !slices.Equal(got, want) {
		t.Errorf("output %v, want %v", got, want)
	}
}

// TestCancelSignalDuringRunEndsAttempt checks a run closure that fails
// because the cancel signal cancelled its context: the run is journaled as
// cancelled (a terminal failure, 409), and the await sees the cancellation
// in the same attempt, instead of the attempt failing with a retryable
// error.
func TestCancelSignalDuringRunEndsAttempt(t *testing.T) {
	t.Parallel()
	inv, output := recorded(t)
	started := make(chan struct{})
	status := startSlowRun(inv, wire.FailureResult(409, "cancelled"), func(ctx context.Context) replay.RunOutcome {
		close(started)
		<-ctx.Done()
		return replay.RunOutcome{Retryable: &replay.Error{Code: 500, Message: ctx.Err().Error()}}
	})
	<-started
	feedCancel(t, inv)
	select {
	case s := <-status:
		if s != replay.StatusCancelled {
			t.Errorf("await status %v, want cancelled", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the await did not return after the cancellation")
	}
	<-inv.Done()
	msgs := output()
	var proposal *wire.ProposeRunCompletionMessage
	for _, m := range msgs {
		if p, ok := m.(*wire.ProposeRunCompletionMessage); ok {
			proposal = p
		}
	}
	if proposal == nil || proposal.Result.Kind != wire.ResultFailure || proposal.Result.Failure.Code != 409 {
		t.Errorf("proposal %+v, want a 409 failure (frames %v)", proposal, types(msgs))
	}
	if last := msgs[len(msgs)-1].Type(); last != wire.TypeEnd {
		t.Errorf("frames %v, want them to end with End", types(msgs))
	}
}

// result ends a test handler as one that returns its output and an error
// would: with the error if there is one, else with the output.
func result(inv *Invocation, output wire.Result, err error) error {
	if err != nil {
		return err
	}
	return inv.Return(output)
}

// startSlowRun starts a handler that runs closure as the run "slow call" and
// awaits it, then ends with output unless the await failed; the status of
// the await arrives on the channel returned.
func startSlowRun(inv *Invocation, output wire.Result, closure func(context.Context) replay.RunOutcome) <-chan replay.Status {
	status := make(chan replay.Status, 1)
	inv.Start(func(inv *Invocation) error {
		inv.Input()
		var h replay.Handle
		if err := inv.Do(func(m *replay.Machine) (err error) {
			h, _, err = m.Run("slow call")
			return err
		}); err != nil {
			return err
		}
		inv.RegisterRun(h, func(ctx context.Context) (replay.RunOutcome, replay.RetryPolicy) {
			return closure(ctx), replay.RetryPolicy{}
		})
		s, err := inv.Await(replay.Single(h), always(false))
		status <- s
		return result(inv, output, err)
	})
	return status
}

// feedCancel feeds the cancel signal to inv.
func feedCancel(t *testing.T, inv *Invocation) {
	t.Helper()
	cancel := wire.AppendFrame(nil, &wire.Notification{MessageType: wire.TypeSignalNotification,
		ID: wire.SignalID(wire.SignalCancel), Result: wire.VoidResult()}, 0)
	if err := inv.Feed(cancel); err != nil {
		t.Fatal(err)
	}
}

// newInv wraps a ready machine with an output and no hooks; tests set the
// hooks they need on the unexported fields.
func newInv(ctx context.Context, m *replay.Machine, out OutputFunc) *Invocation {
	return wrap(ctx, m, &Config{Output: out})
}

// funcInput is an Input made of the functions a test sets.
type funcInput struct {
	start     func()
	pull      func(feed func([]byte) error) error
	interrupt func()
}

func (f *funcInput) Start() {
	if f.start != nil {
		f.start()
	}
}

func (f *funcInput) Pull(feed func([]byte) error) error { return f.pull(feed) }

func (f *funcInput) Interrupt() {
	if f.interrupt != nil {
		f.interrupt()
	}
}
