package replay

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/wire"
)

// Edge cases of the engine that the scenario tables do not reach.

func TestEdgeCases(t *testing.T) {
	t.Parallel()
	runJournalCases(t, []journalCase{
		{
			// The run's completion is applied to the ready set by an
			// earlier await (it came first in the journal), before the run
			// is issued: the run must not execute again.
			name: "run completion applied before the run is issued",
			journal: []wire.Message{
				&wire.SleepCommand{ResultCompletionID: 1},
				runDone(2, val("stored")),
				sleepDone(1),
				runCmd(2, "r"),
			},
			handler: func(s *script) {
				s.input()
				s.get(s.sleep(""))
				h, exec := s.run("r")
				if exec {
					s.t.Fatal("run executes again")
				}
				s.finish(s.get(h))
			},
			want: []out{output(val("stored")), end()},
		},
		{
			name: "run to execute inside a nested combinator",
			handler: func(s *script) {
				s.input()
				a, _ := s.awakeable()
				run, _ := s.run("r")
				f := nest(firstCompleted, []Handle{a}, nest(allCompleted, nil, Single(run)))
				if res := s.awaitStatus(f, StatusExecuteRun); res.Run != run {
					s.t.Fatalf("execute %d", res.Run)
				}
				s.propose(run, RunOutcome{Result: val("v")}, RetryPolicy{})
				s.suspends(f)
			},
			want: []out{
				o(runCmd(1, "r")),
				propose(1, val("v")),
				suspension(future(firstCompleted, nil, ids(1), nil,
					future(firstCompleted, nil, ids(17), nil,
						future(allCompleted, nil, nil, nil, future(firstCompleted, ids(1), nil, nil))))),
			},
		},
		{
			// Replaying a cancellation whose journal continues with another
			// command than the cancel of the child: the code changed.
			name: "cancellation replayed against another command",
			journal: []wire.Message{
				callCmd("", 1, 2), invocationIDDone(1, "child"), cancelSignal(),
				&wire.SleepCommand{ResultCompletionID: 3},
			},
			handler: func(s *script) {
				s.input()
				_, res := s.call(greeter, "")
				_, err := s.m.Await(Single(res))
				s.fails(err, CodeJournalMismatch)
			},
			want: []out{o(&wire.ErrorMessage{Code: 570, RelatedCommandIndex: wire.Uint32(2),
				RelatedCommandType: wire.Uint32(uint32(wire.TypeSendSignalCommand))})},
		},
		{
			name: "unreplayable await lists only the pending leaves",
			journal: []wire.Message{
				&wire.SleepCommand{ResultCompletionID: 1},
				&wire.SleepCommand{ResultCompletionID: 2},
				sleepDone(1),
				&wire.SleepCommand{ResultCompletionID: 3},
			},
			handler: func(s *script) {
				s.input()
				a, b := s.sleep(""), s.sleep("")
				_, err := s.m.Await(anyOf(allCompleted, a, b))
				e := s.fails(err, CodeJournalMismatch)
				if !strings.Contains(e.Message, "awaits completion 2, which") {
					s.t.Errorf("message %q", e.Message)
				}
			},
			want: []out{errorOut(CodeJournalMismatch)},
		},
		{
			name:    "replayed eager get without a result",
			journal: []wire.Message{&wire.GetEagerStateCommand{Key: []byte("k")}},
			handler: func(s *script) {
				s.input()
				_, err := s.m.GetState("k")
				s.fails(err, CodeProtocolViolation)
			},
			want: []out{errorOut(CodeProtocolViolation)},
		},
		{
			// ProposeRun outside processing (here: while still replaying) is
			// ignored, as in the reference core.
			name:    "proposal while replaying is ignored",
			journal: []wire.Message{runCmd(1, "r"), &wire.SleepCommand{ResultCompletionID: 2}},
			handler: func(s *script) {
				s.input()
				h, _ := s.run("r")
				s.ok(s.m.ProposeRun(h, RunOutcome{Result: val("v")}, RetryPolicy{}))
				s.sleep("")
				s.end()
			},
			want: []out{end()},
		},
	})
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p       RetryPolicy
		attempt uint32
		want    time.Duration
	}{
		{RetryPolicy{}, 3, 0},
		{RetryPolicy{InitialInterval: 2 * time.Second, MaxInterval: time.Second}, 1, time.Second},
		{RetryPolicy{InitialInterval: time.Second, Factor: 0.5}, 3, time.Second},
		{RetryPolicy{InitialInterval: time.Second, Factor: 2}, 1, time.Second},
		{RetryPolicy{InitialInterval: time.Second, Factor: 2}, 4, 8 * time.Second},
		{RetryPolicy{InitialInterval: time.Second, Factor: 2, MaxInterval: 5 * time.Second}, 4, 5 * time.Second},
	} {
		if got := tc.p.delay(tc.attempt); got != tc.want {
			t.Errorf("%+v.delay(%d) = %v, want %v", tc.p, tc.attempt, got, tc.want)
		}
	}
}

