package replay

import (
	"errors"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/wire"
)

func runCmd(c uint32, name string) *wire.RunCommand {
	return &wire.RunCommand{ResultCompletionID: c, Name: name}
}

// stored feeds what the runtime sends once it stored the proposal of run
// c: the ack on V7 (the proposal asked for it), the full notification on
// V5/V6.
func (s *script) stored(c uint32, r wire.Result) {
	s.t.Helper()
	if s.v >= wire.V7 {
		s.feed(&wire.ProposeRunCompletionAckMessage{CompletionID: c})
		return
	}
	s.feed(runDone(c, r))
}

// executeRun awaits the run, expects the engine to ask for its execution,
// and proposes outcome.
func (s *script) executeRun(h Handle, outcome RunOutcome) {
	s.t.Helper()
	res := s.awaitStatus(Single(h), StatusExecuteRun)
	if res.Run != h {
		s.t.Fatalf("ExecuteRun of handle %d, want %d", res.Run, h)
	}
	s.propose(h, outcome, RetryPolicy{})
}

func TestRun(t *testing.T) {
	t.Parallel()
	runJournalCases(t, []journalCase{
		{
			name: "execute, propose, suspend (request/response)",
			handler: func(s *script) {
				s.input()
				h, exec := s.run("my-side-effect")
				if !exec {
					s.t.Fatal("a new run needs no execution")
				}
				s.executeRun(h, RunOutcome{Result: val("123")})
				// G7: the result is not known before the runtime stored it.
				if _, ok := s.m.Peek(h); ok {
					s.t.Fatal("run result available before the runtime stored it")
				}
				s.suspends(Single(h))
			},
			want: []out{o(runCmd(1, "my-side-effect")), propose(1, val("123")), suspendedOn(1)},
		},
		{
			name: "execute, propose, stored while the stream is open",
			open: true,
			handler: func(s *script) {
				s.input()
				h, _ := s.run("my-side-effect")
				s.awaitStatus(Single(h), StatusExecuteRun)
				// Awaiting again while the closure runs: no AwaitingOn hint.
				s.awaitStatus(Single(h), StatusWaitingRun)
				s.propose(h, RunOutcome{Result: val("123")}, RetryPolicy{})
				s.awaitStatus(Single(h), StatusNeedInput)
				s.stored(1, val("123"))
				s.closeInput()
				s.finish(s.get(h))
			},
			want: []out{
				o(runCmd(1, "my-side-effect")),
				propose(1, val("123")),
				awaitingOn(future(wire.CombinatorFirstCompleted, ids(1), ids(1), nil)),
				output(val("123")), end(),
			},
		},
		{
			name: "terminal failure proposed and stored",
			open: true,
			handler: func(s *script) {
				s.input()
				h, _ := s.run("my-side-effect")
				s.executeRun(h, RunOutcome{Result: failure(500, "my-failure")})
				s.stored(1, failure(500, "my-failure"))
				s.finish(s.get(h))
			},
			want: []out{
				o(runCmd(1, "my-side-effect")),
				propose(1, failure(500, "my-failure")),
				output(failure(500, "my-failure")), end(),
			},
		},
		{
			// G6: no suspension while the closure executes, even with the
			// input closed.
			name: "input closed while the run executes",
			open: true,
			handler: func(s *script) {
				s.input()
				h, _ := s.run("my-side-effect")
				s.awaitStatus(Single(h), StatusExecuteRun)
				s.closeInput()
				s.awaitStatus(Single(h), StatusWaitingRun)
				s.propose(h, RunOutcome{Result: val("123")}, RetryPolicy{})
				s.suspends(Single(h))
			},
			want: []out{o(runCmd(1, "my-side-effect")), propose(1, val("123")), suspendedOn(1)},
		},
		{
			// The runtime may also echo the full notification on V7.
			name: "stored proposal echoed as a notification",
			open: true,
			handler: func(s *script) {
				s.input()
				h, _ := s.run("")
				s.executeRun(h, RunOutcome{Result: val("v")})
				s.feed(runDone(1, val("v")))
				s.finish(s.get(h))
			},
			want: []out{o(runCmd(1, "")), propose(1, val("v")), output(val("v")), end()},
		},
		{
			name:    "replayed run without completion executes again",
			journal: []wire.Message{runCmd(1, "my-side-effect")},
			handler: func(s *script) {
				s.input()
				h, exec := s.run("my-side-effect")
				if !exec {
					s.t.Fatal("run without a journaled completion must execute")
				}
				s.executeRun(h, RunOutcome{Result: val("123")})
				s.suspends(Single(h))
			},
			want: []out{propose(1, val("123")), suspendedOn(1)},
		},
		{
			name:    "replayed run with completion does not execute",
			journal: []wire.Message{runCmd(1, "my-side-effect"), runDone(1, val("123"))},
			handler: func(s *script) {
				s.input()
				h, exec := s.run("my-side-effect")
				if exec {
					s.t.Fatal("journaled run executes again")
				}
				s.finish(s.get(h))
			},
			want: []out{output(val("123")), end()},
		},
		{
			name: "replayed run whose completion follows a later command",
			journal: []wire.Message{
				runCmd(1, "my-side-effect"),
				&wire.SleepCommand{ResultCompletionID: 2},
				runDone(1, val("123")),
			},
			handler: func(s *script) {
				s.input()
				h, exec := s.run("my-side-effect")
				if exec || !s.m.Replaying() {
					s.t.Fatalf("exec %v, replaying %v", exec, s.m.Replaying())
				}
				s.sleep("")
				s.finish(s.get(h))
			},
			want: []out{output(val("123")), end()},
		},
		{
			// The completion is still queued (not applied) when the run is
			// issued: it is found in the queue, so no re-execution.
			name:    "run completion queued after the replay",
			journal: []wire.Message{runCmd(1, "r")},
			later:   []wire.Message{runDone(1, val("stored"))},
			handler: func(s *script) {
				s.input()
				h, exec := s.run("r")
				if exec {
					s.t.Fatal("run with a queued completion executes again")
				}
				s.finish(s.get(h))
			},
			want: []out{output(val("stored")), end()},
		},
		{
			name: "await any of a replayed run and a sleep, then execute it",
			journal: []wire.Message{
				runCmd(1, "my-side-effect"),
				&wire.SleepCommand{ResultCompletionID: 2},
				&wire.SleepCommand{ResultCompletionID: 3},
				sleepDone(2),
			},
			handler: func(s *script) {
				s.input()
				run, exec := s.run("my-side-effect")
				if !exec {
					s.t.Fatal("run must execute")
				}
				sleep1 := s.sleep("")
				s.ready(Future{Combinator: wire.CombinatorFirstCompleted, Handles: []Handle{run, sleep1}})
				if !s.m.Replaying() {
					s.t.Fatal("not replaying")
				}
				sleep2 := s.sleep("")
				if s.m.Replaying() {
					s.t.Fatal("replaying after the last command")
				}
				race := Future{Combinator: wire.CombinatorFirstCompleted, Handles: []Handle{run, sleep2}}
				if res := s.awaitStatus(race, StatusExecuteRun); res.Run != run {
					s.t.Fatalf("execute %d", res.Run)
				}
				s.propose(run, RunOutcome{Result: val("123")}, RetryPolicy{})
				s.suspends(race)
			},
			want: []out{
				propose(1, val("123")),
				suspension(future(wire.CombinatorFirstCompleted, nil, ids(1), nil,
					future(wire.CombinatorFirstCompleted, ids(1, 3), nil, nil))),
			},
		},
		{
			name:     "terminal failure with metadata",
			versions: []wire.Version{wire.V6, wire.V7},
			handler: func(s *script) {
				s.input()
				h, _ := s.run("r")
				f := wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{Code: 400, Message: "bad", Metadata: []wire.FailureMetadata{{Key: "k", Value: "v"}}}}
				s.executeRun(h, RunOutcome{Result: f})
				s.suspends(Single(h))
			},
			want: []out{
				o(runCmd(1, "r")),
				propose(1, wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{Code: 400, Message: "bad", Metadata: []wire.FailureMetadata{{Key: "k", Value: "v"}}}}),
				suspendedOn(1),
			},
		},
		{
			name:     "terminal failure with metadata on V5",
			versions: []wire.Version{wire.V5},
			handler: func(s *script) {
				s.input()
				h, _ := s.run("r")
				s.awaitStatus(Single(h), StatusExecuteRun)
				f := wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{Code: 400, Message: "bad", Metadata: []wire.FailureMetadata{{Key: "k", Value: "v"}}}}
				s.fails(s.m.ProposeRun(h, RunOutcome{Result: f}, RetryPolicy{}), CodeUnsupportedFeature)
			},
			want: []out{o(runCmd(1, "r")), errorOut(CodeUnsupportedFeature)},
		},
		{
			name: "two runs in one combinator execute one at a time",
			handler: func(s *script) {
				s.input()
				a, _ := s.run("a")
				b, _ := s.run("b")
				all := Future{Combinator: wire.CombinatorAllCompleted, Handles: []Handle{a, b}}
				first := s.awaitStatus(all, StatusExecuteRun).Run
				s.propose(first, RunOutcome{Result: val("1")}, RetryPolicy{})
				second := s.awaitStatus(all, StatusExecuteRun).Run
				if first == second {
					s.t.Fatal("the same run executed twice")
				}
				s.propose(second, RunOutcome{Result: val("2")}, RetryPolicy{})
				s.suspends(all)
			},
			want: []out{
				o(runCmd(1, "a")), o(runCmd(2, "b")),
				propose(1, val("1")), propose(2, val("2")),
				suspension(future(wire.CombinatorFirstCompleted, nil, ids(1), nil,
					future(wire.CombinatorAllCompleted, ids(1, 2), nil, nil))),
			},
		},
		{
			name: "retryable failure without an error uses code 500",
			handler: func(s *script) {
				s.input()
				h, _ := s.run("r")
				s.awaitStatus(Single(h), StatusExecuteRun)
				s.fails(s.m.ProposeRun(h, RunOutcome{}, RetryPolicy{}), CodeInternal)
			},
			want: []out{o(runCmd(1, "r")), o(&wire.ErrorMessage{
				Code: 500, Message: "run failed",
				RelatedCommandIndex: wire.Uint32(1), RelatedCommandName: wire.String("r"),
				RelatedCommandType: wire.Uint32(uint32(wire.TypeRunCommand)),
			})},
		},
		{
			name: "propose for a handle that is no pending run",
			handler: func(s *script) {
				s.input()
				h := s.sleep("")
				s.fails(s.m.ProposeRun(h, RunOutcome{Result: val("")}, RetryPolicy{}), CodeInternal)
			},
			want: []out{o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1}), errorOut(CodeInternal)},
		},
	})
}

