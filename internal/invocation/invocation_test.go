package invocation

import (
	"context"
	"errors"
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
	inv := New(context.Background(), ready(t), func([]byte) error { return errGone })
	after := make(chan struct{}, 1)
	inv.Start(func(inv *Invocation, _ replay.Input) (wire.Result, error) {
		var h replay.Handle
		if err := inv.Do(func(m *replay.Machine) (err error) {
			h, err = m.Sleep(1, "")
			return err
		}); err != nil {
			return wire.Result{}, err
		}
		// The sleep command is flushed here, the write fails, and the
		// handler must end instead of waiting for the timer.
		_, _ = inv.Await(replay.Single(h), always(false))
		after <- struct{}{}
		return wire.VoidResult(), nil
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
	inv := New(context.Background(), ready(t), func([]byte) error {
		writes++
		return errors.New("peer gone")
	})
	ran := false
	inv.Start(func(inv *Invocation, _ replay.Input) (wire.Result, error) {
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
		return wire.VoidResult(), nil
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
	inv := New(context.Background(), ready(t), func([]byte) error { writes++; return nil })
	started := make(chan struct{})
	ended := make(chan error, 1)
	inv.Start(func(inv *Invocation, _ replay.Input) (wire.Result, error) {
		var h replay.Handle
		if err := inv.Do(func(m *replay.Machine) (err error) {
			h, _, err = m.Run("wait")
			return err
		}); err != nil {
			return wire.Result{}, err
		}
		inv.RegisterRun(h, func(ctx context.Context) (replay.RunOutcome, replay.RetryPolicy) {
			close(started)
			<-ctx.Done()
			ended <- ctx.Err()
			return replay.RunOutcome{Result: wire.ValueResult([]byte("late"))}, replay.RetryPolicy{}
		})
		_, _ = inv.Await(replay.Single(h), always(false))
		return wire.VoidResult(), nil
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
	inv := New(context.Background(), ready(t), func([]byte) error { return nil })
	started := make(chan struct{})
	ended := make(chan error, 1)
	status := make(chan replay.Status, 1)
	inv.Start(func(inv *Invocation, _ replay.Input) (wire.Result, error) {
		var h replay.Handle
		if err := inv.Do(func(m *replay.Machine) (err error) {
			h, _, err = m.Run("slow call")
			return err
		}); err != nil {
			return wire.Result{}, err
		}
		inv.RegisterRun(h, func(ctx context.Context) (replay.RunOutcome, replay.RetryPolicy) {
			close(started)
			<-ctx.Done()
			ended <- ctx.Err()
			return replay.RunOutcome{Result: wire.FailureResult(409, "aborted")}, replay.RetryPolicy{}
		})
		s, err := inv.Await(replay.Single(h), always(false))
		status <- s
		return wire.VoidResult(), err
	})
	<-started
	cancel := wire.AppendFrame(nil, &wire.Notification{MessageType: wire.TypeSignalNotification,
		ID: wire.SignalID(wire.SignalCancel), Result: wire.VoidResult()}, 0)
	if err := inv.Feed(cancel); err != nil {
		t.Fatal(err)
	}
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
