package replay

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/wire"
)

var benchSizes = []int{10, 100, 1_000, 10_000}

// runJournal is the request body of an invocation that journaled n runs,
// each followed by its completion.
func runJournal(n int) []wire.Message {
	msgs := []wire.Message{startMsg(uint32(1 + 2*n)), inputCmd("in")}
	for i := 1; i <= n; i++ {
		msgs = append(msgs, runCmd(uint32(i), "step"), runDone(uint32(i), val("result")))
	}
	return msgs
}

// fanOutJournal is the request body of an invocation that started n runs
// at once and then awaited them: all run commands, then all completions.
func fanOutJournal(n int) []wire.Message {
	msgs := []wire.Message{startMsg(uint32(1 + 2*n)), inputCmd("in")}
	for i := 1; i <= n; i++ {
		msgs = append(msgs, runCmd(uint32(i), "step"))
	}
	for i := 1; i <= n; i++ {
		msgs = append(msgs, runDone(uint32(i), val("result")))
	}
	return msgs
}

// replayFanOut issues n runs, then awaits and takes each.
func replayFanOut(b testing.TB, m *Machine, n int) {
	if _, err := m.Input(); err != nil {
		b.Fatal(err)
	}
	hs := make([]Handle, n)
	for i := range hs {
		h, exec, err := m.Run("step")
		if err != nil || exec {
			b.Fatalf("Run: %v, execute %v", err, exec)
		}
		hs[i] = h
	}
	for _, h := range hs {
		if res, err := m.Await(Single(h)); err != nil || res.Status != StatusReady {
			b.Fatalf("Await: %v %v", res.Status, err)
		}
		if _, ok := m.Take(h); !ok {
			b.Fatal("Take")
		}
	}
	if err := m.End(); err != nil {
		b.Fatal(err)
	}
}

// replayAwaitAll issues n runs, then awaits all of them at once.
func replayAwaitAll(b testing.TB, m *Machine, n int) {
	if _, err := m.Input(); err != nil {
		b.Fatal(err)
	}
	all := Future{Combinator: wire.CombinatorAllSucceededOrFirstFailed, Handles: make([]Handle, n)}
	for i := range all.Handles {
		h, exec, err := m.Run("step")
		if err != nil || exec {
			b.Fatalf("Run: %v, execute %v", err, exec)
		}
		all.Handles[i] = h
	}
	if res, err := m.Await(all); err != nil || res.Status != StatusReady {
		b.Fatalf("Await: %v %v", res.Status, err)
	}
	for _, h := range all.Handles {
		if _, ok := m.Take(h); !ok {
			b.Fatal("Take")
		}
	}
	if err := m.End(); err != nil {
		b.Fatal(err)
	}
}

// eagerStateJournal is the request body of an invocation that journaled n
// eager state gets.
func eagerStateJournal(n int) []wire.Message {
	msgs := []wire.Message{startMsg(uint32(1 + n)), inputCmd("in")}
	for i := 0; i < n; i++ {
		msgs = append(msgs, eagerGet(stateKey(i), val("value")))
	}
	return msgs
}

var stateKeys100 = func() []string {
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", i)
	}
	return keys
}()

func stateKey(i int) string { return stateKeys100[i%len(stateKeys100)] }

// replayRuns replays a run journal of n entries like a handler would:
// Run, Await, Take for each, then the output.
func replayRuns(b testing.TB, m *Machine, n int) {
	if _, err := m.Input(); err != nil {
		b.Fatal(err)
	}
	for range n {
		h, exec, err := m.Run("step")
		if err != nil || exec {
			b.Fatalf("Run: %v, execute %v", err, exec)
		}
		res, err := m.Await(Single(h))
		if err != nil || res.Status != StatusReady {
			b.Fatalf("Await: %v %v", res.Status, err)
		}
		if _, ok := m.Take(h); !ok {
			b.Fatal("Take")
		}
	}
	if err := m.Output(val("done")); err != nil {
		b.Fatal(err)
	}
	if err := m.End(); err != nil {
		b.Fatal(err)
	}
}

// replayRunAwait is replayRuns with RunAwait, as the typed API replays a
// run it awaits at once.
func replayRunAwait(b testing.TB, m *Machine, n int) {
	if _, err := m.Input(); err != nil {
		b.Fatal(err)
	}
	for range n {
		var res wire.Result
		r, err := m.RunAwait("step", &res)
		if err != nil || r.NeedsExecution || r.Status != StatusReady || res.Kind != wire.ResultValue {
			b.Fatalf("RunAwait: %+v %v", r, err)
		}
	}
	if err := m.Output(val("done")); err != nil {
		b.Fatal(err)
	}
	if err := m.End(); err != nil {
		b.Fatal(err)
	}
}

func replayEagerGets(b testing.TB, m *Machine, n int) {
	if _, err := m.Input(); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		h, err := m.GetState(stateKey(i))
		if err != nil {
			b.Fatal(err)
		}
		res, err := m.Await(Single(h))
		if err != nil || res.Status != StatusReady {
			b.Fatalf("Await: %v %v", res.Status, err)
		}
		if _, ok := m.Take(h); !ok {
			b.Fatal("Take")
		}
	}
	if err := m.End(); err != nil {
		b.Fatal(err)
	}
}

