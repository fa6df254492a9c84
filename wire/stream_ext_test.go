package wire_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/qcodr/restate-sdk-go/wire"
)

func TestHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		h   wire.Header
		hex string
		ack bool
	}{
		{wire.Header{Type: wire.TypeEnd}, "0003000000000000", false},
		{wire.Header{Type: wire.TypeProposeRunCompletion, Flags: wire.FlagRequestedAck, Length: 8}, "0005800000000008", true},
		{wire.Header{Type: wire.TypeSignalNotification, Flags: 0x0001, Length: 0xFFFFFFFF}, "fbff0001ffffffff", false},
		{wire.Header{Type: 0xFFFF, Flags: 0xFFFF, Length: 0x01020304}, "ffffffff01020304", true},
	}
	for _, tc := range tests {
		b := tc.h.Append([]byte{0xAA})
		if diff := cmp.Diff(append([]byte{0xAA}, mustHex(tc.hex)...), b); diff != "" {
			t.Errorf("%+v.Append (-want +got):\n%s", tc.h, diff)
		}
		got, err := wire.DecodeHeader(append(mustHex(tc.hex), 0x99))
		if err != nil || got != tc.h {
			t.Errorf("DecodeHeader(%s) = %+v, %v; want %+v", tc.hex, got, err, tc.h)
		}
		if got.RequestedAck() != tc.ack {
			t.Errorf("%+v.RequestedAck() = %v", got, !tc.ack)
		}
	}
}

