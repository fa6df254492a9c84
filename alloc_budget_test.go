package restate_test

import (
	"context"
	"strconv"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/wire"
)

// runsJournal is the request body of an attempt that replays n completed
// runs.
func runsJournal(n int) []byte {
	b := wire.AppendFrame(nil, &wire.StartMessage{ID: []byte("0123456789abcdefghijklmn"), DebugID: "inv_bench",
		KnownEntries: uint32(1 + 2*n)}, 0)
	b = wire.AppendFrame(b, &wire.InputCommand{Value: []byte(strconv.Itoa(n))}, 0)
	for i := 1; i <= n; i++ {
		b = wire.AppendFrame(b, &wire.RunCommand{ResultCompletionID: uint32(i)}, 0)
		b = wire.AppendFrame(b, &wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(uint32(i)),
			Result: wire.ValueResult([]byte("1"))}, 0)
	}
	return b
}

// TestReplayedRunAllocations guards the allocations of replaying one run
// through the typed API (Run, its future, the await, the engine): the
// difference between replaying 200 and 100 runs, per run. Not parallel:
// AllocsPerRun counts the whole process's allocations.
func TestReplayedRunAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	ep, err := endpoint.New(nil, endpoint.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := restate.NewService("Runs", restate.NewHandler("runs", func(ctx restate.Context, n int) (int, error) {
		sum := 0
		for range n {
			v, err := restate.Run(ctx, func(restate.RunContext) (int, error) { return 1, nil })
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	})).Definition().Handler("runs")
	allocs := func(n int) float64 {
		body := runsJournal(n)
		return testing.AllocsPerRun(20, func() {
			if out := ep.RunBuffered(context.Background(), h, wire.V6, body, endpoint.Attempt{}); len(out) == 0 {
				t.Fatal("no output")
			}
		})
	}
	const budget = 0 // allocations per replayed run today: none, the run command and its completion stay undecoded
	if per := (allocs(200) - allocs(100)) / 100; per > budget+0.5 {
		t.Errorf("replaying a run allocates %.1f times, budget %d", per, budget)
	} else {
		t.Logf("replaying a run allocates %.1f times (budget %d)", per, budget)
	}
}