// benchReplay measures an attempt that receives body and replays it with
// handler: decoding the frames, replaying and writing the output.
func benchReplay(b *testing.B, n int, journal []wire.Message, handler func(testing.TB, *Machine, int)) {
	body := encode(journal...)
	b.SetBytes(int64(len(body)))
	measure(b, n, func() {
		m := New(wire.V6, Options{})
		if err := m.FeedBytes(body); err != nil {
			b.Fatal(err)
		}
		if err := m.CloseInput(); err != nil {
			b.Fatal(err)
		}
		handler(b, m, n)
		m.TakeOutput()
	})
}

// benchReplayDecoded is benchReplay without frame decoding: the journal is
// fed as decoded messages, isolating the replay engine.
func benchReplayDecoded(b *testing.B, n int, journal []wire.Message, handler func(testing.TB, *Machine, int)) {
	measure(b, n, func() {
		m := New(wire.V6, Options{})
		for _, msg := range journal {
			if err := m.Feed(msg); err != nil {
				b.Fatal(err)
			}
		}
		if err := m.CloseInput(); err != nil {
			b.Fatal(err)
		}
		handler(b, m, n)
		m.TakeOutput()
	})
}

// measure runs op in the benchmark loop and reports, besides ns/op and the
// allocations, per-entry figures: wall ns/entry, CPU ns/entry (process CPU
// time, robust against other load on the machine) and allocs/entry.
func measure(b *testing.B, n int, op func()) {
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0, cpuOK := processCPUTime()
	for b.Loop() {
		op()
	}
	cpu1, _ := processCPUTime()
	runtime.ReadMemStats(&after)
	ops := float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/ops/float64(n), "ns/entry")
	if cpuOK {
		b.ReportMetric(float64((cpu1-cpu0)/time.Nanosecond)/ops/float64(n), "cpu-ns/entry")
	}
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/ops/float64(n), "allocs/entry")
}

func BenchmarkReplayRuns(b *testing.B) {
	for _, n := range benchSizes {
		journal := runJournal(n)
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchReplay(b, n, journal, replayRuns) })
	}
}

func BenchmarkReplayRunAwait(b *testing.B) {
	for _, n := range benchSizes {
		journal := runJournal(n)
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchReplay(b, n, journal, replayRunAwait) })
	}
}

func BenchmarkReplayRunsDecoded(b *testing.B) {
	for _, n := range benchSizes {
		journal := runJournal(n)
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchReplayDecoded(b, n, journal, replayRuns) })
	}
}

func BenchmarkReplayRunsFanOut(b *testing.B) {
	for _, n := range benchSizes {
		journal := fanOutJournal(n)
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchReplay(b, n, journal, replayFanOut) })
	}
}

func BenchmarkReplayRunsAwaitAll(b *testing.B) {
	for _, n := range benchSizes {
		journal := fanOutJournal(n)
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchReplay(b, n, journal, replayAwaitAll) })
	}
}

func BenchmarkReplayEagerState(b *testing.B) {
	for _, n := range benchSizes {
		journal := eagerStateJournal(n)
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchReplay(b, n, journal, replayEagerGets) })
	}
}

func BenchmarkReplayEagerStateDecoded(b *testing.B) {
	for _, n := range benchSizes {
		journal := eagerStateJournal(n)
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchReplayDecoded(b, n, journal, replayEagerGets) })
	}
}

// TestReplayAllocsPerEntry guards the allocation budget of replaying: a
// constant number of allocations per journal entry, whatever N, plus a
// constant per attempt. The per-entry figure is the slope between two
// journal sizes. Not parallel: AllocsPerRun counts the allocations of the
// whole process.
func TestReplayAllocsPerEntry(t *testing.T) {
	const small, large = 100, 2_000
	const perAttempt = 40 // engine, buffers, output, handle and run maps
	for _, tc := range []struct {
		name    string
		journal func(int) []wire.Message
		handler func(testing.TB, *Machine, int)
		bytes   float64 // budget per entry, replaying from the request bytes
		decoded float64 // budget per entry, replaying decoded messages
	}{
		// From bytes: none, run commands and their completions are kept
		// undecoded.
		{"runs", runJournal, replayRuns, 0.05, 0.05},
		{"runs with RunAwait", runJournal, replayRunAwait, 0.05, 0.05},
		// From bytes: the eager get command.
		{"eager state", eagerStateJournal, replayEagerGets, 1.1, 0.05},
	} {
		allocs := func(n int, decoded bool) float64 {
			journal := tc.journal(n)
			body := encode(journal...)
			return testing.AllocsPerRun(5, func() {
				m := New(wire.V6, Options{})
				if decoded {
					for _, msg := range journal {
						if err := m.Feed(msg); err != nil {
							t.Fatal(err)
						}
					}
				} else if err := m.FeedBytes(body); err != nil {
					t.Fatal(err)
				}
				tc.handler(t, m, n)
			})
		}
		for _, decoded := range []bool{false, true} {
			a1, a2 := allocs(small, decoded), allocs(large, decoded)
			perEntry := (a2 - a1) / (large - small)
			fixed := a1 - small*perEntry
			budget := tc.bytes
			if decoded {
				budget = tc.decoded
			}
			t.Logf("%s, decoded %v: %.3f allocations per entry + %.0f per attempt", tc.name, decoded, perEntry, fixed)
			if perEntry > budget {
				t.Errorf("%s, decoded %v: %.3f allocations per entry, budget %.2f", tc.name, decoded, perEntry, budget)
			}
			if fixed > perAttempt {
				t.Errorf("%s, decoded %v: %.0f allocations per attempt, budget %d", tc.name, decoded, fixed, perAttempt)
			}
		}
	}
}
