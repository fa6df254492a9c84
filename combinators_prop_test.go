package restate

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// combTree is the model of a combinator tree: a leaf (an awakeable), a
// future that failed before it was combined, or a combinator over children
// in argument order.
type combTree struct {
	kind     string // "leaf", "failed", "All", "Any", "Race", "AllSettled", "Map"
	leaf     int
	children []*combTree
	fut      Future[int] // the typed future built for this node
}

// modelState is the reference evaluator: the combinator table of the
// protocol, with children in argument order (which only matters for Race).
func modelState(t *combTree, leaves []replay.FutureState) replay.FutureState {
	switch t.kind {
	case "leaf":
		return leaves[t.leaf]
	case "failed":
		return replay.Failed
	case "Map":
		return modelState(t.children[0], leaves)
	case "Race":
		for _, c := range t.children {
			if s := modelState(c, leaves); s != replay.Pending {
				return s
			}
		}
		return replay.Pending
	}
	count := map[replay.FutureState]int{}
	for _, c := range t.children {
		count[modelState(c, leaves)]++
	}
	switch t.kind {
	case "All":
		if count[replay.Failed] > 0 {
			return replay.Failed
		}
	case "Any":
		if count[replay.Succeeded] > 0 {
			return replay.Succeeded
		}
		if count[replay.Pending] == 0 {
			return replay.Failed
		}
	}
	if count[replay.Pending] > 0 {
		return replay.Pending
	}
	return replay.Succeeded
}

func sumInts(v []int) (int, error) {
	s := 0
	for _, x := range v {
		s += x
	}
	return s, nil
}

// drawCombTree draws a tree over the leaf futures and builds its typed
// future bottom up. Some nodes are awaited as soon as they are built, when
// they can resolve, as a handler awaits a part of a tree before combining it
// further.
func drawCombTree(rt *rapid.T, m *replay.Machine, leafFuts []Future[int], depth int, label string) *combTree {
	kinds := []string{"leaf", "leaf", "failed", "All", "Any", "Race", "AllSettled", "Map"}
	if depth == 0 {
		kinds = kinds[:3]
	}
	t := &combTree{kind: rapid.SampledFrom(kinds).Draw(rt, label+" kind")}
	switch t.kind {
	case "leaf":
		t.leaf = rapid.IntRange(0, len(leafFuts)-1).Draw(rt, label+" leaf")
		t.fut = leafFuts[t.leaf]
		return t
	case "failed":
		t.fut = failedFuture[int](nil, &TerminalError{Code: 500, Message: "not issued"})
		return t
	}
	n := 1
	if t.kind != "Map" {
		n = rapid.IntRange(1, 4).Draw(rt, label+" children")
	}
	futs := make([]Future[int], n)
	for i := range n {
		c := drawCombTree(rt, m, leafFuts, depth-1, fmt.Sprintf("%s.%d", label, i))
		t.children = append(t.children, c)
		futs[i] = c.fut
	}
	switch t.kind {
	case "All":
		t.fut = Map(All(futs...), sumInts)
	case "Any":
		t.fut = Any(futs...)
	case "Race":
		t.fut = Race(futs...)
	case "AllSettled":
		t.fut = Map(AllSettled(Selectables(futs)...), func(Void) (int, error) { return 0, nil })
	case "Map":
		t.fut = Map(futs[0], func(v int) (int, error) { return v + 1, nil })
	}
	if rapid.IntRange(0, 3).Draw(rt, label+" awaited") == 0 {
		t.fut.f.Resolved(m)
	}
	return t
}

// newCombMachine returns a processing engine with n awakeables, whose
// notifications (success, failure or none) are queued in a drawn order.
func newCombMachine(rt *rapid.T, n int) (*replay.Machine, []replay.Handle, []replay.FutureState) {
	m := replay.New(wire.V7, replay.Options{})
	b := wire.AppendFrame(nil, &wire.StartMessage{ID: []byte("0123456789abcdefghijklmn"), DebugID: "inv_comb", KnownEntries: 1}, 0)
	b = wire.AppendFrame(b, &wire.InputCommand{}, 0)
	if err := m.FeedBytes(b); err != nil {
		rt.Fatal(err)
	}
	if _, err := m.Input(); err != nil {
		rt.Fatal(err)
	}
	hs := make([]replay.Handle, n)
	states := make([]replay.FutureState, n)
	for i := range hs {
		h, _, err := m.Awakeable()
		if err != nil {
			rt.Fatal(err)
		}
		hs[i] = h
		states[i] = replay.FutureState(rapid.IntRange(0, 2).Draw(rt, fmt.Sprintf("leaf %d", i)))
	}
	order := rapid.Permutation(hs).Draw(rt, "notification order")
	var frames []byte
	for _, h := range order {
		i := int(h - hs[0])
		r := wire.VoidResult()
		switch states[i] {
		case replay.Pending:
			continue
		case replay.Failed:
			r = wire.FailureResult(500, "x")
		}
		frames = wire.AppendFrame(frames, &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(uint32(17 + i)), Result: r}, 0)
	}
	if err := m.FeedBytes(frames); err != nil {
		rt.Fatal(err)
	}
	// Apply every queued notification: awaiting the completed leaves in
	// notification order moves each one into the ready set.
	for _, h := range order {
		if states[int(h-hs[0])] == replay.Pending {
			continue
		}
		if res, err := m.Await(replay.Single(h)); err != nil || res.Status != replay.StatusReady {
			rt.Fatalf("applying the notification of handle %d: %v, %v", h, res.Status, err)
		}
	}
	return m, hs, states
}