func TestRunAck(t *testing.T) {
	t.Parallel()
	runJournalCases(t, []journalCase{
		{
			name:     "ack for an unknown completion",
			versions: []wire.Version{wire.V7},
			open:     true,
			handler: func(s *script) {
				s.input()
				h, _ := s.run("r")
				s.executeRun(h, RunOutcome{Result: val("v")})
				err := s.m.FeedBytes(encode(&wire.ProposeRunCompletionAckMessage{CompletionID: 99}))
				s.fails(err, CodeProtocolViolation)
			},
			want: []out{o(runCmd(1, "r")), propose(1, val("v")), errorOut(CodeProtocolViolation)},
		},
		{
			name:     "ack for a completion acked already",
			versions: []wire.Version{wire.V7},
			open:     true,
			handler: func(s *script) {
				s.input()
				h, _ := s.run("r")
				s.executeRun(h, RunOutcome{Result: val("v")})
				s.stored(1, val("v"))
				err := s.m.FeedBytes(encode(&wire.ProposeRunCompletionAckMessage{CompletionID: 1}))
				s.fails(err, CodeProtocolViolation)
			},
			want: []out{o(runCmd(1, "r")), propose(1, val("v")), errorOut(CodeProtocolViolation)},
		},
		{
			name:     "ack on V5/V6",
			versions: []wire.Version{wire.V5, wire.V6},
			open:     true,
			handler: func(s *script) {
				s.input()
				h, _ := s.run("r")
				s.executeRun(h, RunOutcome{Result: val("v")})
				err := s.m.FeedBytes(encode(&wire.ProposeRunCompletionAckMessage{CompletionID: 1}))
				s.fails(err, CodeProtocolViolation)
			},
			want: []out{o(runCmd(1, "r")), propose(1, val("v")), errorOut(CodeProtocolViolation)},
		},
	})
}

