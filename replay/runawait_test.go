package replay

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/qcodr/restate-sdk-go/wire"
)

// TestRunAwaitSameAsRunAwaitTake checks that RunAwait behaves exactly like
// Run, then Await(Single(h)) and Take(h) when the run needs no execution:
// the same handles, statuses, results and errors, the same output frames,
// and the same state afterwards, whatever the journal holds (the run's
// result, a failure, the cancel signal before or after it, a call whose
// invocation id a cancellation must wait for, a mismatch, a missing result).
func TestRunAwaitSameAsRunAwaitTake(t *testing.T) {
	t.Parallel()
	type step struct {
		call bool   // a call instead of a run
		name string // the run's name
	}
	runs := func(names ...string) []step {
		var s []step
		for _, n := range names {
			s = append(s, step{name: n})
		}
		return s
	}
	cases := []struct {
		name    string
		journal []wire.Message // after the start message and the input
		later   []wire.Message // after the replayed journal
		open    bool           // the input stays open
		steps   []step
	}{
		{name: "replayed runs",
			journal: []wire.Message{runCmd(1, "a"), runDone(1, val("1")), runCmd(2, "b"), runDone(2, val("2"))},
			steps:   runs("a", "b", "c")},
		{name: "replayed runs, input open",
			journal: []wire.Message{runCmd(1, "a"), runDone(1, val("1"))},
			later:   []wire.Message{runDone(2, val("2"))},
			open:    true, steps: runs("a", "b", "c")},
		{name: "void, empty and failed results",
			journal: []wire.Message{runCmd(1, "a"), runDone(1, void()), runCmd(2, "b"), runDone(2, val("")), runCmd(3, "c"), runDone(3, failure(500, "boom"))},
			steps:   runs("a", "b", "c")},
		{name: "completions after all commands",
			journal: []wire.Message{runCmd(1, "a"), runCmd(2, "b"), runDone(2, val("2")), runDone(1, val("1"))},
			steps:   runs("a", "b")},
		{name: "cancel signal before the run's result",
			journal: []wire.Message{runCmd(1, "a"), cancelSignal(), runDone(1, val("1")), runCmd(2, "b"), runDone(2, val("2"))},
			steps:   runs("a", "b")},
		{name: "cancel signal after the run's result",
			journal: []wire.Message{runCmd(1, "a"), runDone(1, val("1")), cancelSignal(), runCmd(2, "b"), runDone(2, val("2"))},
			steps:   runs("a", "b")},
		{name: "cancel signal later",
			journal: []wire.Message{runCmd(1, "a"), runDone(1, val("1"))},
			later:   []wire.Message{cancelSignal(), runDone(2, val("2"))},
			open:    true, steps: runs("a", "b", "c")},
		{name: "cancel signal with a call whose invocation id is unknown",
			later: []wire.Message{cancelSignal(), runDone(3, val("3"))},
			open:  true, steps: []step{{call: true}, {name: "a"}, {name: "b"}}},
		{name: "cancel signal with a call whose invocation id is known",
			later: []wire.Message{invocationIDDone(1, "my-id"), cancelSignal(), runDone(3, val("3"))},
			open:  true, steps: []step{{call: true}, {name: "a"}, {name: "b"}}},
		{name: "name mismatch",
			journal: []wire.Message{runCmd(1, "a"), runDone(1, val("1"))},
			steps:   runs("x")},
		{name: "result missing while replaying",
			journal: []wire.Message{runCmd(1, "a"), runCmd(2, "b"), runDone(2, val("2"))},
			steps:   runs("a", "b")},
		{name: "result missing, input closed",
			journal: []wire.Message{runCmd(1, "a")},
			steps:   runs("a")},
	}
	for _, v := range allVersions {
		for _, tc := range cases {
			for _, disable := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/disable=%v", v, tc.name, disable), func(t *testing.T) {
					play := func(fused bool) (string, []byte) {
						var log bytes.Buffer
						m := New(v, Options{DisableImplicitCancellation: disable})
						known := uint32(1 + len(tc.journal))
						body := encode(append(append([]wire.Message{startMsg(known), inputCmd("in")}, tc.journal...), tc.later...)...)
						fmt.Fprintf(&log, "feed %v\n", m.FeedBytes(body))
						if !tc.open {
							fmt.Fprintf(&log, "close %v\n", m.CloseInput())
						}
						_, err := m.Input()
						fmt.Fprintf(&log, "input %v\n", err)
						for _, s := range tc.steps {
							if s.call {
								id, res, err := m.Call(greeter, nil)
								fmt.Fprintf(&log, "call %d %d %v\n", id, res, err)
								continue
							}
							var (
								r   RunAwaited
								res wire.Result
							)
							if fused {
								r, err = m.RunAwait(s.name, &res)
							} else {
								r.Handle, r.NeedsExecution, err = m.Run(s.name)
								if err == nil && !r.NeedsExecution {
									var ar AwaitResult
									ar, err = m.Await(Single(r.Handle))
									r.Status = ar.Status
									if err == nil && ar.Status == StatusReady {
										res, _ = m.Take(r.Handle)
									}
								}
							}
							fmt.Fprintf(&log, "run %+v %+v %v\n", r, res, err)
							_, peeked := m.Peek(r.Handle)
							fmt.Fprintf(&log, "state closed=%v err=%v replaying=%v index=%d cancel=%v peek=%v\n",
								m.Closed(), m.Err(), m.Replaying(), m.CommandIndex(), m.CancelRequested(), peeked)
							if err != nil {
								break
							}
						}
						return log.String(), m.TakeOutput()
					}
					wantLog, wantOut := play(false)
					gotLog, gotOut := play(true)
					if gotLog != wantLog {
						t.Errorf("RunAwait:\n%s\nRun, Await, Take:\n%s", gotLog, wantLog)
					}
					if !bytes.Equal(gotOut, wantOut) {
						t.Errorf("output differs:\nRunAwait: %x\nRun, Await, Take: %x", gotOut, wantOut)
					}
				})
			}
		}
	}
}

