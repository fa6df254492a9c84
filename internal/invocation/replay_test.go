package invocation

import (
	"context"
	"strconv"
	"testing"

	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// runsJournal returns a machine fed with a journal of n completed runs, on
// an input stream that stays open.
func runsJournal(tb testing.TB, n int) *replay.Machine {
	tb.Helper()
	m := replay.New(wire.V6, replay.Options{})
	b := wire.AppendFrame(nil, &wire.StartMessage{ID: []byte("id"), DebugID: "inv_1", KnownEntries: uint32(1 + 2*n)}, 0)
	b = wire.AppendFrame(b, &wire.InputCommand{}, 0)
	for i := 1; i <= n; i++ {
		b = wire.AppendFrame(b, &wire.RunCommand{ResultCompletionID: uint32(i)}, 0)
		b = wire.AppendFrame(b, &wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(uint32(i)),
			Result: wire.ValueResult([]byte(strconv.Itoa(i)))}, 0)
	}
	if err := m.FeedBytes(b); err != nil || !m.Ready() {
		tb.Fatalf("machine not ready: %v", err)
	}
	return m
}

// replayRuns replays the n runs of m as a handler awaiting each in turn
// would, and returns the sum of their results.
func replayRuns(inv *Invocation, n int) (int, error) {
	sum := 0
	for range n {
		var h replay.Handle
		if err := inv.Do(func(m *replay.Machine) (err error) {
			h, _, err = m.Run("")
			return err
		}); err != nil {
			return 0, err
		}
		r := resolvedBy(h)
		if _, err := inv.Await(replay.Single(h), r); err != nil {
			return 0, err
		}
		v, _ := strconv.Atoi(string(r.result.Value))
		sum += v
	}
	return sum, nil
}

// resolvedBy resolves when handle h has a result, and takes it.
func resolvedBy(h replay.Handle) *taker { return &taker{h: h} }

type taker struct {
	h      replay.Handle
	result wire.Result
}

func (t *taker) Resolved(m *replay.Machine) bool {
	r, ok := m.Take(t.h)
	if ok {
		t.result = r
	}
	return ok
}

// TestReplayRuns replays a journal of runs through Await: every run
// resolves from the journal, in order, without asking for input.
func TestReplayRuns(t *testing.T) {
	t.Parallel()
	const n = 500
	inv := newInv(context.Background(), runsJournal(t, n), func([]byte) error { return nil })
	var (
		sum int
		err error
	)
	inv.Start(func(inv *Invocation) error {
		inv.Input()
		sum, err = replayRuns(inv, n)
		return result(inv, wire.VoidResult(), err)
	})
	<-inv.Done()
	if err != nil || sum != n*(n+1)/2 {
		t.Fatalf("sum %d, %v; want %d", sum, err, n*(n+1)/2)
	}
}

// TestCancelDuringWait checks that the cancel signal ends a wait with
// StatusCancelled, through the applied-signal check of cancellingLocked.
func TestCancelDuringWait(t *testing.T) {
	t.Parallel()
	inv := newInv(context.Background(), ready(t), func([]byte) error { return nil })
	status := make(chan replay.Status, 1)
	inv.waiting = func() {
		// Called with the lock held: feed from another goroutine.
		go func() {
			_ = inv.Feed(wire.AppendFrame(nil, &wire.Notification{MessageType: wire.TypeSignalNotification,
				ID: wire.SignalID(wire.SignalCancel), Result: wire.VoidResult()}, 0))
		}()
	}
	inv.Start(func(inv *Invocation) error {
		inv.Input()
		var h replay.Handle
		if err := inv.Do(func(m *replay.Machine) (err error) {
			h, err = m.Sleep(1, "")
			return err
		}); err != nil {
			return err
		}
		st, err := inv.Await(replay.Single(h), resolvedBy(h))
		status <- st
		return result(inv, wire.VoidResult(), err)
	})
	<-inv.Done()
	if st := <-status; st != replay.StatusCancelled {
		t.Fatalf("status %v, want StatusCancelled", st)
	}
}

// BenchmarkReplayRuns measures replaying a journal of n runs through Await;
// the time per run must not grow with n.
func BenchmarkReplayRuns(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run("entries="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				inv := newInv(context.Background(), runsJournal(b, n), func([]byte) error { return nil })
				b.StartTimer()
				inv.Start(func(inv *Invocation) error {
					inv.Input()
					_, err := replayRuns(inv, n)
					return result(inv, wire.VoidResult(), err)
				})
				<-inv.Done()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
		})
	}
}
