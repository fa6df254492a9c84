package props

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/sim"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// patchPhase is which code of a patched handler runs.
type patchPhase int

const (
	beforePatch patchPhase = iota // the old code
	patched                       // the change behind restate.Patched
	deprecated                    // restate.Deprecated, the old path gone
)

// patchShape is a handler drawn for the patching properties: runs (each
// followed by a timer, so that attempts suspend) before the patch point,
// runs the patch adds, and runs after it. It returns which path it took.
type patchShape struct{ before, added, after int }

func (p patchShape) handler(phase patchPhase) *restate.Handler[string, string] {
	step := func(ctx restate.Context, name string) error {
		if _, err := restate.Run(ctx, func(restate.RunContext) (string, error) { return name, nil }, restate.WithName(name)); err != nil {
			return err
		}
		return restate.Sleep(ctx, time.Second)
	}
	return restate.NewHandler("h", func(ctx restate.Context, _ string) (string, error) {
		for i := range p.before {
			if err := step(ctx, fmt.Sprint("before-", i)); err != nil {
				return "", err
			}
		}
		path := "old"
		switch phase {
		case patched:
			if restate.Patched(ctx, "p") {
				path = "new"
			}
		case deprecated:
			restate.Deprecated(ctx, "p")
			path = "new"
		}
		if path == "new" {
			for i := range p.added {
				if err := step(ctx, fmt.Sprint("added-", i)); err != nil {
					return "", err
				}
			}
		}
		for i := range p.after {
			if err := step(ctx, fmt.Sprint("after-", i)); err != nil {
				return "", err
			}
		}
		return path, nil
	})
}

// simulate runs (or, given a journal in flight, continues) an invocation of
// the shape's handler in the given phase under a schedule rapid draws, and
// fails t on any violation.
func (p patchShape) simulate(t *rapid.T, phase patchPhase, journal []wire.Message, label string) *sim.Result {
	h := p.handler(phase)
	svc := restate.NewService("Patched", h)
	cfg := newConfig(nil)
	sc := &scenario{t: t}
	version := cfg.versions[rapid.IntRange(0, len(cfg.versions)-1).Draw(t, label+" protocol")]
	res := sim.Run(sim.Config{
		Handler:   svc.Definition().Handler("h").Invoke,
		Name:      "Patched/h",
		Version:   version,
		ID:        []byte("props-patch-invocation-1"),
		DebugID:   "inv_1propspatch",
		Input:     []byte(`""`),
		Journal:   journal,
		Context:   context.WithValue(context.Background(), scenarioKey{}, sc),
		World:     newWorld(t, cfg),
		Scheduler: &scheduler{cfg: cfg, sc: sc, c: &choices{t: t}},
	})
	if res.Violation != nil {
		t.Fatalf("%s: %s\n%s", label, res.Violation, strings.Join(res.Trace, "\n"))
	}
	if res.Output == nil {
		t.Fatalf("%s: no output\n%s", label, strings.Join(res.Trace, "\n"))
	}
	return res
}

// inFlight cuts a completed journal back to a prefix drawn by rapid, as it
// stood while the invocation was in flight (its input kept, its output
// not), and returns it with the names of the runs it holds.
func inFlight(t *rapid.T, journal []wire.Message, label string) ([]wire.Message, []string) {
	end := len(journal)
	for i, e := range journal {
		if _, ok := e.(*wire.OutputCommand); ok {
			end = i
			break
		}
	}
	cut := rapid.IntRange(1, end).Draw(t, label)
	prefix := journal[:cut]
	var runs []string
	for _, e := range prefix {
		if r, ok := e.(*wire.RunCommand); ok {
			runs = append(runs, r.Name)
		}
	}
	return prefix, runs
}

func output(res *sim.Result) string { return string(res.Output.Result.Value) }

func markers(journal []wire.Message) int {
	n := 0
	for _, e := range journal {
		if r, ok := e.(*wire.RunCommand); ok && r.Name == replay.PatchMarkerPrefix+"p" {
			n++
		}
	}
	return n
}

// TestPropPatchedKeepsEachInvocationOnItsPath: journals the old code wrote,
// cut at any point an invocation can be in flight, replay under the
// patched code without a mismatch, across suspensions, crashes and
// retries: an invocation whose old code got past the patch point finishes
// along the old path, one that did not takes the new path; new invocations
// take the new path and journal the marker once; and the deprecated code
// finishes every invocation the patched code started on the new path.
func TestPropPatchedKeepsEachInvocationOnItsPath(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		p := patchShape{
			before: rapid.IntRange(0, 2).Draw(t, "runs before the patch point"),
			added:  rapid.IntRange(1, 2).Draw(t, "runs the patch adds"),
			after:  rapid.IntRange(1, 2).Draw(t, "runs after the patch point"),
		}
		old := p.simulate(t, beforePatch, nil, "old code")
		if got := output(old); got != `"old"` {
			t.Fatalf("the old code returned %s", got)
		}
		prefix, runs := inFlight(t, old.Journal, "old journal entries kept")
		resumed := p.simulate(t, patched, prefix, "patched code resuming")
		want := `"new"`
		if len(runs) > p.before {
			want = `"old"` // the old code had passed the patch point
		}
		if got := output(resumed); got != want {
			t.Fatalf("resumed after %d of the old code's runs (%v), the patched code returned %s, want %s", len(runs), runs, got, want)
		}
		if n, wantMarkers := markers(resumed.Journal), map[string]int{`"old"`: 0, `"new"`: 1}[want]; n != wantMarkers {
			t.Fatalf("%d patch markers in the journal, want %d", n, wantMarkers)
		}

		fresh := p.simulate(t, patched, nil, "patched code, new invocation")
		if got := output(fresh); got != `"new"` || markers(fresh.Journal) != 1 {
			t.Fatalf("a new invocation returned %s with %d markers", got, markers(fresh.Journal))
		}
		prefix, _ = inFlight(t, fresh.Journal, "patched journal entries kept")
		if got := output(p.simulate(t, deprecated, prefix, "deprecated code resuming")); got != `"new"` {
			t.Fatalf("the deprecated code resuming a patched invocation returned %s", got)
		}
	})
}
