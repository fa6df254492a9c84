package replay

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/qcodr/restate-sdk-go/wire"
)

// TestResolveFlatMatchesTree checks that the incremental evaluation of
// futures without children (resolveFlat) applies exactly the notifications
// that the general evaluation (resolveTree) applies, and agrees on the
// outcome, for random futures, ready sets and queues.
func TestResolveFlatMatchesTree(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		signals := rapid.IntRange(1, 12).Draw(rt, "awakeables")
		comb := wire.CombinatorType(rapid.IntRange(0, 4).Draw(rt, "combinator"))
		// Leaves: awakeables (with duplicates), the named signal "n", and
		// sometimes the cancel signal itself.
		leaves := rapid.SliceOfN(rapid.IntRange(-2, signals-1), flatResolveMin+1, 30).Draw(rt, "leaves")
		// Failures: none, all, or some of the notifications.
		failMode := rapid.IntRange(0, 2).Draw(rt, "failures")
		notification := func(label string) *wire.Notification {
			// Mostly notifications for leaves, sometimes for other ids.
			which := rapid.SampledFrom(leaves).Draw(rt, label+" leaf")
			if rapid.IntRange(0, 4).Draw(rt, label+" irrelevant") == 0 {
				which = rapid.IntRange(-4, signals+2).Draw(rt, label+" id")
			}
			var n *wire.Notification
			switch which {
			case -2, -3:
				n = cancelSignal()
			case -1, -4:
				n = namedSignalDone(map[int]string{-1: "n", -4: "other"}[which], void())
			default:
				n = signalDone(uint32(17+which), void()) // ids past the awakeables are irrelevant
			}
			if failMode == 1 || (failMode == 2 && rapid.Bool().Draw(rt, label+" fails")) {
				n.Result = failure(500, "x")
			}
			return n
		}
		applied := rapid.SliceOfN(rapid.Just(0), 0, 6).Draw(rt, "pre-applied count")
		pre := make([]*wire.Notification, len(applied))
		for i := range pre {
			pre[i] = notification(fmt.Sprintf("pre %d", i))
		}
		queue := make([]*wire.Notification, rapid.IntRange(0, 40).Draw(rt, "queue length"))
		for i := range queue {
			queue[i] = notification(fmt.Sprintf("queued %d", i))
		}
		withCancel := rapid.Bool().Draw(rt, "with cancel")

		run := func(flat bool) (bool, int, map[string]wire.ResultKind) {
			m := New(wire.V7, Options{})
			if err := m.FeedBytes(encode(startMsg(1), inputCmd(""))); err != nil {
				rt.Fatal(err)
			}
			if _, err := m.Input(); err != nil {
				rt.Fatal(err)
			}
			awakeables := make([]Handle, signals)
			for i := range awakeables {
				awakeables[i], _, _ = m.Awakeable()
			}
			named, _ := m.Signal("n")
			f := Future{Combinator: comb}
			for _, l := range leaves {
				switch l {
				case -2:
					f.Handles = append(f.Handles, CancelHandle)
				case -1:
					f.Handles = append(f.Handles, named)
				default:
					f.Handles = append(f.Handles, awakeables[l])
				}
			}
			for _, n := range pre {
				cp := *n
				m.setReadyResult(m.key(cp.ID), m.whole(&cp.Result))
			}
			for _, n := range queue {
				cp := *n
				if err := m.Feed(&cp); err != nil {
					rt.Fatal(err)
				}
			}
			var resolved bool
			if flat {
				resolved = m.resolveFlat(&f, withCancel)
			} else {
				resolved = m.resolveTree(&f, withCancel)
			}
			ready := map[string]wire.ResultKind{}
			for c, ref := range m.ready.dense {
				if ref != 0 {
					ready[wire.CompletionID(uint32(c)).String()] = m.resultAt(ref - 1).kind
				}
			}
			for k, ref := range m.ready.other {
				ready[m.id(k).String()] = m.resultAt(ref - 1).kind
			}
			return resolved, len(queue) - (len(m.queue) - m.queueHead), ready
		}
		r1, n1, ready1 := run(false)
		r2, n2, ready2 := run(true)
		if r1 != r2 || n1 != n2 {
			rt.Fatalf("tree: resolved %v after %d notifications; flat: resolved %v after %d", r1, n1, r2, n2)
		}
		if diff := cmp.Diff(ready1, ready2); diff != "" {
			rt.Fatalf("ready sets differ (-tree +flat):\n%s", diff)
		}
	})
}
