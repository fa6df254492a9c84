package props_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatetest"
	"github.com/qcodr/restate-sdk-go/wire"
	"pgregory.net/rapid"
)

// The steps of a handler program: commands that do not wait, commands that
// do, and runs.
const (
	stepSet = iota
	stepGet
	stepClear
	stepSend
	stepSleep
	stepRun
	stepCount
)

var (
	programKey = restate.NewStateKey[int]("n")
	// executions counts the executions of each run step, per invocation.
	executions = struct {
		sync.Mutex
		n map[string]map[int]int
	}{n: map[string]map[int]int{}}
	noop    = restate.NewHandler("noop", func(restate.Context, int) (restate.Void, error) { return restate.Void{}, nil })
	program = restate.NewObjectHandler("run", func(ctx restate.ObjectContext, steps []int) (int, error) {
		id := ctx.Request().ID
		sum := 0
		for i, s := range steps {
			var err error
			switch s {
			case stepSet:
				err = programKey.Set(ctx, i)
			case stepGet:
				_, err = programKey.Get(ctx)
			case stepClear:
				err = programKey.Clear(ctx)
			case stepSend:
				_, err = restate.Remote[int, restate.Void]("Noop", "noop").Send(ctx, i).ID()
			case stepSleep:
				err = restate.Sleep(ctx, time.Millisecond)
			case stepRun:
				var v int
				v, err = restate.Run(ctx, func(restate.RunContext) (int, error) {
					executions.Lock()
					defer executions.Unlock()
					if executions.n[id] == nil {
						executions.n[id] = map[int]int{}
					}
					executions.n[id][i]++
					return i, nil
				})
				sum += v
			}
			if err != nil {
				return 0, err
			}
		}
		return sum, nil
	})
	programServices = []restate.ServiceDefinition{restate.NewObject("Program", program), restate.NewService("Noop", noop)}
)

// runtimeModes are the ways restatetest schedules attempts; always-replay
// ends an attempt after each new journal entry, as a runtime that suspends
// eagerly would.
var runtimeModes = map[string][]restatetest.Option{
	"request-response":      nil,
	"always-replay":         {restatetest.WithAlwaysReplay()},
	"always-replay-v7":      {restatetest.WithAlwaysReplay(), restatetest.WithProtocolVersion(wire.V7)},
	"always-replay-v7-bidi": {restatetest.WithAlwaysReplay(), restatetest.WithBidiStreams(), restatetest.WithProtocolVersion(wire.V7)},
	"bidi":                  {restatetest.WithBidiStreams()},
	"lazy-always-replay":    {restatetest.WithAlwaysReplay(), restatetest.WithLazyState()},
}

// TestPropRunExecutesOncePerJournaledRun states, for any sequence of
// commands and runs and any way of scheduling attempts, that a run
// closure executes at most once per journaled run entry: as every run of
// a completed invocation is journaled exactly once, each executes exactly
// once. (Issue 24, bug 1: under always-replay a run right after a command
// that does not wait executed twice.)
func TestPropRunExecutesOncePerJournaledRun(t *testing.T) {
	modes := make([]string, 0, len(runtimeModes))
	for m := range runtimeModes {
		modes = append(modes, m)
	}
	slices.Sort(modes) // rapid replays a failure only with the same draws
	rapid.Check(t, func(t *rapid.T) {
		steps := rapid.SliceOfN(rapid.IntRange(0, stepCount-1), 1, 8).Draw(t, "steps")
		mode := rapid.SampledFrom(modes).Draw(t, "mode")
		env, err := restatetest.Start(programServices, runtimeModes[mode]...)
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		inv, err := restatetest.Send(ctx, env, program.Target("k"), steps)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inv.Attach(ctx); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		executions.Lock()
		got := executions.n[inv.ID()]
		delete(executions.n, inv.ID())
		executions.Unlock()
		journal, err := env.Journal(inv.ID())
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range steps {
			if s == stepRun && got[i] != 1 {
				t.Fatalf("%s: the run of step %d executed %d times, for one journaled run entry; steps %v\njournal:\n%s",
					mode, i, got[i], steps, journal)
			}
		}
		if n := len(got); n != count(steps, stepRun) {
			t.Fatalf("%s: %d runs executed, want %d", mode, n, count(steps, stepRun))
		}
	})
}

func count(steps []int, step int) int {
	n := 0
	for _, s := range steps {
		if s == step {
			n++
		}
	}
	return n
}
