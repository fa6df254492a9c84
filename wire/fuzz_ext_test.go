package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcodr/restate-sdk-go/wire"
)

var heapAllocSample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

// heapAllocated returns the bytes allocated on the heap so far, by any
// goroutine. The runtime accounts small objects a span at a time, so
// differences are precise only to some kilobytes; allocBudget allows for
// that.
func heapAllocated() uint64 {
	metrics.Read(heapAllocSample)
	return heapAllocSample[0].Value.Uint64()
}

// checkAllocs fails t if f, which must be deterministic and repeatable,
// allocates more than budget bytes. The first measurement is cheap but
// counts what other goroutines of the fuzzing worker allocate meanwhile, so
// an excess is measured twice more with runtime.ReadMemStats, and only an
// excess every time fails.
func checkAllocs(t *testing.T, what string, budget uint64, f func()) {
	t.Helper()
	before := heapAllocated()
	f()
	n := heapAllocated() - before
	if n <= budget {
		return
	}
	for range 2 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		f()
		runtime.ReadMemStats(&m1)
		if n = m1.TotalAlloc - m0.TotalAlloc; n <= budget {
			return
		}
	}
	t.Fatalf("%s allocated %d bytes, over the budget of %d", what, n, budget)
}

// allocBudget is the most that decoding n bytes of input may allocate: a
// constant for the runtime's span-sized accounting and the Reader's first
// 32 KiB chunk, plus a factor for the structs of the decoded messages (a
// 2-byte nested message can become a 48-byte struct in a growing slice).
// What it catches is allocation driven by a declared length instead of by
// bytes that arrived: a 13-byte frame declaring 32 MiB.
func allocBudget(n int) uint64 { return 1<<20 + 128*uint64(n) }

// FuzzDecodeMessage decodes arbitrary payloads as any message type. It
// checks that decoding never panics, allocates within allocBudget, fails
// only with this package's errors, and that a decoded message encodes to
// bytes that decode to the same message, which encode to the same bytes.
func FuzzDecodeMessage(f *testing.F) {
	for _, fx := range goldenFixtures() {
		f.Add(uint16(fx.msg.Type()), readGolden(f, fx.name).frame[wire.HeaderSize:])
	}
	f.Add(uint16(wire.TypeSuspension), nestFutures(50))
	f.Add(uint16(wire.TypeStart), hexBytes("a3 01 08 01 ab 01 ac 01 a4 01 18 01"))
	f.Add(uint16(0xFC00), []byte{})
	f.Fuzz(func(t *testing.T, typ uint16, payload []byte) {
		checkDecode(t, wire.Type(typ), payload)
	})
}

// checkDecode decodes payload as a typ message: it must not panic nor
// allocate beyond allocBudget, an error must be a well-formed DecodeError,
// and a decoded message must re-encode consistently.
func checkDecode(t *testing.T, typ wire.Type, payload []byte) {
	var m wire.Message
	var err error
	checkAllocs(t, fmt.Sprintf("decoding %d bytes", len(payload)), allocBudget(len(payload)), func() {
		m, err = wire.Decode(typ, payload)
	})
	if err != nil {
		checkError(t, err, len(payload))
		return
	}
	checkReencode(t, m)
}

// fuzzType is the fuzz target of one message decoder, seeded from the
// golden fixtures of that type.
func fuzzType(f *testing.F, typ wire.Type) {
	seeded := false
	for _, fx := range goldenFixtures() {
		if fx.msg.Type() == typ {
			f.Add(readGolden(f, fx.name).frame[wire.HeaderSize:])
			seeded = true
		}
	}
	if !seeded {
		f.Fatalf("no golden fixture of %s to seed its fuzz target", typ)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) { checkDecode(t, typ, payload) })
}

