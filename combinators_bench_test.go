package restate

import (
	"fmt"
	"testing"

	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// benchCombMachine returns a processing engine with n awakeables whose
// notifications (all successes) are applied.
func benchCombMachine(b *testing.B, n int) (*replay.Machine, []Future[int]) {
	m := replay.New(wire.V7, replay.Options{})
	in := wire.AppendFrame(nil, &wire.StartMessage{ID: []byte("0123456789abcdefghijklmn"), DebugID: "inv_bench", KnownEntries: 1}, 0)
	in = wire.AppendFrame(in, &wire.InputCommand{}, 0)
	if err := m.FeedBytes(in); err != nil {
		b.Fatal(err)
	}
	if _, err := m.Input(); err != nil {
		b.Fatal(err)
	}
	futs := make([]Future[int], n)
	var frames []byte
	for i := range futs {
		h, _, err := m.Awakeable()
		if err != nil {
			b.Fatal(err)
		}
		futs[i] = newValueLeaf[int](nil, h, JSON, "awakeable")
		frames = wire.AppendFrame(frames, &wire.Notification{MessageType: wire.TypeSignalNotification,
			ID: wire.SignalID(uint32(17 + i)), Result: wire.ValueResult([]byte("1"))}, 0)
	}
	if err := m.FeedBytes(frames); err != nil {
		b.Fatal(err)
	}
	for _, f := range futs {
		if _, err := m.Await(replay.Single(f.f.handle[0])); err != nil {
			b.Fatal(err)
		}
	}
	return m, futs
}

// BenchmarkCombinatorState measures building a combinator over n complete
// futures and evaluating it, as an await does before it takes the results:
// a flat All, and an All of races that each mix a mapped future and a leaf.
func BenchmarkCombinatorState(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("all/futures=%d", n), func(b *testing.B) {
			m, futs := benchCombMachine(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if All(futs...).f.state(m) != replay.Succeeded {
					b.Fatal("All did not succeed")
				}
			}
		})
		b.Run(fmt.Sprintf("nested/futures=%d", n), func(b *testing.B) {
			m, futs := benchCombMachine(b, n)
			inc := func(v int) (int, error) { return v + 1, nil }
			b.ReportAllocs()
			for b.Loop() {
				races := make([]Future[int], n/2)
				for i := range races {
					races[i] = Race(Map(futs[2*i], inc), futs[2*i+1])
				}
				if All(races...).f.state(m) != replay.Succeeded {
					b.Fatal("All did not succeed")
				}
			}
		})
	}
}