// TestRecycledArrays interleaves attempts whose replays recycle their
// journal's and queue's arrays: an attempt that goes on after its replay,
// with new notifications, never sees those of the attempt that took its
// arrays over.
func TestRecycledArrays(t *testing.T) {
	const n = 3 * minRecycled
	body := func(v string) []byte {
		msgs := []wire.Message{startMsg(uint32(1 + 2*n)), inputCmd("in")}
		for i := 1; i <= n; i++ {
			msgs = append(msgs, runCmd(uint32(i), "step"), runDone(uint32(i), val(fmt.Sprint(v, i))))
		}
		return encode(msgs...)
	}
	replayAll := func(m *Machine, v string) {
		t.Helper()
		if _, err := m.Input(); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= n; i++ {
			var res wire.Result
			r, err := m.RunAwait("step", &res)
			if err != nil || r.Status != StatusReady || string(res.Value) != fmt.Sprint(v, i) {
				t.Fatalf("run %d: %+v %q %v", i, r, res.Value, err)
			}
		}
	}
	a, b := New(wire.V6, Options{}), New(wire.V6, Options{})
	if err := a.FeedBytes(body("a")); err != nil {
		t.Fatal(err)
	}
	replayAll(a, "a") // recycles a's arrays
	if err := b.FeedBytes(body("b")); err != nil {
		t.Fatal(err)
	}
	// a goes on: a run, whose result arrives live.
	h, exec, err := a.Run("live")
	if err != nil || !exec {
		t.Fatalf("Run: %v %v", exec, err)
	}
	if err := a.FeedBytes(encode(runDone(n+1, val("live")))); err != nil {
		t.Fatal(err)
	}
	replayAll(b, "b")
	if r, err := a.Await(Single(h)); err != nil || r.Status != StatusReady {
		t.Fatalf("Await: %v %v", r.Status, err)
	}
	if res, _ := a.Take(h); string(res.Value) != "live" {
		t.Fatalf("live run = %q", res.Value)
	}
}
