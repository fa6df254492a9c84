package wire

// This file implements Message for the commands (0x0400–0x7FFF). Every
// command has a name (#12); completable ones a result_completion_id (#11).

// Type returns [TypeInputCommand].
func (*InputCommand) Type() Type { return TypeInputCommand }

// AppendPayload appends the protobuf encoding of m to b. Value is written
// when non-nil, so an empty non-nil Value is a present empty input.
func (m *InputCommand) AppendPayload(b []byte) []byte {
	b = appendHeaders(b, 1, m.Headers)
	b = appendString(b, 12, m.Name)
	if m.Value != nil {
		b = appendValue(b, 14, m.Value)
	}
	return b
}

// DecodePayload replaces m with the message decoded from p. Value aliases p;
// it is nil when the message has no value and non-nil (possibly empty) when
// it has one.
func (m *InputCommand) DecodePayload(p []byte) error {
	*m = InputCommand{}
	r := newReader(p, "InputCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.Headers, err = r.appendHeader(typ, m.Headers)
		case 12:
			m.Name, err = r.string(typ)
		case 14:
			err = r.optionalValue(typ, &m.Value)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeOutputCommand].
func (*OutputCommand) Type() Type { return TypeOutputCommand }

// AppendPayload appends the protobuf encoding of m to b. Only ResultValue
// and ResultFailure are written.
func (m *OutputCommand) AppendPayload(b []byte) []byte {
	b = appendString(b, 12, m.Name)
	return appendResult(b, &m.Result, outputResult)
}

// DecodePayload replaces m with the message decoded from p. A decoded
// Result.Value aliases p and is non-nil.
func (m *OutputCommand) DecodePayload(p []byte) error {
	*m = OutputCommand{}
	r := newReader(p, "OutputCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 12:
			m.Name, err = r.string(typ)
		case 14:
			err = r.resultValue(typ, &m.Result, false)
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

// Type returns [TypeGetLazyStateCommand].
func (*GetLazyStateCommand) Type() Type { return TypeGetLazyStateCommand }

// AppendPayload appends the protobuf encoding of m to b.
func (m *GetLazyStateCommand) AppendPayload(b []byte) []byte {
	b = appendBytes(b, 1, m.Key)
	b = appendUint(b, 11, uint64(m.ResultCompletionID))
	return appendString(b, 12, m.Name)
}

// DecodePayload replaces m with the message decoded from p. Key aliases p.
func (m *GetLazyStateCommand) DecodePayload(p []byte) error {
	*m = GetLazyStateCommand{}
	r := newReader(p, "GetLazyStateCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.Key, err = r.scalarBytes(typ)
		case 11:
			m.ResultCompletionID, err = r.uint32(typ)
		case 12:
			m.Name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeSetStateCommand].
func (*SetStateCommand) Type() Type { return TypeSetStateCommand }

// AppendPayload appends the protobuf encoding of m to b. Value is written
// when non-nil.
func (m *SetStateCommand) AppendPayload(b []byte) []byte {
	b = appendBytes(b, 1, m.Key)
	if m.Value != nil {
		b = appendValue(b, 3, m.Value)
	}
	return appendString(b, 12, m.Name)
}

// DecodePayload replaces m with the message decoded from p. Key and Value
// alias p; Value is nil when absent and non-nil when present.
func (m *SetStateCommand) DecodePayload(p []byte) error {
	*m = SetStateCommand{}
	r := newReader(p, "SetStateCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.Key, err = r.scalarBytes(typ)
		case 3:
			err = r.optionalValue(typ, &m.Value)
		case 12:
			m.Name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeClearStateCommand].
func (*ClearStateCommand) Type() Type { return TypeClearStateCommand }

// AppendPayload appends the protobuf encoding of m to b.
func (m *ClearStateCommand) AppendPayload(b []byte) []byte {
	b = appendBytes(b, 1, m.Key)
	return appendString(b, 12, m.Name)
}

// DecodePayload replaces m with the message decoded from p. Key aliases p.
func (m *ClearStateCommand) DecodePayload(p []byte) error {
	*m = ClearStateCommand{}
	r := newReader(p, "ClearStateCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.Key, err = r.scalarBytes(typ)
		case 12:
			m.Name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeClearAllStateCommand].
func (*ClearAllStateCommand) Type() Type { return TypeClearAllStateCommand }

// AppendPayload appends the protobuf encoding of m to b.
func (m *ClearAllStateCommand) AppendPayload(b []byte) []byte {
	return appendString(b, 12, m.Name)
}

// DecodePayload replaces m with the message decoded from p.
func (m *ClearAllStateCommand) DecodePayload(p []byte) error {
	*m = ClearAllStateCommand{}
	return decodeNameOnly(p, "ClearAllStateCommandMessage", &m.Name)
}

// decodeNameOnly decodes a command whose only field is the name #12.
func decodeNameOnly(p []byte, msg string, name *string) error {
	r := newReader(p, msg)
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		if num == 12 {
			*name, err = r.string(typ)
		} else {
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeGetLazyStateKeysCommand].
func (*GetLazyStateKeysCommand) Type() Type { return TypeGetLazyStateKeysCommand }

// AppendPayload appends the protobuf encoding of m to b.
func (m *GetLazyStateKeysCommand) AppendPayload(b []byte) []byte {
	return appendCompletable(b, m.ResultCompletionID, m.Name)
}

// DecodePayload replaces m with the message decoded from p.
func (m *GetLazyStateKeysCommand) DecodePayload(p []byte) error {
	*m = GetLazyStateKeysCommand{}
	return decodeCompletable(p, "GetLazyStateKeysCommandMessage", &m.ResultCompletionID, &m.Name)
}

// appendCompletable writes result_completion_id #11 and name #12, the only
// fields of the GetLazyStateKeys and Run commands.
func appendCompletable(b []byte, id uint32, name string) []byte {
	b = appendUint(b, 11, uint64(id))
	return appendString(b, 12, name)
}

// decodeCompletable decodes a command whose only fields are
// result_completion_id #11 and name #12.
func decodeCompletable(p []byte, msg string, id *uint32, name *string) error {
	r := newReader(p, msg)
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 11:
			*id, err = r.uint32(typ)
		case 12:
			*name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeGetEagerStateCommand].
func (*GetEagerStateCommand) Type() Type { return TypeGetEagerStateCommand }

// AppendPayload appends the protobuf encoding of m to b. Only ResultVoid
// and ResultValue are written.
func (m *GetEagerStateCommand) AppendPayload(b []byte) []byte {
	b = appendBytes(b, 1, m.Key)
	b = appendString(b, 12, m.Name)
	return appendResult(b, &m.Result, eagerStateResult)
}

// DecodePayload replaces m with the message decoded from p. Key and
// Result.Value alias p; a decoded Result.Value is non-nil.
func (m *GetEagerStateCommand) DecodePayload(p []byte) error {
	*m = GetEagerStateCommand{}
	r := newReader(p, "GetEagerStateCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.Key, err = r.scalarBytes(typ)
		case 12:
			m.Name, err = r.string(typ)
		case 13:
			err = r.resultVoid(typ, &m.Result)
		case 14:
			err = r.resultValue(typ, &m.Result, false)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeGetEagerStateKeysCommand].
func (*GetEagerStateKeysCommand) Type() Type { return TypeGetEagerStateKeysCommand }

// AppendPayload appends the protobuf encoding of m to b. The StateKeys
// message (#14) is always written, even without keys, as the reference core
// does: the runtime echoes commands back verbatim and replay compares them,
// so a command written by this package and one written by another SDK
// encode alike.
func (m *GetEagerStateKeysCommand) AppendPayload(b []byte) []byte {
	b = appendString(b, 12, m.Name)
	return appendStateKeys(b, 14, m.Keys)
}

// DecodePayload replaces m with the message decoded from p. The keys alias
// p; Keys is nil when there are none, whether or not #14 was present.
func (m *GetEagerStateKeysCommand) DecodePayload(p []byte) error {
	*m = GetEagerStateKeysCommand{}
	r := newReader(p, "GetEagerStateKeysCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 12:
			m.Name, err = r.string(typ)
		case 14:
			m.Keys, err = r.stateKeys(typ, m.Keys)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeGetPromiseCommand].
func (*GetPromiseCommand) Type() Type { return TypeGetPromiseCommand }

// AppendPayload appends the protobuf encoding of m to b.
func (m *GetPromiseCommand) AppendPayload(b []byte) []byte {
	return appendPromiseCommand(b, m.Key, m.ResultCompletionID, m.Name)
}

// DecodePayload replaces m with the message decoded from p.
func (m *GetPromiseCommand) DecodePayload(p []byte) error {
	*m = GetPromiseCommand{}
	return decodePromiseCommand(p, "GetPromiseCommandMessage", &m.Key, &m.ResultCompletionID, &m.Name)
}

// Type returns [TypePeekPromiseCommand].
func (*PeekPromiseCommand) Type() Type { return TypePeekPromiseCommand }

// AppendPayload appends the protobuf encoding of m to b.
func (m *PeekPromiseCommand) AppendPayload(b []byte) []byte {
	return appendPromiseCommand(b, m.Key, m.ResultCompletionID, m.Name)
}

// DecodePayload replaces m with the message decoded from p.
func (m *PeekPromiseCommand) DecodePayload(p []byte) error {
	*m = PeekPromiseCommand{}
	return decodePromiseCommand(p, "PeekPromiseCommandMessage", &m.Key, &m.ResultCompletionID, &m.Name)
}

// appendPromiseCommand writes key #1, result_completion_id #11 and name #12,
// the fields of the GetPromise and PeekPromise commands.
func appendPromiseCommand(b []byte, key string, id uint32, name string) []byte {
	b = appendString(b, 1, key)
	b = appendUint(b, 11, uint64(id))
	return appendString(b, 12, name)
}

func decodePromiseCommand(p []byte, msg string, key *string, id *uint32, name *string) error {
	r := newReader(p, msg)
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			*key, err = r.string(typ)
		case 11:
			*id, err = r.uint32(typ)
		case 12:
			*name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeCompletePromiseCommand].
func (*CompletePromiseCommand) Type() Type { return TypeCompletePromiseCommand }

// AppendPayload appends the protobuf encoding of m to b. Only ResultValue
// and ResultFailure are written.
func (m *CompletePromiseCommand) AppendPayload(b []byte) []byte {
	b = appendString(b, 1, m.Key)
	b = appendResult(b, &m.Completion, completePromiseResult)
	b = appendUint(b, 11, uint64(m.ResultCompletionID))
	return appendString(b, 12, m.Name)
}

// DecodePayload replaces m with the message decoded from p. A decoded
// Completion.Value aliases p and is non-nil.
func (m *CompletePromiseCommand) DecodePayload(p []byte) error {
	*m = CompletePromiseCommand{}
	r := newReader(p, "CompletePromiseCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.Key, err = r.string(typ)
		case 2:
			err = r.resultValue(typ, &m.Completion, false)
		case 3:
			err = r.resultFailure(typ, &m.Completion)
		case 11:
			m.ResultCompletionID, err = r.uint32(typ)
		case 12:
			m.Name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeSleepCommand].
func (*SleepCommand) Type() Type { return TypeSleepCommand }

// AppendPayload appends the protobuf encoding of m to b.
func (m *SleepCommand) AppendPayload(b []byte) []byte {
	b = appendUint(b, 1, m.WakeUpTime)
	b = appendUint(b, 11, uint64(m.ResultCompletionID))
	return appendString(b, 12, m.Name)
}

// DecodePayload replaces m with the message decoded from p.
func (m *SleepCommand) DecodePayload(p []byte) error {
	*m = SleepCommand{}
	r := newReader(p, "SleepCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.WakeUpTime, err = r.uint64(typ)
		case 11:
			m.ResultCompletionID, err = r.uint32(typ)
		case 12:
			m.Name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeCallCommand].
func (*CallCommand) Type() Type { return TypeCallCommand }

// AppendPayload appends the protobuf encoding of m to b.
func (m *CallCommand) AppendPayload(b []byte) []byte {
	b = appendString(b, 1, m.ServiceName)
	b = appendString(b, 2, m.HandlerName)
	b = appendBytes(b, 3, m.Parameter)
	b = appendHeaders(b, 4, m.Headers)
	b = appendString(b, 5, m.Key)
	b = appendOptionalString(b, 6, m.IdempotencyKey)
	b = appendOptionalString(b, 7, m.Scope)
	b = appendOptionalString(b, 8, m.LimitKey)
	b = appendUint(b, 10, uint64(m.InvocationIDNotificationIdx))
	b = appendUint(b, 11, uint64(m.ResultCompletionID))
	return appendString(b, 12, m.Name)
}

// DecodePayload replaces m with the message decoded from p. Parameter
// aliases p.
func (m *CallCommand) DecodePayload(p []byte) error {
	*m = CallCommand{}
	r := newReader(p, "CallCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.ServiceName, err = r.string(typ)
		case 2:
			m.HandlerName, err = r.string(typ)
		case 3:
			m.Parameter, err = r.scalarBytes(typ)
		case 4:
			m.Headers, err = r.appendHeader(typ, m.Headers)
		case 5:
			m.Key, err = r.string(typ)
		case 6:
			m.IdempotencyKey, err = r.optionalString(typ)
		case 7:
			m.Scope, err = r.optionalString(typ)
		case 8:
			m.LimitKey, err = r.optionalString(typ)
		case 10:
			m.InvocationIDNotificationIdx, err = r.uint32(typ)
		case 11:
			m.ResultCompletionID, err = r.uint32(typ)
		case 12:
			m.Name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeOneWayCallCommand].
func (*OneWayCallCommand) Type() Type { return TypeOneWayCallCommand }

// AppendPayload appends the protobuf encoding of m to b.
func (m *OneWayCallCommand) AppendPayload(b []byte) []byte {
	b = appendString(b, 1, m.ServiceName)
	b = appendString(b, 2, m.HandlerName)
	b = appendBytes(b, 3, m.Parameter)
	b = appendUint(b, 4, m.InvokeTime)
	b = appendHeaders(b, 5, m.Headers)
	b = appendString(b, 6, m.Key)
	b = appendOptionalString(b, 7, m.IdempotencyKey)
	b = appendOptionalString(b, 8, m.Scope)
	b = appendOptionalString(b, 9, m.LimitKey)
	b = appendUint(b, 10, uint64(m.InvocationIDNotificationIdx))
	return appendString(b, 12, m.Name)
}

// DecodePayload replaces m with the message decoded from p. Parameter
// aliases p.
func (m *OneWayCallCommand) DecodePayload(p []byte) error {
	*m = OneWayCallCommand{}
	r := newReader(p, "OneWayCallCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.ServiceName, err = r.string(typ)
		case 2:
			m.HandlerName, err = r.string(typ)
		case 3:
			m.Parameter, err = r.scalarBytes(typ)
		case 4:
			m.InvokeTime, err = r.uint64(typ)
		case 5:
			m.Headers, err = r.appendHeader(typ, m.Headers)
		case 6:
			m.Key, err = r.string(typ)
		case 7:
			m.IdempotencyKey, err = r.optionalString(typ)
		case 8:
			m.Scope, err = r.optionalString(typ)
		case 9:
			m.LimitKey, err = r.optionalString(typ)
		case 10:
			m.InvocationIDNotificationIdx, err = r.uint32(typ)
		case 12:
			m.Name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeSendSignalCommand].
func (*SendSignalCommand) Type() Type { return TypeSendSignalCommand }

// AppendPayload appends the protobuf encoding of m to b. The signal_id
// oneof is written as the name (#3) when SignalName is non-empty, otherwise
// as Idx (#2), even when Idx is 0. Only ResultVoid, ResultValue and
// ResultFailure are written.
func (m *SendSignalCommand) AppendPayload(b []byte) []byte {
	b = appendString(b, 1, m.TargetInvocationID)
	if m.SignalName != "" {
		b = appendStringAlways(b, 3, m.SignalName)
	} else {
		b = appendUintAlways(b, 2, uint64(m.Idx))
	}
	b = appendResult(b, &m.Result, sendSignalResult)
	return appendString(b, 12, m.EntryName)
}

// DecodePayload replaces m with the message decoded from p. As the oneof
// requires, the last of #2 and #3 wins; an empty name decodes as Idx 0.
func (m *SendSignalCommand) DecodePayload(p []byte) error {
	*m = SendSignalCommand{}
	r := newReader(p, "SendSignalCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.TargetInvocationID, err = r.string(typ)
		case 2:
			m.Idx, err = r.uint32(typ)
			m.SignalName = ""
		case 3:
			m.SignalName, err = r.string(typ)
			m.Idx = 0
		case 4:
			err = r.resultVoid(typ, &m.Result)
		case 5:
			err = r.resultValue(typ, &m.Result, false)
		case 6:
			err = r.resultFailure(typ, &m.Result)
		case 12:
			m.EntryName, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeRunCommand].
func (*RunCommand) Type() Type { return TypeRunCommand }

// AppendPayload appends the protobuf encoding of m to b.
func (m *RunCommand) AppendPayload(b []byte) []byte {
	return appendCompletable(b, m.ResultCompletionID, m.Name)
}

// DecodePayload replaces m with the message decoded from p.
func (m *RunCommand) DecodePayload(p []byte) error {
	*m = RunCommand{}
	return decodeCompletable(p, "RunCommandMessage", &m.ResultCompletionID, &m.Name)
}

// Type returns [TypeAttachInvocationCommand].
func (*AttachInvocationCommand) Type() Type { return TypeAttachInvocationCommand }

// AppendPayload appends the protobuf encoding of m to b. The target oneof
// is written per Target.Kind; TargetNone writes none.
func (m *AttachInvocationCommand) AppendPayload(b []byte) []byte {
	return appendTargetCommand(b, &m.Target, m.ResultCompletionID, m.Name)
}

// DecodePayload replaces m with the message decoded from p.
func (m *AttachInvocationCommand) DecodePayload(p []byte) error {
	*m = AttachInvocationCommand{}
	return decodeTargetCommand(p, "AttachInvocationCommandMessage", &m.Target, &m.ResultCompletionID, &m.Name)
}

// Type returns [TypeGetInvocationOutputCommand].
func (*GetInvocationOutputCommand) Type() Type { return TypeGetInvocationOutputCommand }

// AppendPayload appends the protobuf encoding of m to b. The target oneof
// is written per Target.Kind; TargetNone writes none.
func (m *GetInvocationOutputCommand) AppendPayload(b []byte) []byte {
	return appendTargetCommand(b, &m.Target, m.ResultCompletionID, m.Name)
}

// DecodePayload replaces m with the message decoded from p.
func (m *GetInvocationOutputCommand) DecodePayload(p []byte) error {
	*m = GetInvocationOutputCommand{}
	return decodeTargetCommand(p, "GetInvocationOutputCommandMessage", &m.Target, &m.ResultCompletionID, &m.Name)
}

// appendTargetCommand writes the fields of the AttachInvocation and
// GetInvocationOutput commands, which share one layout.
func appendTargetCommand(b []byte, t *InvocationTarget, id uint32, name string) []byte {
	b = appendTarget(b, t)
	b = appendUint(b, 11, uint64(id))
	return appendString(b, 12, name)
}

func decodeTargetCommand(p []byte, msg string, t *InvocationTarget, id *uint32, name *string) error {
	r := newReader(p, msg)
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		var ok bool
		ok, err = r.target(num, typ, t)
		switch {
		case ok:
		case num == 11:
			*id, err = r.uint32(typ)
		case num == 12:
			*name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// Type returns [TypeCompleteAwakeableCommand].
func (*CompleteAwakeableCommand) Type() Type { return TypeCompleteAwakeableCommand }

// AppendPayload appends the protobuf encoding of m to b. Only ResultValue
// and ResultFailure are written.
func (m *CompleteAwakeableCommand) AppendPayload(b []byte) []byte {
	b = appendString(b, 1, m.AwakeableID)
	b = appendResult(b, &m.Result, awakeableResult)
	return appendString(b, 12, m.Name)
}

// DecodePayload replaces m with the message decoded from p. A decoded
// Result.Value aliases p and is non-nil.
func (m *CompleteAwakeableCommand) DecodePayload(p []byte) error {
	*m = CompleteAwakeableCommand{}
	r := newReader(p, "CompleteAwakeableCommandMessage")
	for {
		num, typ, err := r.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			m.AwakeableID, err = r.string(typ)
		case 2:
			err = r.resultValue(typ, &m.Result, false)
		case 3:
			err = r.resultFailure(typ, &m.Result)
		case 12:
			m.Name, err = r.string(typ)
		default:
			err = r.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}
