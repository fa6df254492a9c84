package wire

import (
	"encoding/binary"
	"math"
	"strconv"
)

// HeaderSize is the size in bytes of a frame header.
const HeaderSize = 8

// FlagRequestedAck is the REQUESTED_ACK flag, the most significant bit of
// the flags. The SDK sets it only on a V7 ProposeRunCompletionMessage; all
// other flag bits are reserved, written as 0 and ignored on read.
const FlagRequestedAck uint16 = 0x8000

// Header is the 8-byte header in front of every message: one big-endian
// 64-bit word holding the message type (bits 63–48), the flags (47–32) and
// the payload length in bytes (31–0).
type Header struct {
	Type   Type
	Flags  uint16
	Length uint32
}

// Append appends the encoded header to b.
func (h Header) Append(b []byte) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(h.Type)<<48|uint64(h.Flags)<<32|uint64(h.Length))
}

// RequestedAck reports whether the REQUESTED_ACK flag is set.
func (h Header) RequestedAck() bool { return h.Flags&FlagRequestedAck != 0 }

// DecodeHeader decodes the header at the start of b. It fails with a
// [DecodeError] wrapping [ErrTruncated] if b is shorter than [HeaderSize].
// Reserved flag bits are returned as they are.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, &DecodeError{
			Message: "frame header",
			Err:     ErrTruncated,
			detail:  "need " + strconv.Itoa(HeaderSize) + " bytes, have " + strconv.Itoa(len(b)),
		}
	}
	return decodeHeader(b), nil
}

func decodeHeader(b []byte) Header {
	v := binary.BigEndian.Uint64(b)
	return Header{Type: Type(v >> 48), Flags: uint16(v >> 32), Length: uint32(v)}
}

// AppendFrame appends m as a frame, header and payload, to b and returns the
// extended slice. It reserves the header, appends the payload and then
// fills in the length, so it does not allocate when b has the capacity.
// It panics if the payload is 4 GiB or longer, which the 32-bit length
// cannot express; the runtime rejects frames over 32 MiB anyway.
func AppendFrame(b []byte, m Message, flags uint16) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = m.AppendPayload(b)
	n := len(b) - start - HeaderSize
	if uint64(n) > math.MaxUint32 {
		panic("wire: AppendFrame: " + m.Type().String() + " payload of " + strconv.Itoa(n) + " bytes does not fit a frame")
	}
	h := Header{Type: m.Type(), Flags: flags, Length: uint32(n)}
	binary.BigEndian.PutUint64(b[start:], uint64(h.Type)<<48|uint64(h.Flags)<<32|uint64(h.Length))
	return b
}

// Frame is one frame read from a stream: its header and its payload.
type Frame struct {
	Header  Header
	Payload []byte
}

// Decode decodes the frame's payload as the message its header names. See
// [Decode].
func (f Frame) Decode() (Message, error) {
	return Decode(f.Header.Type, f.Payload)
}

// Decode decodes payload as a message of type t. Notifications of every type
// decode into a [*Notification] with MessageType t; other types into their
// own struct, such as [*StartMessage] for [TypeStart]. Byte slices of the
// result alias payload, strings are copies. It fails with an
// [*UnknownTypeError] when t is not a message type of V5–V7, and with a
// [*DecodeError] when payload is not a valid encoding.
func Decode(t Type, payload []byte) (Message, error) {
	m, ok := NewMessage(t)
	if !ok {
		return nil, &UnknownTypeError{Type: t}
	}
	if err := m.DecodePayload(payload); err != nil {
		return nil, err
	}
	return m, nil
}

// NewMessage returns a new zero message of type t, or false when t is not
// a message type of V5–V7. For a notification type it returns a
// [*Notification] with MessageType t.
func NewMessage(t Type) (Message, bool) {
	switch t {
	case TypeStart:
		return new(StartMessage), true
	case TypeSuspension:
		return new(SuspensionMessage), true
	case TypeError:
		return new(ErrorMessage), true
	case TypeEnd:
		return new(EndMessage), true
	case TypeCommandAck:
		return new(CommandAckMessage), true
	case TypeProposeRunCompletion:
		return new(ProposeRunCompletionMessage), true
	case TypeAwaitingOn:
		return new(AwaitingOnMessage), true
	case TypeProposeRunCompletionAck:
		return new(ProposeRunCompletionAckMessage), true
	case TypeInputCommand:
		return new(InputCommand), true
	case TypeOutputCommand:
		return new(OutputCommand), true
	case TypeGetLazyStateCommand:
		return new(GetLazyStateCommand), true
	case TypeSetStateCommand:
		return new(SetStateCommand), true
	case TypeClearStateCommand:
		return new(ClearStateCommand), true
	case TypeClearAllStateCommand:
		return new(ClearAllStateCommand), true
	case TypeGetLazyStateKeysCommand:
		return new(GetLazyStateKeysCommand), true
	case TypeGetEagerStateCommand:
		return new(GetEagerStateCommand), true
	case TypeGetEagerStateKeysCommand:
		return new(GetEagerStateKeysCommand), true
	case TypeGetPromiseCommand:
		return new(GetPromiseCommand), true
	case TypePeekPromiseCommand:
		return new(PeekPromiseCommand), true
	case TypeCompletePromiseCommand:
		return new(CompletePromiseCommand), true
	case TypeSleepCommand:
		return new(SleepCommand), true
	case TypeCallCommand:
		return new(CallCommand), true
	case TypeOneWayCallCommand:
		return new(OneWayCallCommand), true
	case TypeSendSignalCommand:
		return new(SendSignalCommand), true
	case TypeRunCommand:
		return new(RunCommand), true
	case TypeAttachInvocationCommand:
		return new(AttachInvocationCommand), true
	case TypeGetInvocationOutputCommand:
		return new(GetInvocationOutputCommand), true
	case TypeCompleteAwakeableCommand:
		return new(CompleteAwakeableCommand), true
	case TypeGetLazyStateCompletion, TypeGetLazyStateKeysCompletion,
		TypeGetPromiseCompletion, TypePeekPromiseCompletion,
		TypeCompletePromiseCompletion, TypeSleepCompletion,
		TypeCallCompletion, TypeCallInvocationIDCompletion,
		TypeRunCompletion, TypeAttachInvocationCompletion,
		TypeGetInvocationOutputCompletion, TypeSignalNotification:
		return &Notification{MessageType: t}, true
	}
	return nil, false
}