// retryScenario is one run that fails with a retryable error under a retry
// policy, the StartMessage carrying the runtime's retry counters.
type retryScenario struct {
	name       string
	versions   []wire.Version
	retryCount uint32
	since      time.Duration // duration_since_last_stored_entry
	took       time.Duration // this attempt's duration
	policy     RetryPolicy
	// journaled: the run command is the last journaled entry (so the
	// counters apply, G8); otherwise it is written in this attempt.
	journaled bool
	// newCommandFirst: a new command is written between replaying the run
	// and proposing, so the counters no longer apply.
	newCommandFirst bool
	want            retryOutcome
}

type retryOutcome struct {
	retry    bool
	delay    *uint64 // next_retry_delay when retrying
	pause    bool
	terminal bool // proposed as a terminal failure
	code     uint16
}

func retryWith(delay time.Duration) retryOutcome {
	o := retryOutcome{retry: true}
	if delay > 0 {
		o.delay = millis(delay)
	}
	return o
}

var (
	giveUp = retryOutcome{terminal: true}
	pause  = retryOutcome{pause: true}
)

func TestRunRetryPolicy(t *testing.T) {
	t.Parallel()
	exp := func(maxAttempts uint32) RetryPolicy {
		return RetryPolicy{InitialInterval: time.Second, Factor: 1, MaxAttempts: maxAttempts}
	}
	backoff := RetryPolicy{InitialInterval: 100 * time.Millisecond, Factor: 2, MaxInterval: time.Second}
	scenarios := []retryScenario{
		{name: "infinite retries leave the delay to the runtime", retryCount: 100, journaled: true, want: retryWith(0)},
		{name: "no retries (max attempts 1)", policy: RetryPolicy{MaxAttempts: 1}, want: giveUp},
		{name: "fixed delay", policy: RetryPolicy{InitialInterval: time.Second}, want: retryWith(time.Second)},

		// Max attempts: attempt = retry count + 1 when the run is the last
		// journaled entry; give up when max attempts <= attempt.
		{name: "exhausted: count 0, max 1", journaled: true, policy: exp(1), want: giveUp},
		{name: "exhausted: count 1, max 2", journaled: true, retryCount: 1, policy: exp(2), want: giveUp},
		{name: "exhausted: count 2, max 2", journaled: true, retryCount: 2, policy: exp(2), want: giveUp},
		{name: "exhausted: count 2, max 1", journaled: true, retryCount: 2, policy: exp(1), want: giveUp},
		{name: "exhausted: count 99, max 100", journaled: true, retryCount: 99, policy: exp(100), want: giveUp},
		{name: "exhausted: fixed delay, count 9, max 10", journaled: true, retryCount: 9, since: time.Second, took: time.Second,
			policy: RetryPolicy{InitialInterval: time.Second, MaxAttempts: 10}, want: giveUp},
		{name: "not exhausted: count 0, max 2", journaled: true, policy: exp(2), want: retryWith(time.Second)},
		{name: "not exhausted: count 98, max 100", journaled: true, retryCount: 98, policy: exp(100), want: retryWith(time.Second)},

		// G8: the counters do not apply to a run written in this attempt.
		{name: "new run ignores the counters: count 1, max 2", retryCount: 1, policy: exp(2), want: retryWith(time.Second)},
		{name: "new run ignores the counters: count 99, max 100", retryCount: 99, policy: exp(100), want: retryWith(time.Second)},
		{name: "counters ignored after a new command", journaled: true, newCommandFirst: true, retryCount: 9,
			policy: exp(10), want: retryWith(time.Second)},
		{name: "new run after a new command: duration of this attempt only", retryCount: 10, since: 10 * time.Second,
			took: 99 * time.Millisecond, policy: RetryPolicy{InitialInterval: time.Second, MaxAttempts: 2, MaxDuration: 100 * time.Millisecond},
			newCommandFirst: true, want: retryWith(time.Second)},

		// Max duration: elapsed = duration since the last stored entry (only
		// if the retry count is > 0) + this attempt.
		{name: "duration exhausted by this attempt", took: time.Second,
			policy: RetryPolicy{InitialInterval: time.Second, Factor: 1, MaxDuration: time.Second}, journaled: true, want: giveUp},
		{name: "duration exhausted with the counters", journaled: true, retryCount: 1, since: time.Second, took: time.Second,
			policy: RetryPolicy{InitialInterval: time.Second, MaxDuration: 2 * time.Second}, want: giveUp},
		{name: "duration since the last entry ignored with retry count 0", journaled: true, since: 10 * time.Second, took: time.Millisecond,
			policy: RetryPolicy{InitialInterval: time.Second, MaxDuration: 5 * time.Second}, want: retryWith(time.Second)},

		// Exponential delays: initial × factor^(attempt−1), capped.
		{name: "backoff attempt 1", journaled: true, policy: backoff, want: retryWith(100 * time.Millisecond)},
		{name: "backoff attempt 2", journaled: true, retryCount: 1, policy: backoff, want: retryWith(200 * time.Millisecond)},
		{name: "backoff attempt 3", journaled: true, retryCount: 2, policy: backoff, want: retryWith(400 * time.Millisecond)},
		{name: "backoff attempt 4", journaled: true, retryCount: 3, policy: backoff, want: retryWith(800 * time.Millisecond)},
		{name: "backoff attempt 5 capped", journaled: true, retryCount: 4, policy: backoff, want: retryWith(time.Second)},
		{name: "backoff attempt 1000 capped", journaled: true, retryCount: 999, policy: backoff, want: retryWith(time.Second)},
		{name: "backoff without cap", journaled: true, retryCount: 3,
			policy: RetryPolicy{InitialInterval: time.Second, Factor: 1.5}, want: retryWith(3375 * time.Millisecond)},
		{name: "backoff without cap stays bounded", journaled: true, retryCount: 4000,
			policy: RetryPolicy{InitialInterval: time.Second, Factor: 10}, want: retryWith(365 * 24 * time.Hour)},

		// Pause on exhaustion: V7 only.
		{name: "pause on max attempts", versions: []wire.Version{wire.V7}, journaled: true, retryCount: 9, since: time.Second, took: time.Second,
			policy: RetryPolicy{InitialInterval: time.Second, MaxAttempts: 10, OnMax: PauseOnMaxAttempts}, want: pause},
		{name: "pause on max duration", versions: []wire.Version{wire.V7}, journaled: true, retryCount: 1, since: time.Second, took: time.Second,
			policy: RetryPolicy{InitialInterval: time.Second, MaxDuration: 2 * time.Second, OnMax: PauseOnMaxAttempts}, want: pause},
		{name: "pause policy, not exhausted", versions: []wire.Version{wire.V7}, journaled: true,
			policy: RetryPolicy{InitialInterval: time.Second, MaxAttempts: 10, OnMax: PauseOnMaxAttempts}, want: retryWith(time.Second)},
		{name: "pause policy before V7", versions: []wire.Version{wire.V5, wire.V6}, journaled: true,
			policy: RetryPolicy{MaxAttempts: 1, OnMax: PauseOnMaxAttempts}, want: retryOutcome{code: CodeUnsupportedFeature}},
	}
	var cases []journalCase
	for _, sc := range scenarios {
		cases = append(cases, sc.journalCase())
	}
	runJournalCases(t, cases)
}

