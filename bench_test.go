package restate_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// The typed layer's cost is measured by running the same journal twice: once
// through a handler written with the public API, once by calling the engine
// directly in the same order. The difference per operation is the cost of
// the typed shell (contexts, futures, codecs, the handler goroutine).

const benchKeys = 16

func replayBody(n int) []byte {
	start := &wire.StartMessage{ID: []byte("0123456789abcdefghijklmn"), DebugID: "inv_bench", Key: "k",
		KnownEntries: uint32(1 + 3*n)}
	for i := range benchKeys {
		start.StateMap = append(start.StateMap, wire.StateEntry{Key: []byte("k" + strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))})
	}
	b := wire.AppendFrame(nil, start, 0)
	b = wire.AppendFrame(b, &wire.InputCommand{Value: []byte(strconv.Itoa(n))}, 0)
	c := uint32(1)
	for i := range n {
		key := []byte("k" + strconv.Itoa(i%benchKeys))
		b = wire.AppendFrame(b, &wire.GetEagerStateCommand{Key: key, Result: wire.ValueResult([]byte(strconv.Itoa(i % benchKeys)))}, 0)
		c++
		b = wire.AppendFrame(b, &wire.RunCommand{ResultCompletionID: c}, 0)
		b = wire.AppendFrame(b, &wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(c), Result: wire.ValueResult([]byte("7"))}, 0)
		c++
	}
	return b
}

func benchService() *endpoint.Handler {
	h := restate.NewObjectHandler("h", func(ctx restate.ObjectContext, n int) (int, error) {
		sum := 0
		for i := range n {
			v, err := restate.NewStateKey[int]("k" + strconv.Itoa(i%benchKeys)).Get(ctx)
			if err != nil {
				return 0, err
			}
			r, err := restate.Run(ctx, func(restate.RunContext) (int, error) { return 7, nil })
			if err != nil {
				return 0, err
			}
			sum += v + r
		}
		return sum, nil
	})
	return restate.NewObject("Bench", h).Definition().Handler("h")
}

// engineOnly replays the same journal with direct engine calls.
func engineOnly(b *testing.B, body []byte, n int) {
	m := replay.New(wire.V6, replay.Options{})
	if err := m.FeedBytes(body); err != nil {
		b.Fatal(err)
	}
	_ = m.CloseInput()
	if _, err := m.Input(); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		h, err := m.GetState("k" + strconv.Itoa(i%benchKeys))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Await(replay.Single(h)); err != nil {
			b.Fatal(err)
		}
		m.Take(h)
		r, _, err := m.Run("")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Await(replay.Single(r)); err != nil {
			b.Fatal(err)
		}
		m.Take(r)
	}
	if err := m.Output(wire.ValueResult([]byte("1"))); err != nil {
		b.Fatal(err)
	}
	if err := m.End(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkTypedLayerReplay(b *testing.B) {
	ep, err := endpoint.New(nil, endpoint.Config{})
	if err != nil {
		b.Fatal(err)
	}
	h := benchService()
	for _, n := range []int{10, 100, 1000} {
		body := replayBody(n)
		ops := float64(2 * n)
		b.Run(fmt.Sprintf("engine/ops=%d", 2*n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				engineOnly(b, body, n)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/ops, "ns/op-each")
		})
		b.Run(fmt.Sprintf("typed/ops=%d", 2*n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out := ep.RunBuffered(context.Background(), h, wire.V6, body, endpoint.Attempt{})
				if len(out) == 0 {
					b.Fatal("no output")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/ops, "ns/op-each")
		})
	}
}

