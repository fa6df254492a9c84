package sim_test

import (
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/sim"
	"github.com/qcodr/restate-sdk-go/wire"
)

var count = restate.NewStateKey[int]("count")

var counterAdd = restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
	c, err := count.Get(ctx)
	if err != nil {
		return 0, err
	}
	v, err := restate.Run(ctx, func(restate.RunContext) (int, error) { return n * 2, nil }, restate.WithName("double"))
	if err != nil {
		return 0, err
	}
	if err := restate.Sleep(ctx, time.Second); err != nil {
		return 0, err
	}
	other := restate.Remote[int, int]("Other", "get").Call(ctx, v)
	timer := restate.After(ctx, time.Minute)
	i, err := restate.Select(other, timer)
	if err != nil {
		return 0, err
	}
	if i == 0 {
		o, err := other.Await()
		if err != nil {
			return 0, err
		}
		v += o
	}
	return c + v, count.Set(ctx, c+v)
})

var counter = restate.NewObject("Counter", counterAdd)

// randomScheduler makes seeded random choices.
type randomScheduler struct{ r *rand.Rand }

func (s randomScheduler) Plan(n int, keyed bool) sim.Plan {
	return sim.Plan{Mode: sim.Mode(s.r.IntN(2)), State: sim.EagerState}
}

func (s randomScheduler) Idle(p []*sim.Pending) []int {
	if s.r.IntN(5) == 0 {
		return nil
	}
	return s.r.Perm(len(p))[:1+s.r.IntN(len(p))]
}

func (s randomScheduler) Store(p []*sim.Pending, suspended bool) []int {
	out := s.r.Perm(len(p))[:s.r.IntN(len(p)+1)]
	for i, q := range p {
		if q.Awaited {
			out = append(out, i)
			break
		}
	}
	return out
}

func (s randomScheduler) Crash(n int) (int, bool) {
	if s.r.IntN(4) == 0 {
		return s.r.IntN(n + 1), true
	}
	return 0, false
}

type world struct{}

func (world) Complete(cmd wire.Message, id wire.NotificationID) wire.Result {
	return wire.ValueResult([]byte("5"))
}
func (world) Signal(id wire.NotificationID) (wire.Result, bool) { return wire.VoidResult(), true }
func (world) Cancel() bool                                      { return false }
func (world) RunResult(c uint32, proposed wire.Result) wire.Result {
	return proposed
}

// TestRandomSchedules runs a handler that uses state, a run, a timer, a
// call and a race under seeded random schedules, and checks that every run
// completes without violation and agrees with an uninterrupted execution.
func TestRandomSchedules(t *testing.T) {
	t.Parallel()
	for seed := range uint64(100) {
		for _, v := range []wire.Version{wire.V5, wire.V6, wire.V7} {
			cfg := sim.Config{
				Handler:   counter.Definition().Handler("add").Invoke,
				Name:      "Counter/add",
				Version:   v,
				Keyed:     true,
				Key:       "k",
				ID:        []byte("0123456789abcdef01234567"),
				DebugID:   "inv_test",
				Input:     []byte("3"),
				State:     map[string][]byte{"count": []byte("10")},
				World:     world{},
				Scheduler: randomScheduler{rand.New(rand.NewPCG(seed, 1))},
			}
			res := sim.Run(cfg)
			if res.Violation != nil {
				t.Fatalf("seed %d %s: %s\n%s", seed, v, res.Violation, strings.Join(res.Trace, "\n"))
			}
			if res.Output == nil {
				t.Fatalf("no output")
			}
			ref := sim.Uninterrupted(cfg, res.Journal, sim.Plan{State: sim.EagerState})
			if ref.Violation != nil {
				t.Fatalf("seed %d %s reference: %s\n%s\ninterrupted:\n%s", seed, v, ref.Violation, strings.Join(ref.Trace, "\n"), strings.Join(res.Trace, "\n"))
			}
			if e := sim.Mismatch(v, res.Journal, ref.Journal); e != nil {
				t.Fatalf("mismatch: %v", e)
			}
			if string(ref.Output.Result.Value) != string(res.Output.Result.Value) {
				t.Fatalf("output %q vs %q", ref.Output.Result.Value, res.Output.Result.Value)
			}
		}
	}
}

// scripted is a scheduler that follows a script: attempt 1 is bidi and
// sends, at each idle point, the notifications listed next; it then crashes
// keeping everything, so that attempt 2 replays the whole journal in
// request/response mode.
type scripted struct {
	idle [][]wire.NotificationID
}

func (s *scripted) Plan(n int, keyed bool) sim.Plan {
	if n == 1 {
		return sim.Plan{Mode: sim.Bidi}
	}
	return sim.Plan{Mode: sim.RequestResponse}
}

func (s *scripted) Idle(pending []*sim.Pending) []int {
	if len(s.idle) == 0 {
		return nil
	}
	var out []int
	for _, id := range s.idle[0] {
		for i, p := range pending {
			if p.ID() == id {
				out = append(out, i)
			}
		}
	}
	s.idle = s.idle[1:]
	return out
}

func (s *scripted) Store(pending []*sim.Pending, suspended bool) []int {
	out := make([]int, len(pending))
	for i := range out {
		out[i] = i
	}
	return out
}

func (s *scripted) Crash(n int) (int, bool) {
	crash := s.idle != nil
	s.idle = nil
	return n, crash
}

type cancelWorld struct{ world }

func (cancelWorld) Cancel() bool { return true }

var raceAfterCancel = restate.NewService("Race", restate.NewHandler("race", func(ctx restate.Context, _ restate.Void) (int, error) {
	call := restate.Remote[int, int]("Other", "get").Call(ctx, 1)
	timer := restate.After(ctx, time.Minute)
	return restate.Select(call, timer)
}))