func (sc retryScenario) journalCase() journalCase {
	st := startMsg(0)
	st.RetryCountSinceLastStoredEntry = sc.retryCount
	st.DurationSinceLastStoredEntry = uint64(sc.since / time.Millisecond)
	c := journalCase{name: sc.name, versions: sc.versions, start: st, open: true}
	runIndex := uint32(1)
	if sc.journaled {
		c.journal = []wire.Message{runCmd(1, "my-side-effect")}
	} else {
		c.want = append(c.want, o(runCmd(1, "my-side-effect")))
	}
	completionID := uint32(1)
	if sc.newCommandFirst {
		completionID = 2
		if !sc.journaled {
			// The new command comes before the run.
			c.want = []out{o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1}), o(runCmd(2, "my-side-effect"))}
			runIndex = 2
		} else {
			c.want = append(c.want, o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 2}))
		}
	}
	retryable := &Error{Code: 500, Message: "my-error", Stacktrace: "my-stacktrace"}
	c.handler = func(s *script) {
		s.input()
		var h Handle
		if sc.newCommandFirst && !sc.journaled {
			s.sleep("")
			h, _ = s.run("my-side-effect")
		} else {
			h, _ = s.run("my-side-effect")
			if sc.newCommandFirst {
				s.sleep("")
			}
		}
		s.awaitStatus(Single(h), StatusExecuteRun)
		err := s.m.ProposeRun(h, RunOutcome{Retryable: retryable, Duration: sc.took}, sc.policy)
		switch {
		case sc.want.terminal:
			s.ok(err)
			s.stored(completionID, failure(500, "my-error"))
			s.finish(s.get(h))
		case sc.want.code != 0:
			s.fails(err, sc.want.code)
		default:
			if !errors.Is(err, &Error{Code: 500}) {
				s.t.Fatalf("ProposeRun: %v, want the retryable error", err)
			}
		}
	}
	related := func(e *wire.ErrorMessage) *wire.ErrorMessage {
		e.RelatedCommandIndex = wire.Uint32(runIndex)
		e.RelatedCommandName = wire.String("my-side-effect")
		e.RelatedCommandType = wire.Uint32(uint32(wire.TypeRunCommand))
		return e
	}
	switch {
	case sc.want.terminal:
		c.want = append(c.want, propose(completionID, failure(500, "my-error")), output(failure(500, "my-error")), end())
	case sc.want.code != 0:
		c.want = append(c.want, errorOut(sc.want.code))
	case sc.want.pause:
		c.want = append(c.want, o(related(&wire.ErrorMessage{
			Code: 500, Message: "my-error", Stacktrace: "my-stacktrace", Behavior: wire.BehaviorPause,
		})))
	default:
		c.want = append(c.want, o(related(&wire.ErrorMessage{
			Code: 500, Message: "my-error", Stacktrace: "my-stacktrace", NextRetryDelay: sc.want.delay,
		})))
	}
	return c
}
