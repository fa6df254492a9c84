package replay

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcodr/restate-sdk-go/wire"
)

func anyOf(comb wire.CombinatorType, hs ...Handle) Future {
	return Future{Combinator: comb, Handles: hs}
}

func nest(comb wire.CombinatorType, hs []Handle, children ...Future) Future {
	return Future{Combinator: comb, Handles: hs, Children: children}
}

const (
	firstCompleted = wire.CombinatorFirstCompleted
	allCompleted   = wire.CombinatorAllCompleted
	firstSucceeded = wire.CombinatorFirstSucceededOrAllFailed
	allSucceeded   = wire.CombinatorAllSucceededOrFirstFailed
	unknownComb    = wire.CombinatorUnknown
)

// awakeables creates n awakeables: signals 17, 18, …
func (s *script) awakeables(n int) []Handle {
	s.t.Helper()
	hs := make([]Handle, n)
	for i := range hs {
		hs[i], _ = s.awakeable()
	}
	return hs
}

// resolved reports which of hs have an applied notification.
func (s *script) resolved(hs ...Handle) []bool {
	r := make([]bool, len(hs))
	for i, h := range hs {
		_, r[i] = s.m.Peek(h)
	}
	return r
}

func (s *script) expectResolved(hs []Handle, want ...bool) {
	s.t.Helper()
	if diff := cmp.Diff(want, s.resolved(hs...)); diff != "" {
		s.t.Fatalf("resolved handles (-want +got):\n%s", diff)
	}
}

func TestFutureState(t *testing.T) {
	t.Parallel()
	// Leaves: 0 pending, 1 succeeded, 2 failed (signals 17, 18, 19).
	m := New(wire.V7, Options{DisableImplicitCancellation: true})
	if err := m.FeedBytes(encode(startMsg(1), inputCmd(""), signalDone(18, val("ok")), signalDone(19, failure(500, "no")))); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Input(); err != nil {
		t.Fatal(err)
	}
	var pending, ok, bad Handle
	for _, h := range []*Handle{&pending, &ok, &bad} {
		*h, _, _ = m.Awakeable()
	}
	// Apply the two queued notifications.
	if _, err := m.Await(anyOf(allCompleted, ok, bad)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    Future
		want FutureState
	}{
		{Single(pending), Pending},
		{Single(ok), Succeeded},
		{Single(bad), Failed},
		{anyOf(firstCompleted, pending, bad), Failed},
		{anyOf(firstCompleted, pending, ok, bad), Succeeded},
		{anyOf(firstCompleted, pending), Pending},
		{anyOf(unknownComb, pending, ok), Succeeded},
		{anyOf(allCompleted, ok, bad), Succeeded},
		{anyOf(allCompleted, ok, pending), Pending},
		{anyOf(allCompleted), Succeeded},
		{anyOf(firstSucceeded, bad, ok), Succeeded},
		{anyOf(firstSucceeded, bad, pending), Pending},
		{anyOf(firstSucceeded, bad, bad), Failed},
		{anyOf(allSucceeded, ok, pending, bad), Failed},
		{anyOf(allSucceeded, ok, pending), Pending},
		{anyOf(allSucceeded, ok, ok), Succeeded},
		{nest(firstCompleted, nil, anyOf(allCompleted, ok, pending), Single(bad)), Failed},
		{nest(firstCompleted, []Handle{pending}, anyOf(allCompleted, ok, pending)), Pending},
		{nest(allCompleted, []Handle{ok}, anyOf(firstCompleted, pending, bad)), Succeeded},
		{nest(allCompleted, []Handle{ok}, anyOf(firstCompleted, pending)), Pending},
		{nest(firstSucceeded, []Handle{bad}, anyOf(allSucceeded, ok, ok)), Succeeded},
		{nest(firstSucceeded, []Handle{bad}, anyOf(allSucceeded, ok, pending)), Pending},
		{nest(firstSucceeded, []Handle{bad}, anyOf(allSucceeded, ok, bad)), Failed},
		{nest(allSucceeded, []Handle{ok}, anyOf(firstSucceeded, bad, bad)), Failed},
		{nest(allSucceeded, []Handle{ok}, anyOf(firstSucceeded, bad, pending)), Pending},
		{nest(allSucceeded, []Handle{ok}, anyOf(firstSucceeded, bad, ok)), Succeeded},
		{nest(firstCompleted, nil, nest(allSucceeded, nil, nest(allCompleted, []Handle{ok, bad}))), Succeeded},
	}
	for i, tc := range tests {
		if got := m.State(&tc.f); got != tc.want {
			t.Errorf("case %d: State(%+v) = %v, want %v", i, tc.f, got, tc.want)
		}
	}
}