func TestDecodeHeaderShort(t *testing.T) {
	t.Parallel()
	for n := range wire.HeaderSize {
		_, err := wire.DecodeHeader(make([]byte, n))
		var de *wire.DecodeError
		if !errors.As(err, &de) || !errors.Is(err, wire.ErrTruncated) || de.Message != "frame header" {
			t.Errorf("DecodeHeader(%d bytes) error = %v", n, err)
		}
	}
	_, err := wire.DecodeHeader([]byte{1, 2, 3})
	if want := "wire: frame header: need 8 bytes, have 3 at offset 0"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestAppendFrame(t *testing.T) {
	t.Parallel()
	prefix := []byte("keep")
	b := wire.AppendFrame(prefix, &wire.RunCommand{ResultCompletionID: 1}, 0)
	b = wire.AppendFrame(b, &wire.EndMessage{}, 0)
	want := append([]byte("keep"), mustHex("04110000000000025801")...)
	want = append(want, mustHex("0003000000000000")...)
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A payload longer than 127 bytes, to cover multi-byte lengths inside.
	big := &wire.OutputCommand{Result: wire.ValueResult(bytes.Repeat([]byte("x"), 200))}
	f := wire.AppendFrame(nil, big, 0)
	h, err := wire.DecodeHeader(f)
	if err != nil || h.Length != uint32(len(f)-wire.HeaderSize) || h.Type != wire.TypeOutputCommand {
		t.Errorf("header %+v, %v for a %d-byte frame", h, err, len(f))
	}
}

// threeFrames is a stream of three frames: 19, 8 and 26 bytes long.
var threeFrames = mustHex("040000000000000b72090a0722416c69636522" + "0003000000000000" + "040100000000001272100a0e2248656c6c6f20416c6963652122")

var threeFrameStarts = []int{0, 19, 27, 53}

func TestReadFrames(t *testing.T) {
	t.Parallel()
	want := []wire.Frame{
		{Header: wire.Header{Type: wire.TypeInputCommand, Length: 11}, Payload: threeFrames[8:19]},
		{Header: wire.Header{Type: wire.TypeEnd}},
		{Header: wire.Header{Type: wire.TypeOutputCommand, Length: 18}, Payload: threeFrames[35:53]},
	}
	for _, rd := range frameReaders {
		t.Run(rd.name, func(t *testing.T) {
			t.Parallel()
			got, err := rd.read(threeFrames, 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			got, err = rd.read(nil, 0)
			if err != nil || len(got) != 0 {
				t.Errorf("empty stream: %v, %v", got, err)
			}
		})
	}
}

// TestReadTruncated cuts the stream at every byte: at a frame boundary the
// stream ends cleanly, inside a frame every reader reports the same
// truncation error at the offset of the partial frame.
func TestReadTruncated(t *testing.T) {
	t.Parallel()
	for cut := range len(threeFrames) {
		complete, start := 0, 0
		for i, s := range threeFrameStarts {
			if s <= cut {
				complete, start = i, s
			}
		}
		var texts []string
		for _, rd := range frameReaders {
			frames, err := rd.read(threeFrames[:cut], 0)
			if len(frames) != complete {
				t.Errorf("cut %d, %s: %d frames, want %d", cut, rd.name, len(frames), complete)
			}
			if cut == start {
				if err != nil {
					t.Errorf("cut %d at a frame boundary, %s: %v", cut, rd.name, err)
				}
				continue
			}
			var de *wire.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, wire.ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("cut %d, %s: error %v, want a truncation", cut, rd.name, err)
			}
			if de.Offset != start {
				t.Errorf("cut %d, %s: offset %d, want %d", cut, rd.name, de.Offset, start)
			}
			texts = append(texts, err.Error())
		}
		for _, text := range texts[min(1, len(texts)):] {
			if text != texts[0] {
				t.Errorf("cut %d: readers disagree: %q and %q", cut, texts[0], text)
			}
		}
	}
	_, err := decodeAll(threeFrames[:22], 100, 0)
	if want := "wire: frame header: stream ends after 3 of 8 frame bytes at offset 19"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	_, err = decodeAll(threeFrames[:40], 100, 0)
	if want := "wire: OutputCommandMessage: stream ends after 13 of 26 frame bytes at offset 27"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestFrameTooLarge(t *testing.T) {
	t.Parallel()
	stream := wire.AppendFrame(nil, &wire.RunCommand{ResultCompletionID: 1}, 0) // 2-byte payload
	stream = wire.Header{Type: wire.TypeStart, Length: 100}.Append(stream)
	stream = append(stream, make([]byte, 100)...)
	for _, rd := range frameReaders {
		t.Run(rd.name, func(t *testing.T) {
			t.Parallel()
			frames, err := rd.read(stream, 99)
			if len(frames) != 1 {
				t.Errorf("%d frames before the error, want 1", len(frames))
			}
			if want := "wire: StartMessage: frame length 100 exceeds limit 99 at offset 10"; err == nil || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
			if !errors.Is(err, wire.ErrFrameTooLarge) {
				t.Errorf("errors.Is(%v, ErrFrameTooLarge) = false", err)
			}
			if frames, err := rd.read(stream, 100); len(frames) != 2 || err != nil {
				t.Errorf("at the limit: %d frames, %v", len(frames), err)
			}
		})
	}
}

func TestDefaultMaxFrameLength(t *testing.T) {
	t.Parallel()
	atLimit := wire.Header{Type: wire.TypeInputCommand, Length: wire.DefaultMaxFrameLength}.Append(nil)
	overLimit := wire.Header{Type: wire.TypeInputCommand, Length: wire.DefaultMaxFrameLength + 1}.Append(nil)

	d := wire.NewDecoder(0)
	d.Write(atLimit)
	if _, ok, err := d.Next(); ok || err != nil {
		t.Errorf("Decoder at the default limit: ok %v, error %v; want to wait for the payload", ok, err)
	}
	d = wire.NewDecoder(0)
	d.Write(overLimit)
	if _, _, err := d.Next(); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Errorf("Decoder over the default limit: error %v", err)
	}
	if _, err := wire.NewReader(bytes.NewReader(overLimit), 0).Next(); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Errorf("Reader over the default limit: error %v", err)
	}
	if _, err := wire.NewReader(bytes.NewReader(atLimit), 0).Next(); !errors.Is(err, wire.ErrTruncated) {
		t.Errorf("Reader at the default limit without payload: error %v", err)
	}
}

