package invocation

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// TestStartMessage checks the one builder of start messages: the fields a
// version lacks are left out, the state is in key order, and a nil value
// is sent as an empty one.
func TestStartMessage(t *testing.T) {
	t.Parallel()
	start := &Start{
		ID: []byte("id"), DebugID: "inv_1", Key: "k", RetryCount: 2, SinceLastStored: 1500 * time.Millisecond,
		Seed: 7, IdempotencyKey: "idem",
		State: map[string][]byte{"b": []byte("2"), "a": nil},
		Eager: true,
	}
	state := []wire.StateEntry{{Key: []byte("a"), Value: []byte{}}, {Key: []byte("b"), Value: []byte("2")}}
	base := wire.StartMessage{ID: []byte("id"), DebugID: "inv_1", KnownEntries: 3, Key: "k", RetryCountSinceLastStoredEntry: 2,
		DurationSinceLastStoredEntry: 1500, StateMap: state}
	v6, v7 := base, base
	v6.RandomSeed = 7
	v7.RandomSeed, v7.IdempotencyKey = 7, wire.String("idem")
	tests := []struct {
		name string
		v    wire.Version
		want wire.StartMessage
	}{
		{"V5", wire.V5, base},
		{"V6", wire.V6, v6},
		{"V7", wire.V7, v7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(&tc.want, StartMessage(tc.v, start, 3)); diff != "" {
				t.Errorf("StartMessage (-want +got):\n%s", diff)
			}
		})
	}
	if st := StartMessage(wire.V7, &Start{}, 0); !st.PartialState || st.IdempotencyKey != nil {
		t.Errorf("StartMessage of an empty Start = %+v, want partial state and no idempotency key", st)
	}
}

// TestEngineRejects checks that Engine reports a start the engine cannot
// run, and that such an attempt's Reject writes the engine's ErrorMessage
// without running anything.
func TestEngineRejects(t *testing.T) {
	t.Parallel()
	cfg := Config{Version: wire.V6, Body: wire.AppendFrame(nil, &wire.StartMessage{KnownEntries: 2}, 0), CloseInput: true}
	if _, err := Engine(&cfg); err == nil {
		t.Fatal("Engine accepted an input that ended before the journal")
	}
	var out []byte
	cfg.Output = OutputFunc(func(b []byte) error { out = append(out, b...); return nil })
	inv := New(context.Background(), cfg)
	if inv.Ready() {
		t.Fatal("Ready on a refused attempt")
	}
	var re *replay.Error
	if !errors.As(inv.Err(), &re) || re.Code != replay.CodeProtocolViolation {
		t.Errorf("Err() = %v, want a protocol violation", inv.Err())
	}
	inv.Reject()
	<-inv.Done()
	msgs := decodeAll(t, out)
	if len(msgs) != 1 || msgs[0].Type() != wire.TypeError {
		t.Errorf("Reject wrote %v, want one ErrorMessage", types(msgs))
	}
}

// TestStepEvents checks a step-driven attempt: with the input open, the
// handler's wait is queued as an Idle event after the frames it flushed,
// and Wake is called for each event; with the input closed it suspends
// with no Idle event.
func TestStepEvents(t *testing.T) {
	t.Parallel()
	for _, closed := range []bool{false, true} {
		wakes := 0
		inv := New(context.Background(), Config{
			Version:    wire.V6,
			Start:      &Start{ID: []byte("id"), DebugID: "inv_1"},
			Journal:    []wire.Message{&wire.InputCommand{}},
			CloseInput: closed,
			Step:       true,
			Wake:       func() { wakes++ },
		})
		if !inv.Ready() {
			t.Fatalf("closed=%v: not ready: %v", closed, inv.Err())
		}
		inv.Start(func(inv *Invocation) error {
			inv.Input()
			h := sleep(inv)
			_, _ = inv.Await(replay.Single(h), peekResolver{h})
			return inv.Return(wire.VoidResult())
		})
		var got []string
		for done := false; !done; {
			select {
			case <-inv.Queued():
			case <-inv.Done():
				done = true
			}
			for _, ev := range inv.Events() {
				if ev.Idle {
					got = append(got, "idle")
					inv.CloseInput()
					continue
				}
				for _, m := range decodeAll(t, ev.Frames) {
					got = append(got, m.Type().String())
				}
			}
		}
		want := []string{wire.TypeSleepCommand.String(), "idle", wire.TypeSuspension.String()}
		if closed {
			want = []string{wire.TypeSleepCommand.String(), wire.TypeSuspension.String()}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("closed=%v: events (-want +got):\n%s", closed, diff)
		}
		if inv.HasEvents() || wakes == 0 {
			t.Errorf("closed=%v: HasEvents %v after taking all, %d wakes", closed, inv.HasEvents(), wakes)
		}
	}
}