func TestCombinators(t *testing.T) {
	t.Parallel()
	cancelOff := Options{DisableImplicitCancellation: true}
	runJournalCases(t, []journalCase{
		{
			// G5: notifications are applied one at a time, only as far as
			// the await needs: the first notification (18) wins the race and
			// 17 stays queued.
			name:  "race applies one notification at a time",
			later: []wire.Message{signalDone(18, val("b")), signalDone(17, val("a"))},
			handler: func(s *script) {
				s.input()
				hs := s.awakeables(2)
				s.ready(anyOf(firstCompleted, hs...))
				s.expectResolved(hs, false, true)
				s.ready(Single(hs[0]))
				s.expectResolved(hs, true, true)
				s.end()
			},
			want: []out{end()},
		},
		{
			// The same race replayed from the journal picks the same winner,
			// whatever order the handler lists the children in.
			name: "race replayed from the journal",
			journal: []wire.Message{
				&wire.SleepCommand{ResultCompletionID: 1},
				&wire.SleepCommand{ResultCompletionID: 2},
				sleepDone(2),
				sleepDone(1),
			},
			handler: func(s *script) {
				s.input()
				a, b := s.sleep(""), s.sleep("")
				s.ready(anyOf(firstCompleted, a, b))
				s.expectResolved([]Handle{a, b}, false, true)
				s.end()
			},
			want: []out{end()},
		},
		{
			name: "race with a command after it replays",
			journal: []wire.Message{
				&wire.SleepCommand{ResultCompletionID: 1},
				&wire.SleepCommand{ResultCompletionID: 2},
				sleepDone(2),
				&wire.SleepCommand{ResultCompletionID: 3},
			},
			handler: func(s *script) {
				s.input()
				a, b := s.sleep(""), s.sleep("")
				s.ready(anyOf(firstCompleted, a, b))
				s.expectResolved([]Handle{a, b}, false, true)
				s.suspends(Single(s.sleep("")))
			},
			want: []out{suspendedOn(3)},
		},
		{
			name:  "all completed waits for every child, failures included",
			later: []wire.Message{signalDone(17, failure(500, "x")), signalDone(18, val("y"))},
			handler: func(s *script) {
				s.input()
				hs := s.awakeables(2)
				f := anyOf(allCompleted, hs...)
				s.ready(f)
				if s.m.State(&f) != Succeeded {
					s.t.Fatal("all completed is not a success")
				}
				s.end()
			},
			want: []out{end()},
		},
		{
			name:  "all completed suspends on the pending children only",
			later: []wire.Message{signalDone(18, val("y"))},
			handler: func(s *script) {
				s.input()
				s.suspends(anyOf(allCompleted, s.awakeables(3)...))
			},
			want: []out{suspension(future(firstCompleted, nil, ids(1), nil, future(allCompleted, nil, ids(17, 19), nil)))},
		},
		{
			name:  "first succeeded skips failures",
			later: []wire.Message{signalDone(17, failure(500, "x")), signalDone(18, val("y")), signalDone(19, val("z"))},
			handler: func(s *script) {
				s.input()
				hs := s.awakeables(3)
				f := anyOf(firstSucceeded, hs...)
				s.ready(f)
				s.expectResolved(hs, true, true, false)
				if s.m.State(&f) != Succeeded {
					s.t.Fatal("not a success")
				}
				s.end()
			},
			want: []out{end()},
		},
		{
			name:  "first succeeded fails when all failed",
			later: []wire.Message{signalDone(17, failure(500, "x")), signalDone(18, failure(500, "y"))},
			handler: func(s *script) {
				s.input()
				f := anyOf(firstSucceeded, s.awakeables(2)...)
				s.ready(f)
				if s.m.State(&f) != Failed {
					s.t.Fatal("not a failure")
				}
				s.end()
			},
			want: []out{end()},
		},
		{
			name:  "first succeeded suspends without the failed children",
			later: []wire.Message{signalDone(17, failure(500, "x"))},
			handler: func(s *script) {
				s.input()
				s.suspends(anyOf(firstSucceeded, s.awakeables(3)...))
			},
			want: []out{suspension(future(firstCompleted, nil, ids(1), nil, future(firstSucceeded, nil, ids(18, 19), nil)))},
		},
		{
			name:  "all succeeded short-circuits on the first failure",
			later: []wire.Message{signalDone(18, failure(500, "x")), signalDone(17, val("a")), signalDone(19, val("c"))},
			handler: func(s *script) {
				s.input()
				hs := s.awakeables(3)
				f := anyOf(allSucceeded, hs...)
				s.ready(f)
				s.expectResolved(hs, false, true, false)
				if s.m.State(&f) != Failed {
					s.t.Fatal("not a failure")
				}
				s.end()
			},
			want: []out{end()},
		},
		{
			name:  "all succeeded suspends without the succeeded children",
			later: []wire.Message{signalDone(19, val("c"))},
			handler: func(s *script) {
				s.input()
				s.suspends(anyOf(allSucceeded, s.awakeables(3)...))
			},
			want: []out{suspension(future(firstCompleted, nil, ids(1), nil, future(allSucceeded, nil, ids(17, 18), nil)))},
		},
		{
			// CombinatorUnknown behaves, and is encoded, as FIRST_COMPLETED.
			name:  "unknown combinator is first completed",
			later: []wire.Message{signalDone(18, val("b"))},
			handler: func(s *script) {
				s.input()
				hs := s.awakeables(3)
				s.ready(anyOf(unknownComb, hs[0], hs[1]))
				s.suspends(anyOf(unknownComb, hs[0], hs[2]))
			},
			want: []out{suspension(future(firstCompleted, nil, ids(1), nil, future(firstCompleted, nil, ids(17, 19), nil)))},
		},
		{
			name:  "nested tree: suspension keeps the pending subtrees",
			later: []wire.Message{signalDone(17, val("a")), signalDone(20, failure(500, "d"))},
			handler: func(s *script) {
				s.input()
				hs := s.awakeables(5) // 17..21
				named, err := s.m.Signal("go")
				s.ok(err)
				sleep := s.sleep("")
				// all( any(17, 18), first-succeeded(19, 20), race(named, sleep, all-succeeded(21)) )
				f := nest(allCompleted, nil,
					anyOf(firstCompleted, hs[0], hs[1]),
					anyOf(firstSucceeded, hs[2], hs[3]),
					nest(firstCompleted, []Handle{named, sleep}, anyOf(allSucceeded, hs[4])),
				)
				s.suspends(f)
			},
			want: []out{
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1}),
				suspension(future(firstCompleted, nil, ids(1), nil,
					future(allCompleted, nil, nil, nil,
						future(firstSucceeded, nil, ids(19), nil),
						future(firstCompleted, ids(1), nil, []string{"go"},
							future(allSucceeded, nil, ids(21), nil))))),
			},
		},
		{
			name:  "nested tree resolves once the whole tree resolves",
			later: []wire.Message{signalDone(18, val("b")), signalDone(17, val("a")), signalDone(20, val("d")), signalDone(19, val("c"))},
			handler: func(s *script) {
				s.input()
				hs := s.awakeables(4)
				f := nest(allCompleted, nil, anyOf(firstCompleted, hs[0], hs[1]), anyOf(firstCompleted, hs[2], hs[3]))
				s.ready(f)
				// 18 resolved the first race; 17 was applied on the way to
				// 20, which resolved the second; 19 is still queued.
				s.expectResolved(hs, true, true, false, true)
				s.end()
			},
			want: []out{end()},
		},
		{
			// The second await wakes up without progress: the hint is not
			// repeated.
			name:  "awaiting the same handle twice",
			open:  true,
			opts:  Options{},
			later: nil,
			handler: func(s *script) {
				s.input()
				h, _ := s.awakeable()
				s.awaitStatus(Single(h), StatusNeedInput)
				s.awaitStatus(Single(h), StatusNeedInput)
				s.closeInput()
				s.suspends(Single(h))
			},
			want: []out{
				awaitingOn(future(firstCompleted, nil, ids(17, 1), nil)),
				suspension(future(firstCompleted, nil, ids(17, 1), nil)),
			},
		},
		{
			// The tree shrinks as children resolve; a combinator left with one
			// child stays a combinator (only a lone handle is inlined).
			name: "awaiting-on tree shrinks across awaits",
			open: true,
			handler: func(s *script) {
				s.input()
				hs := s.awakeables(3)
				f := anyOf(allCompleted, hs...)
				s.awaitStatus(f, StatusNeedInput)
				s.feed(signalDone(17, val("v1")))
				s.awaitStatus(f, StatusNeedInput)
				s.feed(signalDone(18, val("v2")))
				s.awaitStatus(f, StatusNeedInput)
				s.closeInput()
				s.suspends(f)
			},
			want: []out{
				awaitingOn(future(firstCompleted, nil, ids(1), nil, future(allCompleted, nil, ids(17, 18, 19), nil))),
				awaitingOn(future(firstCompleted, nil, ids(1), nil, future(allCompleted, nil, ids(18, 19), nil))),
				awaitingOn(future(firstCompleted, nil, ids(1), nil, future(allCompleted, nil, ids(19), nil))),
				suspension(future(firstCompleted, nil, ids(1), nil, future(allCompleted, nil, ids(19), nil))),
			},
		},
		{
			name: "notification applied after the await asked for input",
			open: true,
			handler: func(s *script) {
				s.input()
				hs := s.awakeables(2)
				race := anyOf(firstCompleted, hs...)
				s.awaitStatus(race, StatusNeedInput)
				s.feed(signalDone(18, val("completion")))
				s.closeInput()
				s.ready(race)
				s.finish(s.take(hs[1]))
			},
			want: []out{
				awaitingOn(future(firstCompleted, nil, ids(1), nil, future(firstCompleted, nil, ids(17, 18), nil))),
				output(val("completion")), end(),
			},
		},
		{
			name:  "without implicit cancellation the tree is sent as is",
			opts:  cancelOff,
			later: []wire.Message{signalDone(17, val("a"))},
			handler: func(s *script) {
				s.input()
				hs := s.awakeables(3)
				s.suspends(nest(allCompleted, []Handle{hs[0]}, anyOf(firstCompleted, hs[1], hs[2])))
			},
			want: []out{suspension(future(allCompleted, nil, nil, nil, future(firstCompleted, nil, ids(18, 19), nil)))},
		},
		{
			name: "without implicit cancellation a lone handle",
			opts: cancelOff,
			handler: func(s *script) {
				s.input()
				s.suspends(Single(s.sleep("")))
			},
			want: []out{o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1}),
				suspension(future(firstCompleted, ids(1), nil, nil))},
		},
	})
}