// TestCombinatorLayersAgree checks, for every combinator tree rapid draws
// (nesting, leaves completed or not, parts awaited before being combined),
// the one evaluator of combinators, the engine's State, against a reference
// model: for the state the typed layer reports for each node and for the
// tree it hands the engine to await. The typed layer used to evaluate trees
// itself, walking children in argument order while the engine walks leaves
// first and never saw parts already awaited; testdata/rapid holds the tree
// where they disagreed (a race of a mapped future and a leaf, both
// complete), which made an enclosing Await spin.
func TestCombinatorLayersAgree(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(rt, "leaves")
		m, hs, states := newCombMachine(rt, n)
		leafFuts := make([]Future[int], n)
		for i, h := range hs {
			leafFuts[i] = newValueLeaf[int](nil, h, JSON, "awakeable")
			if states[i] != replay.Pending && rapid.Bool().Draw(rt, fmt.Sprintf("leaf %d awaited", i)) {
				leafFuts[i].f.Resolved(m)
			}
		}
		root := drawCombTree(rt, m, leafFuts, 3, "root")
		var check func(c *combTree, path string)
		check = func(c *combTree, path string) {
			for i, k := range c.children {
				check(k, fmt.Sprintf("%s.%d", path, i))
			}
			p := c.fut.f
			want := modelState(c, states)
			if got := p.state(m); got != want {
				rt.Fatalf("%s (%s): typed state %v, model %v", path, c.kind, got, want)
			}
			if p.done {
				return // the engine is no longer asked about it
			}
			tree := nodeTree(p)
			if got := m.State(&tree); got != want {
				rt.Fatalf("%s (%s): engine state %v of tree %+v, model %v", path, c.kind, got, tree, want)
			}
		}
		check(root, "root")
	})
}

// TestRaceOfMappedFutureAndLeaf is the tree on which the typed layer and
// the engine disagreed: All(Race(Map(a), b), c) with a succeeded, then b
// failed, and c pending. The race is decided in argument order (Map(a)
// succeeded), so All waits for c; the engine used to evaluate the leaf b
// first, fail the race and resolve All, while the typed layer did not, and
// Await spun.
func TestRaceOfMappedFutureAndLeaf(t *testing.T) {
	t.Parallel()
	m := replay.New(wire.V7, replay.Options{})
	b := wire.AppendFrame(nil, &wire.StartMessage{ID: []byte("0123456789abcdefghijklmn"), DebugID: "inv_comb", KnownEntries: 1}, 0)
	b = wire.AppendFrame(b, &wire.InputCommand{}, 0)
	if err := m.FeedBytes(b); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Input(); err != nil {
		t.Fatal(err)
	}
	var futs [3]Future[int]
	for i := range futs {
		h, _, err := m.Awakeable()
		if err != nil {
			t.Fatal(err)
		}
		futs[i] = newValueLeaf[int](nil, h, JSON, "awakeable")
	}
	n := wire.AppendFrame(nil, &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(17), Result: wire.ValueResult([]byte("1"))}, 0)
	n = wire.AppendFrame(n, &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(18), Result: wire.FailureResult(500, "x")}, 0)
	if err := m.FeedBytes(n); err != nil {
		t.Fatal(err)
	}
	for _, f := range futs[:2] {
		if _, err := m.Await(replay.Single(f.f.handle[0])); err != nil {
			t.Fatal(err)
		}
	}
	inc := func(v int) (int, error) { return v + 1, nil }
	race := Race(Map(futs[0], inc), futs[1])
	all := All(race, futs[2])
	raceTree, allTree := nodeTree(race.f), nodeTree(all.f)
	got := [4]replay.FutureState{race.f.state(m), m.State(&raceTree), all.f.state(m), m.State(&allTree)}
	want := [4]replay.FutureState{replay.Succeeded, replay.Succeeded, replay.Pending, replay.Pending}
	if got != want {
		t.Errorf("race (typed, engine), all (typed, engine) = %v, want %v", got, want)
	}
}
