// Package frames encodes and decodes the few Restate service protocol
// messages the benchmarks need, with protowire and nothing from either SDK,
// so that the load generator checks the endpoints independently of the code
// under test. Field numbers follow the service protocol (V5–V7).
package frames

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Message type ids.
const (
	TypeStart          uint16 = 0x0000
	TypeSuspension     uint16 = 0x0001
	TypeError          uint16 = 0x0002
	TypeEnd            uint16 = 0x0003
	TypeProposeRun     uint16 = 0x0005
	TypeAwaitingOn     uint16 = 0x0006
	TypeInput          uint16 = 0x0400
	TypeOutput         uint16 = 0x0401
	TypeSetState       uint16 = 0x0403
	TypeGetEagerState  uint16 = 0x0407
	TypeRun            uint16 = 0x0411
	TypeRunCompletion  uint16 = 0x8011
	TypeSignalNotifier uint16 = 0xFBFF
)

// HeaderSize is the size of a frame header.
const HeaderSize = 8

// ContentType is the content type of protocol version v.
func ContentType(v int) string { return fmt.Sprintf("application/vnd.restate.invocation.v%d", v) }

// AppendFrame appends a frame of type t with payload p to b.
func AppendFrame(b []byte, t uint16, p []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t)<<48|uint64(uint32(len(p))))
	return append(b, p...)
}

// StateEntry is one eager state entry of a StartMessage.
type StateEntry struct{ Key, Value string }

// Start holds the StartMessage fields the benchmarks set.
type Start struct {
	ID           []byte
	DebugID      string
	KnownEntries uint32
	State        []StateEntry
	PartialState bool
	Key          string
	RandomSeed   uint64
}

// AppendStart appends a StartMessage frame.
func AppendStart(b []byte, s Start) []byte {
	var p []byte
	p = protowire.AppendTag(p, 1, protowire.BytesType)
	p = protowire.AppendBytes(p, s.ID)
	p = protowire.AppendTag(p, 2, protowire.BytesType)
	p = protowire.AppendString(p, s.DebugID)
	p = protowire.AppendTag(p, 3, protowire.VarintType)
	p = protowire.AppendVarint(p, uint64(s.KnownEntries))
	for _, e := range s.State {
		var m []byte
		m = protowire.AppendTag(m, 1, protowire.BytesType)
		m = protowire.AppendString(m, e.Key)
		m = protowire.AppendTag(m, 2, protowire.BytesType)
		m = protowire.AppendString(m, e.Value)
		p = protowire.AppendTag(p, 4, protowire.BytesType)
		p = protowire.AppendBytes(p, m)
	}
	if s.PartialState {
		p = protowire.AppendTag(p, 5, protowire.VarintType)
		p = protowire.AppendVarint(p, 1)
	}
	if s.Key != "" {
		p = protowire.AppendTag(p, 6, protowire.BytesType)
		p = protowire.AppendString(p, s.Key)
	}
	if s.RandomSeed != 0 {
		p = protowire.AppendTag(p, 9, protowire.VarintType)
		p = protowire.AppendVarint(p, s.RandomSeed)
	}
	return AppendFrame(b, TypeStart, p)
}

func appendValue(p []byte, field protowire.Number, content []byte) []byte {
	var v []byte
	if len(content) > 0 {
		v = protowire.AppendTag(v, 1, protowire.BytesType)
		v = protowire.AppendBytes(v, content)
	}
	p = protowire.AppendTag(p, field, protowire.BytesType)
	return protowire.AppendBytes(p, v)
}

// AppendInput appends an InputCommandMessage frame carrying value.
func AppendInput(b []byte, value []byte) []byte {
	return AppendFrame(b, TypeInput, appendValue(nil, 14, value))
}

// AppendRunCommand appends a RunCommandMessage frame with an empty name.
func AppendRunCommand(b []byte, completionID uint32) []byte {
	p := protowire.AppendTag(nil, 11, protowire.VarintType)
	p = protowire.AppendVarint(p, uint64(completionID))
	return AppendFrame(b, TypeRun, p)
}