// TestCancelWhileLearningChildIDs: the cancel signal resolves the Select,
// and the engine waits for the child call's invocation id to cancel it;
// meanwhile the timer fires. The cancellation must win, as it does when a
// replay has all three notifications at once; otherwise the replay fails
// with a journal mismatch.
func TestCancelWhileLearningChildIDs(t *testing.T) {
	t.Parallel()
	for _, v := range []wire.Version{wire.V5, wire.V6, wire.V7} {
		res := sim.Run(sim.Config{
			Handler: raceAfterCancel.Definition().Handler("race").Invoke,
			Version: v,
			ID:      []byte("0123456789abcdef01234567"),
			World:   cancelWorld{},
			Scheduler: &scripted{idle: [][]wire.NotificationID{
				{wire.SignalID(wire.SignalCancel)},
				{wire.CompletionID(3)},
				{wire.CompletionID(1)},
			}},
		})
		if res.Violation != nil {
			t.Fatalf("%s: %s\n%s", v, res.Violation, strings.Join(res.Trace, "\n"))
		}
		if res.Output == nil || res.Output.Result.Kind != wire.ResultFailure || res.Output.Result.Failure.Code != 409 {
			t.Fatalf("%s: output %s, want the cancellation failure 409\n%s", v, sim.Describe(res.Output), strings.Join(res.Trace, "\n"))
		}
	}
}

// firstScheduler runs bidi attempts and sends the first pending completion
// each time.
type firstScheduler struct{}

func (firstScheduler) Plan(int, bool) sim.Plan              { return sim.Plan{Mode: sim.Bidi} }
func (firstScheduler) Idle(p []*sim.Pending) []int          { return []int{0} }
func (firstScheduler) Store(p []*sim.Pending, _ bool) []int { return []int{0} }
func (firstScheduler) Crash(int) (int, bool)                { return 0, false }

// silentWorld never sends a named signal.
type silentWorld struct{ world }

func (silentWorld) Signal(id wire.NotificationID) (wire.Result, bool) {
	return wire.Result{}, id.Kind != wire.IDSignalName
}

func TestProgressViolationWhenNothingArrives(t *testing.T) {
	t.Parallel()
	waits := restate.NewService("Waits", restate.NewHandler("wait", func(ctx restate.Context, _ restate.Void) (string, error) {
		return restate.Signal[string](ctx, "go").Await()
	}))
	res := sim.Run(sim.Config{
		Handler:   waits.Definition().Handler("wait").Invoke,
		Version:   wire.V6,
		ID:        []byte("0123456789abcdef01234567"),
		World:     silentWorld{},
		Scheduler: firstScheduler{},
	})
	if res.Violation == nil || res.Violation.Property != sim.Progress || !strings.Contains(res.Violation.Message, `signal "go"`) {
		t.Fatalf("violation %v, want progress waiting for signal \"go\"\n%s", res.Violation, strings.Join(res.Trace, "\n"))
	}
}

func TestExactlyOnceViolationForSideEffectsOutsideRuns(t *testing.T) {
	t.Parallel()
	var effects atomic.Int32
	pay := restate.NewService("Pay", restate.NewHandler("pay", func(ctx restate.Context, _ restate.Void) (restate.Void, error) {
		effects.Add(1) // a side effect outside a run: every replay repeats it
		return restate.Void{}, restate.Sleep(ctx, time.Second)
	}))
	res := sim.Run(sim.Config{
		Handler:    pay.Definition().Handler("pay").Invoke,
		Version:    wire.V7,
		ID:         []byte("0123456789abcdef01234567"),
		World:      world{},
		Scheduler:  firstScheduler{},
		Executions: func() int { return int(effects.Load()) },
	})
	if res.Violation == nil || res.Violation.Property != sim.ExactlyOnce {
		t.Fatalf("violation %v, want exactly-once\n%s", res.Violation, strings.Join(res.Trace, "\n"))
	}
}

// TestUninterruptedFollowsTheJournal: whichever future won a race in the
// journal wins it in the uninterrupted execution, and the outputs agree.
func TestUninterruptedFollowsTheJournal(t *testing.T) {
	t.Parallel()
	cfg := sim.Config{
		Handler: raceAfterCancel.Definition().Handler("race").Invoke,
		Version: wire.V6,
		ID:      []byte("0123456789abcdef01234567"),
		World:   world{},
	}
	for _, first := range []wire.NotificationID{wire.CompletionID(2), wire.CompletionID(3)} {
		cfg.Scheduler = &scripted{idle: [][]wire.NotificationID{{wire.CompletionID(1), first}}}
		res := sim.Run(cfg)
		if res.Violation != nil || res.Output == nil {
			t.Fatalf("%s first: %v\n%s", first, res.Violation, strings.Join(res.Trace, "\n"))
		}
		ref := sim.Uninterrupted(cfg, res.Journal, sim.Plan{})
		if ref.Violation != nil || ref.Output == nil {
			t.Fatalf("%s first, uninterrupted: %v\n%s", first, ref.Violation, strings.Join(ref.Trace, "\n"))
		}
		if got, want := string(ref.Output.Result.Value), string(res.Output.Result.Value); got != want {
			t.Errorf("%s first: the uninterrupted execution returned %s, the journal %s", first, got, want)
		}
		if want := map[uint32]string{2: "0", 3: "1"}[first.Index]; string(res.Output.Result.Value) != want {
			t.Errorf("%s first: output %s, want %s", first, res.Output.Result.Value, want)
		}
	}
}
