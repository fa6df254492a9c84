package wire

import "math"

// This file holds decoders for the replay engine's hot path: they check a
// payload exactly as the corresponding DecodePayload does, but return only
// what the engine keeps, without building the message. Each has a fast path
// for the layout that encoders write (fields in order, no unknown fields)
// and falls back to the general decoder for anything else, so that both
// accept and reject the same payloads with the same errors.

// ScanNotification checks a notification payload as
// [Notification.DecodePayload] does and fails on the same payloads with the
// same errors, but does not build the result: it returns the id, the kind
// of the result and, for a value result, its content (aliasing p, non-nil,
// as in the decoded Result.Value). For other kinds, decode the payload to
// read the result. t is the notification's message type, used in errors.
//
// It does not allocate for a completion or signal id with a void or value
// result.
func ScanNotification(t Type, p []byte) (id NotificationID, kind ResultKind, value []byte, err error) {
	if id, kind, value, ok := scanNotificationFast(p); ok {
		return id, kind, value, nil
	}
	n := Notification{MessageType: t}
	if err := n.DecodePayload(p); err != nil {
		return NotificationID{}, ResultNone, nil, err
	}
	if n.Result.Kind == ResultValue {
		value = n.Result.Value
	}
	return n.ID, n.Result.Kind, value, nil
}

// scanNotificationFast decodes the layout encoders write: a completion or
// signal id, then a void or value result and nothing else. ok is false for
// any other payload, valid or not.
func scanNotificationFast(p []byte) (id NotificationID, kind ResultKind, value []byte, ok bool) {
	if len(p) < 4 {
		return
	}
	var idKind IDKind
	switch p[0] {
	case 1<<3 | byte(wireVarint):
		idKind = IDCompletion
	case 2<<3 | byte(wireVarint):
		idKind = IDSignal
	default:
		return
	}
	v, n := consumeVarint(p[1:])
	if n < 0 || v > math.MaxUint32 {
		return
	}
	pos := 1 + n
	if len(p)-pos < 2 {
		return
	}
	tag, l := p[pos], int(p[pos+1])
	pos += 2
	if l >= 0x80 || l != len(p)-pos {
		return // a longer result, or more fields after it
	}
	switch tag {
	case 4<<3 | byte(wireBytes): // void: an empty Void message
		if l != 0 {
			return
		}
		kind = ResultVoid
	case 5<<3 | byte(wireBytes): // value: a Value message
		if l == 0 {
			value = noBytes
		} else {
			// Exactly one content field filling the Value message.
			if p[pos] != 1<<3|byte(wireBytes) {
				return
			}
			cl, m := consumeVarint(p[pos+1:])
			if m < 0 || cl != uint64(l-1-m) {
				return
			}
			start := pos + 1 + m
			value = p[start:len(p):len(p)]
		}
		kind = ResultValue
	default:
		return
	}
	return NotificationID{Kind: idKind, Index: uint32(v)}, kind, value, true
}

// ScanRunCommand decodes a RunCommandMessage payload as
// [RunCommand.DecodePayload] does and fails on the same payloads with the
// same errors, but returns the name as bytes aliasing p instead of a new
// string, so that it does not allocate.
func ScanRunCommand(p []byte) (completionID uint32, name []byte, err error) {
	if id, name, ok := scanRunCommandFast(p); ok {
		return id, name, nil
	}
	r := newReader(p, "RunCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil {
			return 0, nil, err
		}
		if num == 0 {
			return completionID, name, nil
		}
		switch num {
		case 11:
			completionID, err = r.uint32(typ)
		case 12:
			name, err = r.bytes(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return 0, nil, err
		}
	}
}

// scanRunCommandFast decodes the layout encoders write: a non-zero
// completion id, then a name or nothing.
func scanRunCommandFast(p []byte) (completionID uint32, name []byte, ok bool) {
	if len(p) < 2 || p[0] != 11<<3|byte(wireVarint) {
		return
	}
	v, n := consumeVarint(p[1:])
	if n < 0 || v > math.MaxUint32 {
		return
	}
	pos := 1 + n
	if pos == len(p) {
		return uint32(v), nil, true
	}
	if p[pos] != 12<<3|byte(wireBytes) {
		return
	}
	l, m := consumeVarint(p[pos+1:])
	if m < 0 || l != uint64(len(p)-pos-1-m) {
		return
	}
	return uint32(v), p[pos+1+m : len(p) : len(p)], true
}
