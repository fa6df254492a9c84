// Package wire encodes and decodes the frames and protobuf messages of the
// Restate service protocol, versions V5 to V7, using only the standard
// library.
//
// A stream, in either direction, is a sequence of frames: an 8-byte [Header]
// (message [Type], flags, payload length) followed by a protobuf payload.
//
// Messages:
//   - [Message] is implemented by a struct for every message type, such as
//     [StartMessage], [InputCommand] and [Notification] (all notification
//     types share it). Its AppendPayload encodes, its DecodePayload decodes.
//   - [Decode] decodes a payload given its type; [NewMessage] allocates the
//     struct for a type. Unknown types fail with [*UnknownTypeError].
//   - [Result], [InvocationTarget] and [NotificationID] model the protocol's
//     oneofs with a Kind field; [Future] is the V7 tree of awaited
//     notifications.
//
// Frames:
//   - [AppendFrame] appends a message as a frame to a buffer.
//   - [Header.Append] and [DecodeHeader] handle the header alone.
//   - [Decoder] splits bytes pushed into it into [Frame] values; [Reader]
//     pulls frames from an io.Reader. Both limit the frame length
//     ([DefaultMaxFrameLength] by default).
//
// Errors: malformed input fails with a [*DecodeError] that names the message,
// the field and the byte offset, and wraps one of [ErrTruncated],
// [ErrVarint], [ErrWireType], [ErrFrameTooLarge] and [ErrInvalid]. Decoding
// never panics on hostile input.
//
// Encoding follows proto3: scalar fields are written only when non-zero,
// optional fields (pointers) when non-nil, oneof members per their Kind even
// when empty, and fields in ascending field-number order, so the encoding of
// a value is deterministic. Encoders append to the caller's slice and do
// not allocate when it has the capacity. Decoders accept fields in any
// order, packed and unpacked repeated scalars, and skip unknown fields.
// Decoded byte slices alias the payload (with their capacity clipped, so
// appending to one copies); decoded strings are copies. Strings are not
// checked for valid UTF-8.
//
// Byte slices and presence: a plain bytes field (such as a state key)
// decodes to nil when empty, as proto3 does not tell empty from absent. A
// byte slice holding a Value message or a oneof member, where presence is
// the information, is nil only when absent: a present empty value decodes
// to a non-nil empty slice, and the encoders write a non-nil empty slice as
// a present empty value.
//
// Messages of all versions share one set of structs; which fields a version
// allows (Failure metadata from V6, the V7 suspension tree, scopes) is for
// the caller to enforce: the encoder writes what it is given.
package wire