// TestReaderGrowsAsBytesArrive checks that a header declaring a large
// payload does not make the Reader allocate it before the bytes arrive.
// It must not run in parallel with other tests: it measures the heap.
func TestReaderGrowsAsBytesArrive(t *testing.T) {
	stream := wire.Header{Type: wire.TypeInputCommand, Length: wire.DefaultMaxFrameLength}.Append(nil)
	stream = append(stream, make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := wire.NewReader(bytes.NewReader(stream), 0).Next()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, wire.ErrTruncated) {
		t.Errorf("error %v, want a truncation", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("reading a truncated frame allocated %d bytes", n)
	}
}

func TestReaderLargeFrames(t *testing.T) {
	t.Parallel()
	var stream []byte
	var want []wire.Message
	for _, n := range []int{32<<10 - 16, 32 << 10, 100 << 10, 1 << 20} {
		m := &wire.InputCommand{Value: bytes.Repeat([]byte{byte(n)}, n)}
		stream = wire.AppendFrame(stream, m, 0)
		want = append(want, m)
	}
	for _, r := range []io.Reader{bytes.NewReader(stream), iotest.HalfReader(bytes.NewReader(stream))} {
		frames, err := readAll(wire.NewReader(r, 0))
		if err != nil {
			t.Fatal(err)
		}
		var got []wire.Message
		for _, f := range frames {
			m, err := f.Decode()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		// bytes.Equal: cmp takes seconds over megabytes.
		if diff := cmp.Diff(want, got, cmp.Comparer(bytes.Equal)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")

	r := wire.NewReader(iotest.ErrReader(boom), 0)
	_, err := r.Next()
	if !errors.Is(err, boom) || err.Error() != "wire: reading frame header at offset 0: boom" {
		t.Errorf("header read error = %v", err)
	}
	if _, again := r.Next(); again != err {
		t.Errorf("second Next = %v, want the same error", again)
	}

	header := wire.Header{Type: wire.TypeInputCommand, Length: 4}.Append(nil)
	r = wire.NewReader(io.MultiReader(bytes.NewReader(header), bytes.NewReader([]byte{1}), iotest.ErrReader(boom)), 0)
	_, err = r.Next()
	if !errors.Is(err, boom) || err.Error() != "wire: reading InputCommandMessage payload at offset 0: boom" {
		t.Errorf("payload read error = %v", err)
	}

	r = wire.NewReader(bytes.NewReader(nil), 0)
	for range 2 {
		if _, err := r.Next(); err != io.EOF {
			t.Errorf("Next at the end = %v, want io.EOF", err)
		}
	}
}

func TestDecoder(t *testing.T) {
	t.Parallel()
	d := wire.NewDecoder(0)
	if _, ok, err := d.Next(); ok || err != nil || d.Buffered() != 0 || d.Finish() != nil {
		t.Errorf("empty Decoder: ok %v, error %v, buffered %d", ok, err, d.Buffered())
	}
	input := bytes.Clone(threeFrames)
	if n, err := d.Write(input); n != len(input) || err != nil {
		t.Errorf("Write = %d, %v", n, err)
	}
	clear(input) // the Decoder must have copied what it needs
	var got []wire.Frame
	for {
		f, ok, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, f)
	}
	if len(got) != 3 || !bytes.Equal(got[2].Payload, threeFrames[35:53]) {
		t.Errorf("frames %+v", got)
	}
	if d.Buffered() != 0 || d.Finish() != nil {
		t.Errorf("after all frames: buffered %d, Finish %v", d.Buffered(), d.Finish())
	}

	d.Write(threeFrames[:5])
	if d.Buffered() != 5 {
		t.Errorf("Buffered() = %d, want 5", d.Buffered())
	}
}

func TestDecoderErrorIsSticky(t *testing.T) {
	t.Parallel()
	d := wire.NewDecoder(4)
	d.Write(wire.Header{Type: wire.TypeStart, Length: 5}.Append(nil))
	_, _, err := d.Next()
	if !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Fatalf("error %v", err)
	}
	if n, werr := d.Write([]byte{1, 2, 3}); n != 3 || werr != nil {
		t.Errorf("Write after the error = %d, %v", n, werr)
	}
	if _, ok, again := d.Next(); ok || again != err {
		t.Errorf("Next after the error: ok %v, error %v", ok, again)
	}
	if d.Finish() != err {
		t.Errorf("Finish = %v, want the sticky error", d.Finish())
	}
}

// TestDecoderReusesBuffer feeds many frames in chunks and checks that the
// Decoder's buffer does not grow with the length of the stream. It does
// not run in parallel, as AllocsPerRun requires.
func TestDecoderReusesBuffer(t *testing.T) {
	var stream []byte
	for range 1000 {
		stream = append(stream, threeFrames...)
	}
	frames, err := decodeAll(stream, 13, 0)
	if err != nil || len(frames) != 3000 {
		t.Fatalf("%d frames, error %v", len(frames), err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		d := wire.NewDecoder(0)
		for p := stream; len(p) > 0; p = p[min(13, len(p)):] {
			d.Write(p[:min(13, len(p))])
			for {
				if _, ok, _ := d.Next(); !ok {
					break
				}
			}
		}
	})
	// One allocation per non-empty payload, plus a few for the Decoder.
	if limit := 2000.0 + 10; allocs > limit {
		t.Errorf("decoding 3000 frames allocated %v times, want at most %v", allocs, limit)
	}
}

func TestFrameDecode(t *testing.T) {
	t.Parallel()
	f := wire.Frame{Header: wire.Header{Type: wire.TypeRunCommand, Length: 2}, Payload: mustHex("5801")}
	m, err := f.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&wire.RunCommand{ResultCompletionID: 1}, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	f.Payload = mustHex("58")
	if _, err := f.Decode(); !errors.Is(err, wire.ErrTruncated) || !strings.Contains(err.Error(), "RunCommandMessage") {
		t.Errorf("error %v", err)
	}
}
