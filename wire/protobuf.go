package wire

import (
	"math"
	"math/bits"
	"strconv"
)

// This file holds the hand-written protobuf primitives. Encoders append to a
// slice and return it, decoders go through a reader that tracks offsets for
// error messages. The shapes follow google.golang.org/protobuf's protowire,
// which the package may not import.

// wireType is a protobuf wire type, the low three bits of a field's tag.
type wireType uint8

const (
	wireVarint     wireType = 0
	wireFixed64    wireType = 1
	wireBytes      wireType = 2
	wireStartGroup wireType = 3
	wireEndGroup   wireType = 4
	wireFixed32    wireType = 5
)

const (
	maxVarintLen   = 10
	maxFieldNumber = 1<<29 - 1
	// maxNestingDepth bounds recursion through nested Future trees and
	// skipped groups, so that hostile input cannot exhaust the stack. It is
	// google.golang.org/protobuf's default recursion limit; the runtime's own
	// limit for future trees (max-awaited-future-depth) is 1000.
	maxNestingDepth = 10000
)

// Results of consumeVarint that are not lengths.
const (
	varintTruncated = -1
	varintOverflow  = -2
)

// ---------------------------------------------------------------------------
// Encoding

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// varintLen returns the number of bytes of v's varint encoding.
func varintLen(v uint64) int {
	return (bits.Len64(v|1)*9 + 64) / 64
}

func appendTag(b []byte, num int, t wireType) []byte {
	return appendVarint(b, uint64(num)<<3|uint64(t))
}

// appendUint writes a proto3 implicit-presence integer: nothing when zero.
func appendUint(b []byte, num int, v uint64) []byte {
	if v == 0 {
		return b
	}
	return appendUintAlways(b, num, v)
}

// appendUintAlways writes an integer even when zero, for oneof members and
// optional fields.
func appendUintAlways(b []byte, num int, v uint64) []byte {
	b = appendTag(b, num, wireVarint)
	return appendVarint(b, v)
}

func appendBool(b []byte, num int, v bool) []byte {
	if !v {
		return b
	}
	return append(appendTag(b, num, wireVarint), 1)
}

// appendString writes a proto3 implicit-presence string: nothing when empty.
func appendString(b []byte, num int, s string) []byte {
	if s == "" {
		return b
	}
	return appendStringAlways(b, num, s)
}