// AppendRunCompletion appends a RunCompletionNotificationMessage frame with
// a value.
func AppendRunCompletion(b []byte, completionID uint32, value []byte) []byte {
	p := protowire.AppendTag(nil, 1, protowire.VarintType)
	p = protowire.AppendVarint(p, uint64(completionID))
	return AppendFrame(b, TypeRunCompletion, appendValue(p, 5, value))
}

// AppendSignal appends a SignalNotificationMessage frame for signal id
// (awakeables use ids from 17) with a value.
func AppendSignal(b []byte, id uint32, value []byte) []byte {
	p := protowire.AppendTag(nil, 2, protowire.VarintType)
	p = protowire.AppendVarint(p, uint64(id))
	return AppendFrame(b, TypeSignalNotifier, appendValue(p, 5, value))
}

// Frame is one decoded frame; Payload aliases the decoded buffer.
type Frame struct {
	Type    uint16
	Flags   uint16
	Payload []byte
}

// Split decodes the complete frames at the start of b and returns them with
// the number of bytes they took.
func Split(b []byte, fs []Frame) ([]Frame, int) {
	n := 0
	for len(b)-n >= HeaderSize {
		h := binary.BigEndian.Uint64(b[n:])
		l := int(uint32(h))
		if len(b)-n-HeaderSize < l {
			break
		}
		fs = append(fs, Frame{Type: uint16(h >> 48), Flags: uint16(h >> 32), Payload: b[n+HeaderSize : n+HeaderSize+l]})
		n += HeaderSize + l
	}
	return fs, n
}

// KnownEntries returns the known_entries field of a StartMessage payload.
func KnownEntries(p []byte) (uint32, error) {
	var n uint32
	err := fields(p, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
		if num == 3 && typ == protowire.VarintType {
			n = uint32(v)
		}
		return nil
	})
	return n, err
}

// Result is the outcome carried by an OutputCommandMessage or a
// ProposeRunCompletionMessage.
type Result struct {
	Value   []byte
	Failed  bool
	Code    uint32
	Message string
}

// DecodeOutput decodes an OutputCommandMessage payload.
func DecodeOutput(p []byte) (Result, error) {
	var r Result
	err := fields(p, func(num protowire.Number, typ protowire.Type, _ uint64, b []byte) error {
		switch {
		case num == 14 && typ == protowire.BytesType:
			return fields(b, func(num protowire.Number, typ protowire.Type, _ uint64, c []byte) error {
				if num == 1 && typ == protowire.BytesType {
					r.Value = c
				}
				return nil
			})
		case num == 15 && typ == protowire.BytesType:
			r.Failed = true
			return decodeFailure(b, &r)
		}
		return nil
	})
	return r, err
}

// DecodeProposeRun decodes a ProposeRunCompletionMessage payload.
func DecodeProposeRun(p []byte) (uint32, Result, error) {
	var (
		id uint32
		r  Result
	)
	err := fields(p, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			id = uint32(v)
		case num == 14 && typ == protowire.BytesType:
			r.Value = b
		case num == 15 && typ == protowire.BytesType:
			r.Failed = true
			return decodeFailure(b, &r)
		}
		return nil
	})
	return id, r, err
}

// DecodeError decodes an ErrorMessage payload into its code and message.
func DecodeError(p []byte) (uint32, string, error) {
	var r Result
	err := decodeFailure(p, &r)
	return r.Code, r.Message, err
}

func decodeFailure(b []byte, r *Result) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v uint64, s []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			r.Code = uint32(v)
		case num == 2 && typ == protowire.BytesType:
			r.Message = string(s)
		}
		return nil
	})
}

var errMalformed = errors.New("frames: malformed message")

// fields calls fn for every field of the protobuf message p: varints with v
// set, length-delimited fields with b set; other wire types are skipped.
func fields(p []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error) error {
	for len(p) > 0 {
		num, typ, n := protowire.ConsumeTag(p)
		if n < 0 {
			return errMalformed
		}
		p = p[n:]
		var (
			v uint64
			b []byte
		)
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(p)
		case protowire.BytesType:
			b, n = protowire.ConsumeBytes(p)
		default:
			n = protowire.ConsumeFieldValue(num, typ, p)
		}
		if n < 0 {
			return errMalformed
		}
		p = p[n:]
		if err := fn(num, typ, v, b); err != nil {
			return err
		}
	}
	return nil
}
