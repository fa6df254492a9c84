package wire_test

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/qcodr/restate-sdk-go/wire"
)

// Run with: go test -run '^$' -bench . -benchmem ./wire/

func BenchmarkHeader(b *testing.B) {
	h := wire.Header{Type: wire.TypeCallCommand, Flags: 0, Length: 1234}
	b.Run("Append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, wire.HeaderSize)
		for b.Loop() {
			buf = h.Append(buf[:0])
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		buf := h.Append(nil)
		for b.Loop() {
			if _, err := wire.DecodeHeader(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// commandFixtures returns one golden fixture per command type, the first
// in the table.
func commandFixtures() []goldenFixture {
	seen := map[wire.Type]bool{}
	var out []goldenFixture
	for _, fx := range goldenFixtures() {
		if typ := fx.msg.Type(); typ.IsCommand() && !seen[typ] {
			seen[typ] = true
			out = append(out, fx)
		}
	}
	return out
}

// BenchmarkAppendPayload encodes each command into a reused buffer.
func BenchmarkAppendPayload(b *testing.B) {
	for _, fx := range commandFixtures() {
		b.Run(fx.msg.Type().String(), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 1024)
			for b.Loop() {
				buf = fx.msg.AppendPayload(buf[:0])
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		m := &wire.OutputCommand{Result: wire.ValueResult(bytes.Repeat([]byte("x"), size))}
		b.Run("value="+byteSize(size), func(b *testing.B) {
			b.ReportAllocs()
			buf := wire.AppendFrame(nil, m, 0)
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = wire.AppendFrame(buf[:0], m, 0)
			}
		})
	}
}

func byteSize(n int) string {
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// startWithState returns a StartMessage payload with n eager state entries
// of a 12-byte key and a 32-byte value.
func startWithState(n int) []byte {
	m := &wire.StartMessage{
		ID:           bytes.Repeat([]byte{7}, 24),
		DebugID:      "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz",
		KnownEntries: 1,
		Key:          "user-1",
		RandomSeed:   42,
	}
	for i := range n {
		m.StateMap = append(m.StateMap, wire.StateEntry{
			Key:   fmt.Appendf(nil, "key-%08d", i),
			Value: bytes.Repeat([]byte{byte(i)}, 32),
		})
	}
	return m.AppendPayload(nil)
}

func BenchmarkDecodeStart(b *testing.B) {
	for _, n := range []int{0, 100, 1000} {
		payload := startWithState(n)
		b.Run("entries="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			var m wire.StartMessage
			for b.Loop() {
				if err := m.DecodePayload(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeInput(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		payload := (&wire.InputCommand{
			Headers: []wire.HeaderEntry{{Key: "content-type", Value: "application/json"}},
			Value:   bytes.Repeat([]byte("x"), size),
		}).AppendPayload(nil)
		b.Run("value="+byteSize(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			var m wire.InputCommand
			for b.Loop() {
				if err := m.DecodePayload(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeNotification decodes a run completion with a small value
// into a reused struct: the common message of a replayed journal.
func BenchmarkDecodeNotification(b *testing.B) {
	payload := (&wire.Notification{ID: wire.CompletionID(3), Result: wire.ValueResult([]byte(`"ok"`))}).AppendPayload(nil)
	b.ReportAllocs()
	m := wire.Notification{MessageType: wire.TypeRunCompletion}
	for b.Loop() {
		if err := m.DecodePayload(payload); err != nil {
			b.Fatal(err)
		}
	}
}

// journalStream returns a stream of 100 frames: Start, Input, then commands
// and notifications as in a replayed journal.
func journalStream() []byte {
	stream := wire.AppendFrame(nil, &wire.StartMessage{KnownEntries: 99, PartialState: true}, 0)
	stream = wire.AppendFrame(stream, &wire.InputCommand{Value: []byte(`{"name":"Alice"}`)}, 0)
	for i := range uint32(49) {
		stream = wire.AppendFrame(stream, &wire.RunCommand{ResultCompletionID: i + 1, Name: "step"}, 0)
		stream = wire.AppendFrame(stream, &wire.Notification{
			MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(i + 1), Result: wire.ValueResult([]byte(`"done"`)),
		}, 0)
	}
	return stream
}

// BenchmarkDecoder splits a 100-frame journal into frames, fed in 4 KiB
// chunks, and decodes every frame.
func BenchmarkDecoder(b *testing.B) {
	stream := journalStream()
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		d := wire.NewDecoder(0)
		for p := stream; len(p) > 0; p = p[min(4096, len(p)):] {
			d.Write(p[:min(4096, len(p))])
			for {
				f, ok, err := d.Next()
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					break
				}
				if _, err := f.Decode(); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkReader reads the same journal with the pull Reader.
func BenchmarkReader(b *testing.B) {
	stream := journalStream()
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		r := wire.NewReader(bytes.NewReader(stream), 0)
		for {
			f, err := r.Next()
			if err != nil {
				break
			}
			if _, err := f.Decode(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// allocCase is a function whose allocations TestAllocationBudgets counts.
type allocCase struct {
	name string
	f    func()
}

// TestAllocationBudgets guards the zero-allocation promises: header encode
// and decode, and encoding any message into a buffer with room. It does not
// run in parallel, as AllocsPerRun requires.
func TestAllocationBudgets(t *testing.T) {
	h := wire.Header{Type: wire.TypeRunCommand, Length: 2}
	buf := make([]byte, 0, 64<<10)
	hb := h.Append(nil)
	cases := []allocCase{
		{"Header.Append", func() { buf = h.Append(buf[:0]) }},
		{"DecodeHeader", func() { _, _ = wire.DecodeHeader(hb) }},
	}
	for _, fx := range goldenFixtures() {
		cases = append(cases,
			allocCase{fx.name + ".AppendPayload", func() { buf = fx.msg.AppendPayload(buf[:0]) }},
			allocCase{fx.name + ".AppendFrame", func() { buf = wire.AppendFrame(buf[:0], fx.msg, fx.flags) }},
		)
	}
	big := &wire.OutputCommand{Result: wire.ValueResult(bytes.Repeat([]byte("x"), 20000))}
	cases = append(cases, allocCase{"AppendFrame with a 3-byte nested length", func() { buf = wire.AppendFrame(buf[:0], big, 0) }})
	for _, c := range cases {
		if allocs := testing.AllocsPerRun(100, c.f); allocs != 0 {
			t.Errorf("%s allocates %v times, want 0", c.name, allocs)
		}
	}
}