// appendStringAlways writes a string even when empty, for oneof members,
// optional fields and elements of repeated fields.
func appendStringAlways(b []byte, num int, s string) []byte {
	b = appendTag(b, num, wireBytes)
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendOptionalString(b []byte, num int, s *string) []byte {
	if s == nil {
		return b
	}
	return appendStringAlways(b, num, *s)
}

// appendBytes writes a proto3 implicit-presence bytes field: nothing when
// empty.
func appendBytes(b []byte, num int, p []byte) []byte {
	if len(p) == 0 {
		return b
	}
	return appendBytesAlways(b, num, p)
}

// appendBytesAlways writes bytes even when empty, for oneof members and
// elements of repeated fields.
func appendBytesAlways(b []byte, num int, p []byte) []byte {
	b = appendTag(b, num, wireBytes)
	b = appendVarint(b, uint64(len(p)))
	return append(b, p...)
}

// appendValue writes the protocol's Value message {bytes content = 1} holding
// content as field num. It is always written: whether it is present is the
// caller's decision.
func appendValue(b []byte, num int, content []byte) []byte {
	b = appendTag(b, num, wireBytes)
	if len(content) == 0 {
		return append(b, 0)
	}
	b = appendVarint(b, uint64(1+varintLen(uint64(len(content)))+len(content)))
	return appendBytesAlways(b, 1, content)
}

// appendEmptyMessage writes field num holding an empty message, such as Void.
func appendEmptyMessage(b []byte, num int) []byte {
	return append(appendTag(b, num, wireBytes), 0)
}

// appendPackedUint32 writes a packed repeated uint32 field: nothing when vs
// is empty.
func appendPackedUint32(b []byte, num int, vs []uint32) []byte {
	if len(vs) == 0 {
		return b
	}
	n := 0
	for _, v := range vs {
		n += varintLen(uint64(v))
	}
	b = appendTag(b, num, wireBytes)
	b = appendVarint(b, uint64(n))
	for _, v := range vs {
		b = appendVarint(b, uint64(v))
	}
	return b
}

// openMessage starts the length-delimited field num holding a nested
// message. It reserves one byte for the length and returns the position of
// that byte, to be passed to closeMessage after the nested message was
// appended. This needs no pass to compute sizes first: most nested messages
// are shorter than 128 bytes, and longer ones cost one copy of their bytes.
func openMessage(b []byte, num int) ([]byte, int) {
	b = appendTag(b, num, wireBytes)
	return append(b, 0), len(b)
}

// closeMessage writes the length of the nested message that starts after
// position pos (see openMessage), shifting it when the length needs more
// than one byte.
func closeMessage(b []byte, pos int) []byte {
	n := len(b) - pos - 1
	if n < 0x80 {
		b[pos] = byte(n)
		return b
	}
	extra := varintLen(uint64(n)) - 1
	for range extra {
		b = append(b, 0)
	}
	copy(b[pos+1+extra:], b[pos+1:len(b)-extra])
	v, i := uint64(n), pos
	for ; v >= 0x80; i++ {
		b[i] = byte(v) | 0x80
		v >>= 7
	}
	b[i] = byte(v)
	return b
}

// ---------------------------------------------------------------------------
// Decoding

// consumeVarint decodes the varint at the start of b. It returns the value
// and its length, or a length of varintTruncated or varintOverflow.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	var v uint64
	for i, c := range b {
		// The tenth byte holds bit 63 only; as it must then end the
		// varint, the loop never reads an eleventh.
		if i == maxVarintLen-1 && c > 1 {
			return 0, varintOverflow
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, varintTruncated
}

// reader walks the fields of one message. Offsets in its errors are relative
// to the top-level payload.
type reader struct {
	buf  []byte
	pos  int    // next unread byte of buf
	base int    // offset of buf[0] within the top-level payload
	msg  string // protocol name of the top-level message; see notification
	// notification is the type of the top-level message when it is a
	// notification, whose name is then looked up only for an error.
	notification Type
	sub          string // name of the nested message being read, "" at top level
	depth        int    // nesting depth of this message

	field    int // number of the field being read
	fieldPos int // offset of its tag within buf
	valuePos int // offset within buf of the last length-delimited value read
}

func newReader(p []byte, msg string) reader {
	return reader{buf: p, msg: msg}
}

// nested returns a reader over the length-delimited value just read by
// r.bytes, which holds the nested message called name.
func (r *reader) nested(p []byte, name string) reader {
	return reader{
		buf:          p,
		base:         r.base + r.valuePos,
		msg:          r.msg,
		notification: r.notification,
		sub:          name,
		depth:        r.depth + 1,
	}
}

// fail returns a DecodeError for the current field.
func (r *reader) fail(sentinel error, detail string) error {
	name := r.msg
	if name == "" {
		name = "NotificationMessage"
		if r.notification.IsNotification() && r.notification.Known() {
			name = r.notification.String()
		}
	}
	if r.sub != "" {
		name += "." + r.sub
	}
	return &DecodeError{
		Message: name,
		Field:   r.field,
		Offset:  r.base + r.fieldPos,
		Err:     sentinel,
		detail:  detail,
	}
}

// next reads the tag of the next field. It returns num 0 at the end of the
// message.
func (r *reader) next() (num int, typ wireType, err error) {
	r.field = 0
	r.fieldPos = r.pos
	if r.pos == len(r.buf) {
		return 0, 0, nil
	}
	tag, n := consumeVarint(r.buf[r.pos:])
	if n < 0 {
		return 0, 0, r.varintError(n, "tag")
	}
	r.pos += n
	typ = wireType(tag & 7)
	if tag>>3 == 0 || tag>>3 > maxFieldNumber {
		return 0, 0, r.fail(ErrInvalid, "invalid field number "+strconv.FormatUint(tag>>3, 10))
	}
	r.field = int(tag >> 3)
	return r.field, typ, nil
}

func (r *reader) varintError(n int, what string) error {
	if n == varintTruncated {
		return r.fail(ErrTruncated, what+" varint overruns payload")
	}
	return r.fail(ErrVarint, what+" varint overflows 64 bits")
}

func (r *reader) wireTypeError(got, want wireType) error {
	return r.fail(ErrWireType, "wire type "+strconv.Itoa(int(got))+", want "+strconv.Itoa(int(want)))
}

func (r *reader) uint64(typ wireType) (uint64, error) {
	if typ != wireVarint {
		return 0, r.wireTypeError(typ, wireVarint)
	}
	v, n := consumeVarint(r.buf[r.pos:])
	if n < 0 {
		return 0, r.varintError(n, "value")
	}
	r.pos += n
	return v, nil
}

// uint32 reads a uint32 field. A value over the uint32 range is an error,
// where google.golang.org/protobuf would silently truncate it: no correct
// encoder writes one, and a truncated completion id would be a wrong one.
func (r *reader) uint32(typ wireType) (uint32, error) {
	v, err := r.uint64(typ)
	if err != nil {
		return 0, err
	}
	if v > math.MaxUint32 {
		return 0, r.fail(ErrVarint, "value "+strconv.FormatUint(v, 10)+" overflows uint32")
	}
	return uint32(v), nil
}

// enum reads an enum field. Protobuf enums are open int32 values: values the
// protocol does not define are kept, and a varint wider than 32 bits is
// truncated to its low 32 bits, as protobuf decoders do for int32.
func (r *reader) enum(typ wireType) (int32, error) {
	v, err := r.uint64(typ)
	if err != nil {
		return 0, err
	}
	return int32(v), nil
}

func (r *reader) bool(typ wireType) (bool, error) {
	v, err := r.uint64(typ)
	return v != 0, err
}

// bytes reads a length-delimited value. The result aliases the payload and
// its capacity is clipped, so that appending to it copies instead of
// overwriting the bytes that follow.
func (r *reader) bytes(typ wireType) ([]byte, error) {
	if typ != wireBytes {
		return nil, r.wireTypeError(typ, wireBytes)
	}
	n, m := consumeVarint(r.buf[r.pos:])
	if m < 0 {
		return nil, r.varintError(m, "length")
	}
	start := r.pos + m
	if n > uint64(len(r.buf)-start) {
		return nil, r.fail(ErrTruncated, "length "+strconv.FormatUint(n, 10)+" overruns payload")
	}
	end := start + int(n)
	r.pos = end
	r.valuePos = start
	return r.buf[start:end:end], nil
}

// scalarBytes reads a proto3 bytes field, which has no presence: an empty
// value is returned as nil, the same as an absent one, so that decoding
// gives one value for both and encoding it again gives the same bytes.
func (r *reader) scalarBytes(typ wireType) ([]byte, error) {
	p, err := r.bytes(typ)
	if len(p) == 0 {
		return nil, err
	}
	return p, err
}

func (r *reader) string(typ wireType) (string, error) {
	p, err := r.bytes(typ)
	return string(p), err
}

func (r *reader) optionalString(typ wireType) (*string, error) {
	s, err := r.string(typ)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// appendUint32s reads one element (wire type varint) or a packed run of
// elements (wire type bytes) of a repeated uint32 field and appends them to
// vs. Protobuf decoders must accept both forms.
func (r *reader) appendUint32s(typ wireType, vs []uint32) ([]uint32, error) {
	if typ == wireVarint {
		v, err := r.uint32(typ)
		return append(vs, v), err
	}
	if typ != wireBytes {
		return vs, r.wireTypeError(typ, wireBytes)
	}
	p, err := r.bytes(typ)
	if err != nil {
		return vs, err
	}
	count := 0
	for _, c := range p {
		if c < 0x80 {
			count++
		}
	}
	if vs == nil && count > 0 {
		vs = make([]uint32, 0, count)
	}
	for len(p) > 0 {
		v, n := consumeVarint(p)
		if n < 0 {
			return vs, r.varintError(n, "packed element")
		}
		if v > math.MaxUint32 {
			return vs, r.fail(ErrVarint, "packed element "+strconv.FormatUint(v, 10)+" overflows uint32")
		}
		vs = append(vs, uint32(v))
		p = p[n:]
	}
	return vs, nil
}

// skip skips the value of an unknown field.
func (r *reader) skip(typ wireType) error {
	switch typ {
	case wireVarint:
		_, err := r.uint64(typ)
		return err
	case wireFixed64:
		return r.skipFixed(8)
	case wireFixed32:
		return r.skipFixed(4)
	case wireBytes:
		_, err := r.bytes(typ)
		return err
	case wireStartGroup:
		return r.skipGroup()
	case wireEndGroup:
		return r.fail(ErrWireType, "end group without start group")
	}
	return r.fail(ErrWireType, "invalid wire type "+strconv.Itoa(int(typ)))
}

func (r *reader) skipFixed(n int) error {
	if len(r.buf)-r.pos < n {
		return r.fail(ErrTruncated, "fixed-size value overruns payload")
	}
	r.pos += n
	return nil
}

// skipGroup skips a group of the deprecated group encoding, up to and
// including the end-group tag with the same field number.
func (r *reader) skipGroup() error {
	num := r.field
	pos := r.fieldPos
	if r.depth >= maxNestingDepth {
		return r.fail(ErrInvalid, "groups nested too deeply")
	}
	r.depth++
	defer func() { r.depth-- }()
	for {
		n, typ, err := r.next()
		if err != nil {
			return err
		}
		if n == 0 {
			r.field, r.fieldPos = num, pos
			return r.fail(ErrTruncated, "group has no end")
		}
		if typ == wireEndGroup {
			if n != num {
				return r.fail(ErrWireType, "end group "+strconv.Itoa(n)+" does not match start group "+strconv.Itoa(num))
			}
			return nil
		}
		if err := r.skip(typ); err != nil {
			return err
		}
	}
}

// skipMessage checks that p is a well-formed message whose fields are all
// unknown, such as Void.
func (r *reader) skipMessage(p []byte, name string) error {
	s := r.nested(p, name)
	for {
		num, typ, err := s.next()
		if err != nil || num == 0 {
			return err
		}
		if err := s.skip(typ); err != nil {
			return err
		}
	}
}
