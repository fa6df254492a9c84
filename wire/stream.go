package wire

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// DefaultMaxFrameLength is the default limit on a frame's payload length:
// 32 MiB, the runtime's own default `message-size-limit`. The runtime sends
// no larger frame and rejects larger ones from the SDK, so a longer declared
// length means a corrupt or hostile stream; rejecting it early keeps an
// 8-byte header from making the decoder wait for, or buffer, gigabytes.
const DefaultMaxFrameLength = 32 << 20

// readChunk is the most a [Reader] allocates for a payload before its bytes
// arrive; longer payloads grow by doubling as they are read.
const readChunk = 32 << 10

func frameTooLarge(h Header, limit uint32, offset int) error {
	return &DecodeError{
		Message: h.Type.String(),
		Offset:  offset,
		Err:     ErrFrameTooLarge,
		detail: "frame length " + strconv.FormatUint(uint64(h.Length), 10) +
			" exceeds limit " + strconv.FormatUint(uint64(limit), 10),
	}
}

// truncatedStream reports a stream that ended have bytes into a frame whose
// header says it needs want bytes (header included).
func truncatedStream(message string, have, want, offset int) error {
	return &DecodeError{
		Message: message,
		Offset:  offset,
		Err:     ErrTruncated,
		cause:   io.ErrUnexpectedEOF,
		detail:  "stream ends after " + strconv.Itoa(have) + " of " + strconv.Itoa(want) + " frame bytes",
	}
}

// Decoder splits a stream of bytes into frames, push style: the caller
// writes bytes as they arrive, in chunks of any size, and asks for the
// frames completed so far. The replay engine uses it because it takes input
// without doing I/O itself. The zero Decoder is not usable; call
// [NewDecoder].
type Decoder struct {
	buf    []byte // buffered input; buf[off:] is not consumed yet
	off    int
	offset int // stream offset of buf[off]
	limit  uint32
	err    error
}

// NewDecoder returns a Decoder that rejects frames whose payload is longer
// than maxLen bytes; 0 means [DefaultMaxFrameLength].
func NewDecoder(maxLen uint32) *Decoder {
	if maxLen == 0 {
		maxLen = DefaultMaxFrameLength
	}
	return &Decoder{limit: maxLen}
}

// Write buffers p, which the Decoder does not retain. It never fails; it
// implements io.Writer so that a Decoder can be the target of io.Copy.
// After [Decoder.Next] has reported an error, Write discards its input.
func (d *Decoder) Write(p []byte) (int, error) {
	if d.err != nil {
		return len(p), nil
	}
	if d.off > 0 && len(p) > cap(d.buf)-len(d.buf) {
		// Reuse the consumed front of the buffer before growing it.
		n := copy(d.buf, d.buf[d.off:])
		d.buf = d.buf[:n]
		d.off = 0
	}
	d.buf = append(d.buf, p...)
	return len(p), nil
}

// Next returns the next complete frame. It returns ok false and a nil error
// when more bytes are needed. The frame's Payload is a new slice owned by
// the caller (nil for an empty payload), so it stays valid across later
// calls. Next fails with a [DecodeError] wrapping [ErrFrameTooLarge] when a
// header declares a payload over the limit, before buffering it; the error
// is sticky, as the stream cannot be resynchronised.
func (d *Decoder) Next() (f Frame, ok bool, err error) {
	if d.err != nil {
		return Frame{}, false, d.err
	}
	avail := d.buf[d.off:]
	if len(avail) < HeaderSize {
		return Frame{}, false, nil
	}
	h := decodeHeader(avail)
	if h.Length > d.limit {
		d.err = frameTooLarge(h, d.limit, d.offset)
		return Frame{}, false, d.err
	}
	size := HeaderSize + int(h.Length)
	if len(avail) < size {
		return Frame{}, false, nil
	}
	f.Header = h
	if h.Length > 0 {
		f.Payload = make([]byte, h.Length)
		copy(f.Payload, avail[HeaderSize:size])
	}
	d.off += size
	d.offset += size
	if d.off == len(d.buf) {
		d.buf = d.buf[:0]
		d.off = 0
	}
	return f, true, nil
}

// Buffered returns the number of bytes written but not yet returned in a
// frame.
func (d *Decoder) Buffered() int { return len(d.buf) - d.off }

// Finish reports whether the input, now complete, ended at a frame boundary.
// It returns nil if no bytes are buffered, the error of an earlier failed
// [Decoder.Next], or else a [DecodeError] wrapping both [ErrTruncated] and
// io.ErrUnexpectedEOF. Call Next until it reports ok false first.
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	have := d.Buffered()
	if have == 0 {
		return nil
	}
	if have < HeaderSize {
		return truncatedStream("frame header", have, HeaderSize, d.offset)
	}
	h := decodeHeader(d.buf[d.off:])
	return truncatedStream(h.Type.String(), have, HeaderSize+int(h.Length), d.offset)
}

// Reader reads frames from an io.Reader, pull style. It does not buffer
// beyond the current frame, so it reads the header and the payload with
// separate calls; wrap a slow source in a bufio.Reader if that matters.
type Reader struct {
	r      io.Reader
	limit  uint32
	offset int // stream offset of the next frame
	header [HeaderSize]byte
	err    error
}

// NewReader returns a Reader of frames from r that rejects frames whose
// payload is longer than maxLen bytes; 0 means [DefaultMaxFrameLength].
func NewReader(r io.Reader, maxLen uint32) *Reader {
	if maxLen == 0 {
		maxLen = DefaultMaxFrameLength
	}
	return &Reader{r: r, limit: maxLen}
}

// Next reads the next frame. Its Payload is a new slice (nil for an empty
// payload). At the end of the stream Next returns io.EOF if the stream
// ended between frames and a [DecodeError] wrapping [ErrTruncated] and
// io.ErrUnexpectedEOF if it ended inside one. A declared payload length over
// the limit fails with a DecodeError wrapping [ErrFrameTooLarge] before any
// of the payload is read; an error of the underlying reader is returned
// wrapped. Errors are sticky. Memory for a payload grows as its bytes
// arrive, so a header alone cannot make Next allocate more than 32 KiB.
func (r *Reader) Next() (Frame, error) {
	if r.err != nil {
		return Frame{}, r.err
	}
	f, err := r.next()
	if err != nil {
		r.err = err
		return Frame{}, err
	}
	r.offset += HeaderSize + len(f.Payload)
	return f, nil
}

func (r *Reader) next() (Frame, error) {
	n, err := io.ReadFull(r.r, r.header[:])
	switch {
	case err == io.EOF:
		return Frame{}, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Frame{}, truncatedStream("frame header", n, HeaderSize, r.offset)
	case err != nil:
		return Frame{}, fmt.Errorf("wire: reading frame header at offset %d: %w", r.offset, err)
	}
	h := decodeHeader(r.header[:])
	if h.Length > r.limit {
		return Frame{}, frameTooLarge(h, r.limit, r.offset)
	}
	payload, err := r.readPayload(int(h.Length))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			return Frame{}, truncatedStream(h.Type.String(), HeaderSize+len(payload), HeaderSize+int(h.Length), r.offset)
		}
		return Frame{}, fmt.Errorf("wire: reading %s payload at offset %d: %w", h.Type, r.offset, err)
	}
	return Frame{Header: h, Payload: payload}, nil
}

// readPayload reads n bytes, growing the buffer as they arrive rather than
// trusting n up front. On error it returns the bytes read so far.
func (r *Reader) readPayload(n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	buf := make([]byte, 0, min(n, readChunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(r.r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
