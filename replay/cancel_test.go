package replay

import (
	"testing"

	"github.com/qcodr/restate-sdk-go/wire"
)

// cancelled awaits f, expects the cancellation and ends the attempt with a
// 409 terminal failure, as the SDK does.
func (s *script) cancelled(f Future) {
	s.t.Helper()
	s.awaitStatus(f, StatusCancelled)
	s.finish(failure(uint32(CodeCancelled), "Cancelled"))
}

var cancelledOutput = []out{output(failure(409, "Cancelled")), end()}

func TestImplicitCancellation(t *testing.T) {
	t.Parallel()
	runJournalCases(t, []journalCase{
		{
			name:  "cancel while sleeping, no children",
			later: []wire.Message{cancelSignal()},
			handler: func(s *script) {
				s.input()
				if !s.m.CancelRequested() {
					s.t.Error("CancelRequested() false with the cancel signal queued")
				}
				s.cancelled(Single(s.sleep("")))
			},
			want: append([]out{o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1})}, cancelledOutput...),
		},
		{
			name:  "call, take its invocation id, then cancel",
			later: []wire.Message{invocationIDDone(1, "my-id"), cancelSignal()},
			handler: func(s *script) {
				s.input()
				id, res := s.call(greeter, "")
				s.get(id)
				s.cancelled(Single(res))
			},
			want: append([]out{o(callCmd("", 1, 2)), o(cancelCmd("my-id"))}, cancelledOutput...),
		},
		{
			name:  "call then cancel: the invocation id is read from its notification",
			later: []wire.Message{invocationIDDone(1, "my-id"), cancelSignal()},
			handler: func(s *script) {
				s.input()
				_, res := s.call(greeter, "")
				s.cancelled(Single(res))
			},
			want: append([]out{o(callCmd("", 1, 2)), o(cancelCmd("my-id"))}, cancelledOutput...),
		},
		{
			name:  "cancel signal before the invocation id: suspend on the id",
			later: []wire.Message{cancelSignal()},
			handler: func(s *script) {
				s.input()
				_, res := s.call(greeter, "")
				s.suspends(Single(res))
			},
			want: []out{o(callCmd("", 1, 2)), suspension(future(firstCompleted, ids(1), nil, nil))},
		},
		{
			name:  "cancel signal before the invocation id, stream open",
			open:  true,
			later: []wire.Message{cancelSignal()},
			handler: func(s *script) {
				s.input()
				_, res := s.call(greeter, "")
				s.awaitStatus(Single(res), StatusNeedInput)
				s.feed(invocationIDDone(1, "my-id"))
				s.cancelled(Single(res))
			},
			want: []out{
				o(callCmd("", 1, 2)),
				awaitingOn(future(firstCompleted, ids(1), nil, nil)),
				o(cancelCmd("my-id")),
				output(failure(409, "Cancelled")), end(),
			},
		},
		{
			// Resuming the suspension above: the cancel is journaled before
			// the id, the cancellation replays deterministically.
			name:    "resume a cancellation that waited for an invocation id",
			journal: []wire.Message{callCmd("", 1, 2), cancelSignal(), invocationIDDone(1, "my-id")},
			handler: func(s *script) {
				s.input()
				_, res := s.call(greeter, "")
				s.cancelled(Single(res))
			},
			want: append([]out{o(cancelCmd("my-id"))}, cancelledOutput...),
		},
		{
			name: "replay while cancelling: one cancel journaled, one new",
			journal: []wire.Message{
				callCmd("", 1, 2), invocationIDDone(1, "my-id-1"),
				callCmd("", 3, 4), invocationIDDone(3, "my-id-2"),
				cancelSignal(),
				cancelCmd("my-id-1"),
			},
			handler: func(s *script) {
				s.input()
				_, r1 := s.call(greeter, "")
				_, r2 := s.call(greeter, "")
				s.awaitStatus(anyOf(firstCompleted, r1, r2), StatusCancelled)
				s.end()
			},
			want: []out{o(cancelCmd("my-id-2")), end()},
		},
		{
			name:  "one-way calls are not cancelled by default",
			later: []wire.Message{invocationIDDone(1, "sent-id"), cancelSignal()},
			handler: func(s *script) {
				s.input()
				_, err := s.m.Send(greeter, nil, 0)
				s.ok(err)
				s.cancelled(Single(s.sleep("")))
			},
			want: append([]out{o(sendCmd("", 1, 0)), o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 2})}, cancelledOutput...),
		},
		{
			name:  "one-way calls cancelled when asked",
			opts:  Options{CancelOneWayCalls: true},
			later: []wire.Message{invocationIDDone(1, "sent-id"), invocationIDDone(2, "call-id"), cancelSignal()},
			handler: func(s *script) {
				s.input()
				_, err := s.m.Send(greeter, nil, 0)
				s.ok(err)
				_, res := s.call(greeter, "")
				s.cancelled(Single(res))
			},
			want: append([]out{o(sendCmd("", 1, 0)), o(callCmd("", 2, 3)), o(cancelCmd("sent-id")), o(cancelCmd("call-id"))}, cancelledOutput...),
		},
		{
			name:  "disabled implicit cancellation: the cancel signal is not awaited",
			opts:  Options{DisableImplicitCancellation: true},
			later: []wire.Message{cancelSignal()},
			handler: func(s *script) {
				s.input()
				if s.m.CancelRequested() {
					s.t.Error("CancelRequested() with implicit cancellation disabled")
				}
				_, res := s.call(greeter, "")
				s.suspends(Single(res))
			},
			want: []out{o(callCmd("", 1, 2)), suspension(future(firstCompleted, ids(2), nil, nil))},
		},
		{
			name:  "disabled implicit cancellation: the cancel signal can be awaited explicitly",
			opts:  Options{DisableImplicitCancellation: true},
			later: []wire.Message{cancelSignal()},
			handler: func(s *script) {
				s.input()
				s.ready(Single(CancelHandle))
				s.expectResult(s.take(CancelHandle), void())
				s.end()
			},
			want: []out{end()},
		},
		{
			// The cancel signal is consumed: the next await proceeds, and
			// only a second cancel signal cancels again.
			name:  "cancellation is consumed",
			open:  true,
			later: []wire.Message{cancelSignal(), sleepDone(2)},
			handler: func(s *script) {
				s.input()
				s.awaitStatus(Single(s.sleep("")), StatusCancelled)
				s.ready(Single(s.sleep("")))
				if s.m.CancelRequested() {
					s.t.Error("CancelRequested() after the cancellation was handled")
				}
				h := s.sleep("")
				s.awaitStatus(Single(h), StatusNeedInput)
				s.feed(cancelSignal())
				s.cancelled(Single(h))
			},
			want: []out{
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1}),
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 2}),
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 3}),
				awaitingOn(future(firstCompleted, ids(3), ids(1), nil)),
				output(failure(409, "Cancelled")), end(),
			},
		},
		{
			// Children cancelled once are not cancelled again by a later
			// cancellation; calls made after it are.
			name: "children cancelled once",
			later: []wire.Message{
				invocationIDDone(1, "first"), cancelSignal(), invocationIDDone(4, "second"), cancelSignal(),
			},
			handler: func(s *script) {
				s.input()
				s.call(greeter, "")
				s.awaitStatus(Single(s.sleep("")), StatusCancelled)
				_, res := s.call(greeter, "")
				s.cancelled(Single(res))
			},
			want: append([]out{
				o(callCmd("", 1, 2)),
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 3}),
				o(cancelCmd("first")),
				o(callCmd("", 4, 5)),
				o(cancelCmd("second")),
			}, cancelledOutput...),
		},
		{
			name:  "the awaited result and the cancel signal both arrived",
			later: []wire.Message{sleepDone(1), cancelSignal()},
			handler: func(s *script) {
				s.input()
				h := s.sleep("")
				s.ready(Single(h))
				// The sleep resolved first; the cancel is still queued and
				// cancels the next await.
				s.cancelled(Single(s.sleep("")))
			},
			want: append([]out{
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1}),
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 2}),
			}, cancelledOutput...),
		},
		{
			name:  "cancel requested while a run executes",
			open:  true,
			later: []wire.Message{},
			handler: func(s *script) {
				s.input()
				h, _ := s.run("r")
				s.awaitStatus(Single(h), StatusExecuteRun)
				s.feed(cancelSignal())
				if !s.m.CancelRequested() {
					s.t.Error("CancelRequested() false during the run")
				}
				s.propose(h, RunOutcome{Result: failure(409, "cancelled")}, RetryPolicy{})
				s.cancelled(Single(h))
			},
			want: append([]out{o(runCmd(1, "r")), propose(1, failure(409, "cancelled"))}, cancelledOutput...),
		},
	})
}