func TestFeedFrame(t *testing.T) {
	t.Parallel()
	m := New(wire.V7, Options{})
	for _, msg := range []wire.Message{startMsg(2), inputCmd("x"), sleepDone(1)} {
		payload := msg.AppendPayload(nil)
		f := wire.Frame{Header: wire.Header{Type: msg.Type(), Length: uint32(len(payload))}, Payload: payload}
		if err := m.FeedFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if !m.Ready() {
		t.Fatal("not ready after the frames")
	}
	// A malformed frame fails the attempt; after that frames are ignored.
	bad := wire.Frame{Header: wire.Header{Type: wire.TypeSleepCompletion, Length: 1}, Payload: []byte{0x08}}
	if err := m.FeedFrame(bad); !errors.Is(err, &Error{Code: CodeProtocolViolation}) {
		t.Fatalf("malformed frame: %v", err)
	}
	m.TakeOutput()
	if err := m.FeedFrame(bad); err != nil || m.HasOutput() {
		t.Fatalf("malformed frame after the failure: %v, output %v", err, m.HasOutput())
	}
}

func TestAccessors(t *testing.T) {
	t.Parallel()
	m := New(wire.V5, Options{})
	if err := m.FeedBytes(frames(startMsg(1), inputCmd(""))); err != nil {
		t.Fatal(err)
	}
	if m.InputClosed() {
		t.Error("InputClosed() before CloseInput")
	}
	if err := m.CloseInput(); err != nil || !m.InputClosed() {
		t.Errorf("CloseInput: %v, InputClosed() %v", err, m.InputClosed())
	}
	if _, err := m.Input(); err != nil {
		t.Fatal(err)
	}
	h, _, _ := m.Awakeable()
	if id := m.NotificationID(h); id != wire.SignalID(17) {
		t.Errorf("NotificationID = %v", id)
	}
	if id := m.NotificationID(CancelHandle); id != wire.SignalID(wire.SignalCancel) {
		t.Errorf("NotificationID(CancelHandle) = %v", id)
	}
	for s, want := range map[Status]string{
		StatusReady: "ready", StatusNeedInput: "need input", StatusExecuteRun: "execute run",
		StatusWaitingRun: "waiting for a run", StatusCancelled: "cancelled", Status(42): "Status(42)",
	} {
		if s.String() != want {
			t.Errorf("Status %d: %q, want %q", s, s.String(), want)
		}
	}
	for s, want := range map[machineState]string{
		stateWaitingStart: "waiting for the start message", stateWaitingEntries: "waiting for the replayed journal",
		stateReplaying: "replaying", stateProcessing: "processing", stateClosed: "closed",
	} {
		if s.String() != want {
			t.Errorf("state %d: %q, want %q", s, s.String(), want)
		}
	}
	e := &Error{Code: 570, Message: "m"}
	if e.Error() != "replay: [570] m" || errors.Is(e, &Error{Code: 570, Message: "other"}) || errors.Is(e, errors.New("x")) {
		t.Errorf("Error methods: %q", e.Error())
	}
}

// TestRunCompletionBeyondReceivedSet: completion ids past the received bit
// set are found by scanning the queue.
func TestRunCompletionBeyondReceivedSet(t *testing.T) {
	t.Parallel()
	const c = maxReceivedID + 5
	for _, journaled := range []bool{true, false} {
		msgs := []wire.Message{startMsg(2), inputCmd(""), runCmd(c, "r")}
		if journaled {
			msgs[0] = startMsg(3)
			msgs = append(msgs, runDone(c, val("stored")))
		}
		m := New(wire.V6, Options{})
		if err := m.FeedBytes(encode(msgs...)); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Input(); err != nil {
			t.Fatal(err)
		}
		m.nextCompletionID = c // as if the handler had used the ids before
		_, exec, err := m.Run("r")
		if err != nil || exec == journaled {
			t.Errorf("completion journaled %v: Run executes %v, err %v", journaled, exec, err)
		}
	}
}
