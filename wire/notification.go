package wire

// Type returns the notification's MessageType.
func (m *Notification) Type() Type { return m.MessageType }

// AppendPayload appends the protobuf encoding of m to b, in the layout of
// the protocol's NotificationTemplate that all notifications share. The id
// and the result are written per their Kind, even when their value is zero
// or empty (they are oneof members); IDNone and ResultNone write nothing,
// which a decoder rejects. Whether the result kind suits MessageType is not
// checked.
func (m *Notification) AppendPayload(b []byte) []byte {
	switch m.ID.Kind {
	case IDCompletion:
		b = appendUintAlways(b, 1, uint64(m.ID.Index))
	case IDSignal:
		b = appendUintAlways(b, 2, uint64(m.ID.Index))
	case IDSignalName:
		b = appendStringAlways(b, 3, m.ID.Name)
	}
	return appendResult(b, &m.Result, notificationResult)
}

// DecodePayload replaces the ID and Result of m with those decoded from p,
// keeping MessageType. A notification without an id or without a result
// is an error wrapping [ErrInvalid]. A decoded Result.Value and the keys of
// Result.StateKeys alias p; Result.Value is non-nil.
func (m *Notification) DecodePayload(p []byte) error {
	*m = Notification{MessageType: m.MessageType}
	r := reader{buf: p, notification: m.MessageType}
	for {
		num, typ, err := r.next()
		if err != nil {
			return err
		}
		if num == 0 {
			break
		}
		switch num {
		case 1:
			var v uint32
			v, err = r.uint32(typ)
			m.ID = CompletionID(v)
		case 2:
			var v uint32
			v, err = r.uint32(typ)
			m.ID = SignalID(v)
		case 3:
			var s string
			s, err = r.string(typ)
			m.ID = NamedSignalID(s)
		case 4:
			err = r.resultVoid(typ, &m.Result)
		case 5:
			err = r.resultValue(typ, &m.Result, false)
		case 6:
			err = r.resultFailure(typ, &m.Result)
		case 16:
			err = r.resultInvocationID(typ, &m.Result)
		case 17:
			err = r.resultStateKeys(typ, &m.Result)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
	switch {
	case m.ID.Kind == IDNone:
		return r.fail(ErrInvalid, "notification has no id")
	case m.Result.Kind == ResultNone:
		return r.fail(ErrInvalid, "notification has no result")
	}
	return nil
}