// BenchmarkTypedLayerLive measures operations that write new commands:
// eager state gets and sets while processing.
func BenchmarkTypedLayerLive(b *testing.B) {
	ep, err := endpoint.New(nil, endpoint.Config{})
	if err != nil {
		b.Fatal(err)
	}
	key := restate.NewStateKey[int]("k")
	h := restate.NewObject("Live", restate.NewObjectHandler("h", func(ctx restate.ObjectContext, n int) (int, error) {
		for range n {
			v, err := key.Get(ctx)
			if err != nil {
				return 0, err
			}
			if err := key.Set(ctx, v+1); err != nil {
				return 0, err
			}
		}
		return 0, nil
	})).Definition().Handler("h")
	for _, n := range []int{10, 100, 1000} {
		start := &wire.StartMessage{ID: []byte("0123456789abcdefghijklmn"), DebugID: "inv_bench", Key: "k", KnownEntries: 1,
			StateMap: []wire.StateEntry{{Key: []byte("k"), Value: []byte("0")}}}
		body := wire.AppendFrame(nil, start, 0)
		body = wire.AppendFrame(body, &wire.InputCommand{Value: []byte(strconv.Itoa(n))}, 0)
		ops := float64(2 * n)
		b.Run(fmt.Sprintf("engine/ops=%d", 2*n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := replay.New(wire.V6, replay.Options{})
				_ = m.FeedBytes(body)
				_ = m.CloseInput()
				if _, err := m.Input(); err != nil {
					b.Fatal(err)
				}
				v := 0
				for range n {
					h, _ := m.GetState("k")
					if _, err := m.Await(replay.Single(h)); err != nil {
						b.Fatal(err)
					}
					r, _ := m.Take(h)
					v, _ = strconv.Atoi(string(r.Value))
					_ = m.SetState("k", strconv.AppendInt(nil, int64(v+1), 10))
				}
				_ = m.Output(wire.ValueResult([]byte("0")))
				_ = m.End()
				_ = m.TakeOutput()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/ops, "ns/op-each")
		})
		b.Run(fmt.Sprintf("typed/ops=%d", 2*n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out := ep.RunBuffered(context.Background(), h, wire.V6, body, endpoint.Attempt{})
				if len(out) == 0 {
					b.Fatal("no output")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/ops, "ns/op-each")
		})
	}
}

// BenchmarkTypedRunsReplay measures replaying a journal of n completed runs
// through restate.Run, the workload of the end-to-end replay benchmark.
func BenchmarkTypedRunsReplay(b *testing.B) {
	ep, err := endpoint.New(nil, endpoint.Config{})
	if err != nil {
		b.Fatal(err)
	}
	h := restate.NewService("Runs", restate.NewHandler("h", func(ctx restate.Context, n int) (int64, error) {
		var sum int64
		for range n {
			v, err := restate.Run(ctx, func(restate.RunContext) (int64, error) { return 1, nil })
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	})).Definition().Handler("h")
	for _, n := range []int{10, 1000} {
		start := &wire.StartMessage{ID: []byte("0123456789abcdefghijklmn"), DebugID: "inv_bench", KnownEntries: uint32(1 + 2*n)}
		body := wire.AppendFrame(nil, start, 0)
		body = wire.AppendFrame(body, &wire.InputCommand{Value: []byte(strconv.Itoa(n))}, 0)
		for c := uint32(1); c <= uint32(n); c++ {
			body = wire.AppendFrame(body, &wire.RunCommand{ResultCompletionID: c}, 0)
			body = wire.AppendFrame(body, &wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(c), Result: wire.ValueResult([]byte("1"))}, 0)
		}
		b.Run(fmt.Sprintf("runs=%d", n), func(b *testing.B) {
			checkRunsOutput(b, ep.RunBuffered(context.Background(), h, wire.V6, body, endpoint.Attempt{}), n)
			b.ReportAllocs()
			for b.Loop() {
				out := ep.RunBuffered(context.Background(), h, wire.V6, body, endpoint.Attempt{})
				if len(out) == 0 {
					b.Fatal("no output")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/run")
		})
	}
}

// checkRunsOutput checks that a replay of n runs of 1 ended with the output
// n and the end message.
func checkRunsOutput(b *testing.B, out []byte, n int) {
	b.Helper()
	var types []wire.Type
	var value string
	r := wire.NewReader(bytes.NewReader(out), 0)
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		m, err := f.Decode()
		if err != nil {
			b.Fatal(err)
		}
		types = append(types, m.Type())
		if o, ok := m.(*wire.OutputCommand); ok {
			value = string(o.Result.Value)
		}
	}
	if value != strconv.Itoa(n) || len(types) == 0 || types[len(types)-1] != wire.TypeEnd {
		b.Fatalf("replaying %d runs: frames %v with output %q, want the output %d and an end", n, types, value, n)
	}
}