// FuzzDecoder reads arbitrary streams of frames with the push Decoder, fed
// in chunks of a fuzzed size, and with the pull Reader. It checks that
// neither panics nor allocates beyond allocBudget, that both read the same
// frames and fail with the same error, that the frames are exactly the
// input, and that every decodable frame re-encodes consistently.
func FuzzDecoder(f *testing.F) {
	var all []byte
	for _, fx := range goldenFixtures() {
		frame := readGolden(f, fx.name).frame
		f.Add(frame, uint8(0))
		all = append(all, frame...)
	}
	f.Add(all, uint8(6))
	f.Add(threeFrames[:40], uint8(2))
	f.Add(wire.Header{Type: wire.TypeStart, Length: wire.DefaultMaxFrameLength + 1}.Append(nil), uint8(0))
	f.Add(wire.Header{Type: wire.TypeStart, Length: wire.DefaultMaxFrameLength}.Append(make([]byte, 0, 13)), uint8(3))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		var pushed, pulled []wire.Frame
		var pushErr, pullErr error
		checkAllocs(t, fmt.Sprintf("reading %d bytes of frames", len(stream)), allocBudget(len(stream)), func() {
			pushed, pushErr = decodeAll(stream, int(chunk)+1, 0)
			pulled, pullErr = readAll(wire.NewReader(bytes.NewReader(stream), 0))
		})
		if diff := cmp.Diff(pushed, pulled); diff != "" {
			t.Fatalf("Decoder and Reader read different frames (-Decoder +Reader):\n%s", diff)
		}
		if errorText(pushErr) != errorText(pullErr) {
			t.Fatalf("Decoder error %v, Reader error %v", pushErr, pullErr)
		}
		var again []byte
		for _, f := range pushed {
			if int(f.Header.Length) != len(f.Payload) {
				t.Fatalf("frame %+v has a %d-byte payload", f.Header, len(f.Payload))
			}
			again = append(f.Header.Append(again), f.Payload...)
		}
		if !bytes.HasPrefix(stream, again) || (pushErr == nil) != (len(again) == len(stream)) {
			t.Fatalf("frames %x are not the stream %x (error %v)", again, stream, pushErr)
		}
		if pushErr != nil {
			checkError(t, pushErr, len(stream))
			if !errors.Is(pushErr, wire.ErrTruncated) && !errors.Is(pushErr, wire.ErrFrameTooLarge) {
				t.Fatalf("stream error %v is neither a truncation nor a too large frame", pushErr)
			}
		}
		for _, f := range pushed {
			m, err := f.Decode()
			if err != nil {
				checkError(t, err, len(f.Payload))
				continue
			}
			checkReencode(t, m)
			frame := wire.AppendFrame(nil, m, f.Header.Flags)
			h, err := wire.DecodeHeader(frame)
			if err != nil || h.Type != f.Header.Type || h.Flags != f.Header.Flags {
				t.Fatalf("re-encoded frame header %+v, %v; want type and flags of %+v", h, err, f.Header)
			}
		}
	})
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkError checks that err is one of this package's errors, well formed.
func checkError(t *testing.T, err error, inputLen int) {
	t.Helper()
	var ute *wire.UnknownTypeError
	if errors.As(err, &ute) {
		if ute.Type.Known() {
			t.Fatalf("UnknownTypeError for the known %v", ute.Type)
		}
		return
	}
	var de *wire.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *wire.DecodeError", err, err)
	}
	sentinel := false
	for _, s := range []error{wire.ErrTruncated, wire.ErrVarint, wire.ErrWireType, wire.ErrFrameTooLarge, wire.ErrInvalid} {
		sentinel = sentinel || de.Err == s
	}
	if !sentinel {
		t.Fatalf("error %v wraps %v, not a sentinel", err, de.Err)
	}
	if de.Offset < 0 || de.Offset > inputLen {
		t.Fatalf("error %v: offset outside the %d-byte input", err, inputLen)
	}
	if text := err.Error(); !strings.HasPrefix(text, "wire: ") || strings.HasSuffix(text, ".") {
		t.Fatalf("error text %q", text)
	}
}

// checkReencode checks that m encodes to bytes that decode to m, and that
// those bytes are a fixed point.
func checkReencode(t *testing.T, m wire.Message) {
	t.Helper()
	enc := m.AppendPayload(nil)
	again, err := wire.Decode(m.Type(), enc)
	if err != nil {
		t.Fatalf("re-encoded %v %x does not decode: %v", m.Type(), enc, err)
	}
	// reflect.DeepEqual first: cmp compares slice elements more than once
	// per level, which is exponential in the depth of a Future tree.
	if !reflect.DeepEqual(m, again) {
		t.Fatalf("re-encoded %v decodes differently (-first +second):\n%s", m.Type(), cmp.Diff(m, again))
	}
	if enc2 := again.AppendPayload(nil); !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable: %x then %x", enc, enc2)
	}
}