// TestWorkedCombinatorExample is PROTOCOL.md §7.4: a sleep (completion 1)
// raced with a call (2, 3); suspension as a V7 tree or V5/V6 flat lists;
// on resume the call result journaled before the sleep's wins, on every
// replay.
func TestWorkedCombinatorExample(t *testing.T) {
	t.Parallel()
	handler := func(s *script) {
		s.input()
		a := s.sleep("")
		_, b := s.call(greeter, "")
		race := anyOf(firstCompleted, a, b)
		if _, err := s.m.Await(race); err != nil {
			return
		}
		if _, ok := s.m.Peek(a); ok {
			s.t.Error("the sleep won the race")
		}
		s.finish(s.take(b))
	}
	cmds := []wire.Message{&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1}, callCmd("", 2, 3)}
	for _, v := range allVersions {
		t.Run(fmt.Sprintf("suspend/%s", v), func(t *testing.T) {
			t.Parallel()
			want := []out{o(cmds[0]), o(cmds[1])}
			if v >= wire.V7 {
				want = append(want, o(&wire.SuspensionMessage{AwaitingOn: &wire.Future{
					CombinatorType: firstCompleted, WaitingSignals: ids(1),
					NestedFutures: []wire.Future{{CombinatorType: firstCompleted, WaitingCompletions: ids(1, 3)}},
				}}))
			} else {
				want = append(want, o(&wire.SuspensionMessage{WaitingCompletions: ids(1, 3), WaitingSignals: ids(1)}))
			}
			runJournalCase(t, v, journalCase{handler: handler, want: want})
		})
		t.Run(fmt.Sprintf("resume/%s", v), func(t *testing.T) {
			t.Parallel()
			journal := append(append([]wire.Message{}, cmds...), callDone(3, val("b")), sleepDone(1))
			runJournalCase(t, v, journalCase{journal: journal, handler: handler, want: []out{output(val("b")), end()}})
		})
	}
}

