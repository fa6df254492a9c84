package wire

import (
	"errors"
	"strconv"
)

// Sentinel errors wrapped by [DecodeError]. Test for them with errors.Is.
var (
	// ErrTruncated reports input that ends inside a frame, a field or a
	// length-delimited value. A stream that ends inside a frame also wraps
	// io.ErrUnexpectedEOF.
	ErrTruncated = errors.New("truncated input")
	// ErrVarint reports a malformed varint: longer than 10 bytes, overflowing
	// 64 bits, or too large for the 32-bit or 8-bit field it encodes.
	ErrVarint = errors.New("malformed varint")
	// ErrWireType reports a known field encoded with the wrong protobuf wire
	// type, or an invalid wire type.
	ErrWireType = errors.New("wrong wire type")
	// ErrFrameTooLarge reports a frame header whose declared payload length
	// is over the decoder's limit.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrInvalid reports input that is well-formed protobuf but breaks a rule
	// of the protocol, such as a notification without an id or a result.
	ErrInvalid = errors.New("invalid message")
)

// DecodeError describes why a frame or a payload could not be decoded. Its
// Err is one of the sentinels [ErrTruncated], [ErrVarint], [ErrWireType],
// [ErrFrameTooLarge] or [ErrInvalid]; errors.Is sees through it.
type DecodeError struct {
	// Message is the protocol name of the message being decoded, such as
	// "StartMessage", extended by the nested message when the error is inside
	// one ("OutputCommandMessage.Failure"), or "frame header".
	Message string
	// Field is the protobuf field number where decoding failed, 0 if none.
	Field int
	// Offset is the byte offset of the failing field's tag within the
	// payload, or, for errors of a stream, the offset of the frame's header
	// within the stream.
	Offset int
	// Err is the sentinel error classifying the failure.
	Err error

	detail string // what went wrong, in words; Err's text when empty
	cause  error  // a second wrapped error, such as io.ErrUnexpectedEOF
}

// Error formats the error as, for example,
// "wire: StartMessage field 4: length 9000 overruns payload at offset 14".
func (e *DecodeError) Error() string {
	b := make([]byte, 0, 80)
	b = append(b, "wire: "...)
	b = append(b, e.Message...)
	if e.Field != 0 {
		b = append(b, " field "...)
		b = strconv.AppendInt(b, int64(e.Field), 10)
	}
	b = append(b, ": "...)
	switch {
	case e.detail != "":
		b = append(b, e.detail...)
	case e.Err != nil:
		b = append(b, e.Err.Error()...)
	default:
		b = append(b, "decode error"...)
	}
	b = append(b, " at offset "...)
	b = strconv.AppendInt(b, int64(e.Offset), 10)
	return string(b)
}

// Unwrap returns the sentinel error and, for a stream that ended inside a
// frame, io.ErrUnexpectedEOF.
func (e *DecodeError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Err, e.cause}
	}
	return []error{e.Err}
}

// UnknownTypeError is returned by [Decode] and [Frame.Decode] for a message
// type that is not part of protocol V5–V7. It is distinct from [DecodeError]
// so that the caller can apply the protocol's rule: a custom entry (see
// [UnknownTypeError.IsCustom]) may be tolerated, any other unknown type is a
// protocol violation.
type UnknownTypeError struct {
	Type Type
}

// Error formats the error as "wire: unknown message type 0x8001" or, for the
// custom range, "wire: custom message type 0xfc01 is not supported".
func (e *UnknownTypeError) Error() string {
	hex := strconv.FormatUint(uint64(e.Type), 16)
	if e.IsCustom() {
		return "wire: custom message type 0x" + hex + " is not supported"
	}
	return "wire: unknown message type 0x" + hex
}

// IsCustom reports whether the type is in the custom-entry range 0xFC00–0xFFFF.
func (e *UnknownTypeError) IsCustom() bool { return e.Type.IsCustom() }
