package wire

// This file implements Message for the control messages (0x0000–0x03FF).
// Every encoder writes fields in ascending field-number order, as protoc's
// generated code and prost do, so encodings are deterministic.

// Type returns [TypeStart].
func (*StartMessage) Type() Type { return TypeStart }

// AppendPayload appends the protobuf encoding of m to b.
func (m *StartMessage) AppendPayload(b []byte) []byte {
	b = appendBytes(b, 1, m.ID)
	b = appendString(b, 2, m.DebugID)
	b = appendUint(b, 3, uint64(m.KnownEntries))
	for i := range m.StateMap {
		b = appendStateEntry(b, 4, &m.StateMap[i])
	}
	b = appendBool(b, 5, m.PartialState)
	b = appendString(b, 6, m.Key)
	b = appendUint(b, 7, uint64(m.RetryCountSinceLastStoredEntry))
	b = appendUint(b, 8, m.DurationSinceLastStoredEntry)
	b = appendUint(b, 9, m.RandomSeed)
	b = appendOptionalString(b, 10, m.Scope)
	b = appendOptionalString(b, 11, m.LimitKey)
	return appendOptionalString(b, 12, m.IdempotencyKey)
}

// DecodePayload replaces m with the message decoded from p. ID, the keys and
// the values of StateMap alias p; a decoded StateEntry.Value is never nil.
func (m *StartMessage) DecodePayload(p []byte) error {
	*m = StartMessage{}
	r := newReader(p, "StartMessage")
	if n := countFields(p, 4); n > 0 {
		m.StateMap = make([]StateEntry, 0, n)
	}
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.ID, err = r.scalarBytes(typ)
		case 2:
			m.DebugID, err = r.string(typ)
		case 3:
			m.KnownEntries, err = r.uint32(typ)
		case 4:
			var e StateEntry
			e, err = r.stateEntry(typ)
			m.StateMap = append(m.StateMap, e)
		case 5:
			m.PartialState, err = r.bool(typ)
		case 6:
			m.Key, err = r.string(typ)
		case 7:
			m.RetryCountSinceLastStoredEntry, err = r.uint32(typ)
		case 8:
			m.DurationSinceLastStoredEntry, err = r.uint64(typ)
		case 9:
			m.RandomSeed, err = r.uint64(typ)
		case 10:
			m.Scope, err = r.optionalString(typ)
		case 11:
			m.LimitKey, err = r.optionalString(typ)
		case 12:
			m.IdempotencyKey, err = r.optionalString(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// countFields counts the tags of field num in the well-formed prefix of p,
// so that a decoder can size a repeated field's slice once. The count is
// at most the number of tags in p; it stops quietly at malformed input,
// which the decoder then reports.
func countFields(p []byte, num int) int {
	r := reader{buf: p}
	count := 0
	for {
		n, typ, err := r.next()
		if err != nil || n == 0 {
			return count
		}
		if n == num {
			count++
		}
		if typ == wireStartGroup || r.skip(typ) != nil {
			return count
		}
	}
}

// Type returns [TypeSuspension].
func (*SuspensionMessage) Type() Type { return TypeSuspension }

// AppendPayload appends the protobuf encoding of m to b. It writes whichever
// layout m holds: the V5/V6 flat lists (#1–#3, packed) when they are
// non-empty and the V7 tree (#4) when AwaitingOn is non-nil. Choosing the
// layout of the negotiated version is the caller's job.
func (m *SuspensionMessage) AppendPayload(b []byte) []byte {
	b = appendPackedUint32(b, 1, m.WaitingCompletions)
	b = appendPackedUint32(b, 2, m.WaitingSignals)
	for _, s := range m.WaitingNamedSignals {
		b = appendStringAlways(b, 3, s)
	}
	if m.AwaitingOn != nil {
		b = appendFuture(b, 4, m.AwaitingOn)
	}
	return b
}

// DecodePayload replaces m with the message decoded from p. It accepts both
// the V5/V6 and the V7 layout; the V7 proto reserves #1–#3 so that this is
// unambiguous.
func (m *SuspensionMessage) DecodePayload(p []byte) error {
	*m = SuspensionMessage{}
	r := newReader(p, "SuspensionMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.WaitingCompletions, err = r.appendUint32s(typ, m.WaitingCompletions)
		case 2:
			m.WaitingSignals, err = r.appendUint32s(typ, m.WaitingSignals)
		case 3:
			var s string
			s, err = r.string(typ)
			m.WaitingNamedSignals = append(m.WaitingNamedSignals, s)
		case 4:
			err = r.optionalFuture(typ, &m.AwaitingOn)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeError].
func (*ErrorMessage) Type() Type { return TypeError }

// AppendPayload appends the protobuf encoding of m to b.
func (m *ErrorMessage) AppendPayload(b []byte) []byte {
	b = appendUint(b, 1, uint64(m.Code))
	b = appendString(b, 2, m.Message)
	b = appendString(b, 3, m.Stacktrace)
	if m.RelatedCommandIndex != nil {
		b = appendUintAlways(b, 4, uint64(*m.RelatedCommandIndex))
	}
	b = appendOptionalString(b, 5, m.RelatedCommandName)
	if m.RelatedCommandType != nil {
		b = appendUintAlways(b, 6, uint64(*m.RelatedCommandType))
	}
	if m.NextRetryDelay != nil {
		b = appendUintAlways(b, 8, *m.NextRetryDelay)
	}
	return appendUint(b, 9, uint64(int64(m.Behavior)))
}

// DecodePayload replaces m with the message decoded from p.
func (m *ErrorMessage) DecodePayload(p []byte) error {
	*m = ErrorMessage{}
	r := newReader(p, "ErrorMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.Code, err = r.uint32(typ)
		case 2:
			m.Message, err = r.string(typ)
		case 3:
			m.Stacktrace, err = r.string(typ)
		case 4:
			var v uint32
			v, err = r.uint32(typ)
			m.RelatedCommandIndex = &v
		case 5:
			m.RelatedCommandName, err = r.optionalString(typ)
		case 6:
			var v uint32
			v, err = r.uint32(typ)
			m.RelatedCommandType = &v
		case 8:
			var v uint64
			v, err = r.uint64(typ)
			m.NextRetryDelay = &v
		case 9:
			var v int32
			v, err = r.enum(typ)
			m.Behavior = ErrorBehavior(v)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeEnd].
func (*EndMessage) Type() Type { return TypeEnd }

// AppendPayload returns b unchanged: the message has no fields.
func (*EndMessage) AppendPayload(b []byte) []byte { return b }

// DecodePayload checks that p is a well-formed message; all its fields are
// unknown and skipped.
func (*EndMessage) DecodePayload(p []byte) error {
	r := newReader(p, "EndMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		if err := r.skip(typ); err != nil {
			return err
		}
	}
}

// Type returns [TypeCommandAck].
func (*CommandAckMessage) Type() Type { return TypeCommandAck }

// AppendPayload appends the protobuf encoding of m to b.
func (m *CommandAckMessage) AppendPayload(b []byte) []byte {
	return appendUint(b, 1, uint64(m.CommandIndex))
}

// DecodePayload replaces m with the message decoded from p.
func (m *CommandAckMessage) DecodePayload(p []byte) error {
	*m = CommandAckMessage{}
	return decodeUint32Message(p, "CommandAckMessage", &m.CommandIndex)
}

// decodeUint32Message decodes a message whose only field is the uint32 #1.
func decodeUint32Message(p []byte, name string, v *uint32) error {
	r := newReader(p, name)
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		if num == 1 {
			*v, err = r.uint32(typ)
		} else {
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeProposeRunCompletion].
func (*ProposeRunCompletionMessage) Type() Type { return TypeProposeRunCompletion }

// AppendPayload appends the protobuf encoding of m to b. A ResultValue is
// written as raw bytes in #14, not as a Value message; kinds other than
// ResultValue and ResultFailure are not written.
func (m *ProposeRunCompletionMessage) AppendPayload(b []byte) []byte {
	b = appendUint(b, 1, uint64(m.ResultCompletionID))
	return appendResult(b, &m.Result, proposeRunResult)
}

// DecodePayload replaces m with the message decoded from p. A decoded
// Result.Value aliases p and is non-nil.
func (m *ProposeRunCompletionMessage) DecodePayload(p []byte) error {
	*m = ProposeRunCompletionMessage{}
	r := newReader(p, "ProposeRunCompletionMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.ResultCompletionID, err = r.uint32(typ)
		case 14:
			err = r.resultValue(typ, &m.Result, true)
		case 15:
			err = r.resultFailure(typ, &m.Result)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeAwaitingOn].
func (*AwaitingOnMessage) Type() Type { return TypeAwaitingOn }

// AppendPayload appends the protobuf encoding of m to b.
func (m *AwaitingOnMessage) AppendPayload(b []byte) []byte {
	if m.AwaitingOn != nil {
		b = appendFuture(b, 1, m.AwaitingOn)
	}
	return appendBool(b, 2, m.ExecutingSideEffects)
}

// DecodePayload replaces m with the message decoded from p.
func (m *AwaitingOnMessage) DecodePayload(p []byte) error {
	*m = AwaitingOnMessage{}
	r := newReader(p, "AwaitingOnMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			err = r.optionalFuture(typ, &m.AwaitingOn)
		case 2:
			m.ExecutingSideEffects, err = r.bool(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeProposeRunCompletionAck].
func (*ProposeRunCompletionAckMessage) Type() Type { return TypeProposeRunCompletionAck }

// AppendPayload appends the protobuf encoding of m to b.
func (m *ProposeRunCompletionAckMessage) AppendPayload(b []byte) []byte {
	return appendUint(b, 1, uint64(m.CompletionID))
}

// DecodePayload replaces m with the message decoded from p.
func (m *ProposeRunCompletionAckMessage) DecodePayload(p []byte) error {
	*m = ProposeRunCompletionAckMessage{}
	return decodeUint32Message(p, "ProposeRunCompletionAckMessage", &m.CompletionID)
}