func TestAwaitingOnPolicy(t *testing.T) {
	t.Parallel()
	// A run executes while the handler awaits an awakeable that is not
	// part of the run.
	handler := func(s *script) {
		s.input()
		run, _ := s.run("r")
		s.awaitStatus(Single(run), StatusExecuteRun)
		h, _ := s.awakeable()
		s.awaitStatus(Single(h), StatusNeedInput)
		s.propose(run, RunOutcome{Result: val("v")}, RetryPolicy{})
		s.awaitStatus(Single(h), StatusNeedInput)
		s.closeInput()
		s.suspends(Single(h))
	}
	hint := awaitingOn(future(firstCompleted, nil, ids(17, 1), nil))
	runCmd1, proposal := o(runCmd(1, "r")), propose(1, val("v"))
	final := suspension(future(firstCompleted, nil, ids(17, 1), nil))
	runJournalCases(t, []journalCase{
		{
			name: "unless running (default)", open: true, handler: handler,
			want: []out{runCmd1, proposal, hint, final},
		},
		{
			name: "always", open: true, opts: Options{AwaitingOn: AwaitingOnAlways}, handler: handler,
			want: []out{runCmd1, hint, proposal, hint, final},
		},
		{
			name: "never", open: true, opts: Options{AwaitingOn: AwaitingOnNever}, handler: handler,
			want: []out{runCmd1, proposal, final},
		},
	})
}
