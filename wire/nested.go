package wire

// This file encodes and decodes the nested messages and oneofs that several
// messages share: Value, Void, Failure, Header, StateKeys, Future, the
// invocation targets and the result oneofs.

// noBytes is the content of a present but empty Value: non-nil, so that it
// differs from an absent one.
var noBytes = []byte{}

// resultFields gives the field numbers of the variants of a message's result
// oneof; 0 marks a variant the message does not have.
type resultFields struct {
	void, value, failure, invocationID, stateKeys int
	rawValue                                      bool // value is raw bytes, not a Value message
}

// The result oneofs of the messages that have one.
var (
	proposeRunResult      = resultFields{value: 14, failure: 15, rawValue: true}
	outputResult          = resultFields{value: 14, failure: 15}
	eagerStateResult      = resultFields{void: 13, value: 14}
	completePromiseResult = resultFields{value: 2, failure: 3}
	sendSignalResult      = resultFields{void: 4, value: 5, failure: 6}
	awakeableResult       = resultFields{value: 2, failure: 3}
	notificationResult    = resultFields{void: 4, value: 5, failure: 6, invocationID: 16, stateKeys: 17}
)

// appendResult writes the variant of res that the message has, and nothing
// for ResultNone or a variant it does not have. Oneof members are written
// even when empty: their presence is the information.
func appendResult(b []byte, res *Result, f resultFields) []byte {
	switch res.Kind {
	case ResultVoid:
		if f.void != 0 {
			b = appendEmptyMessage(b, f.void)
		}
	case ResultValue:
		if f.value != 0 && f.rawValue {
			b = appendBytesAlways(b, f.value, res.Value)
		} else if f.value != 0 {
			b = appendValue(b, f.value, res.Value)
		}
	case ResultFailure:
		if f.failure != 0 {
			b = appendFailure(b, f.failure, &res.Failure)
		}
	case ResultInvocationID:
		if f.invocationID != 0 {
			b = appendStringAlways(b, f.invocationID, res.InvocationID)
		}
	case ResultStateKeys:
		if f.stateKeys != 0 {
			b = appendStateKeys(b, f.stateKeys, res.StateKeys)
		}
	}
	return b
}

// resultVoid reads the void variant of a result oneof.
func (r *reader) resultVoid(typ wireType, res *Result) error {
	p, err := r.bytes(typ)
	if err != nil {
		return err
	}
	if err := r.skipMessage(p, "Void"); err != nil {
		return err
	}
	*res = Result{Kind: ResultVoid}
	return nil
}

// resultValue reads the value variant of a result oneof: a Value message,
// or raw bytes when raw is set. A second occurrence of the variant merges
// into the first, as protobuf merges repeated message fields.
func (r *reader) resultValue(typ wireType, res *Result, raw bool) error {
	var content []byte
	var err error
	if raw {
		content, err = r.bytes(typ)
	} else {
		content, err = r.value(typ)
	}
	if err != nil {
		return err
	}
	if res.Kind != ResultValue {
		*res = Result{Kind: ResultValue, Value: noBytes}
	}
	if content != nil {
		res.Value = content
	}
	return nil
}

// resultFailure reads the failure variant of a result oneof.
func (r *reader) resultFailure(typ wireType, res *Result) error {
	if res.Kind != ResultFailure {
		*res = Result{Kind: ResultFailure}
	}
	return r.failure(typ, &res.Failure)
}

// resultInvocationID reads the invocation_id variant of a notification.
func (r *reader) resultInvocationID(typ wireType, res *Result) error {
	s, err := r.string(typ)
	if err != nil {
		return err
	}
	*res = Result{Kind: ResultInvocationID, InvocationID: s}
	return nil
}

// resultStateKeys reads the state_keys variant of a notification.
func (r *reader) resultStateKeys(typ wireType, res *Result) error {
	if res.Kind != ResultStateKeys {
		*res = Result{Kind: ResultStateKeys}
	}
	var err error
	res.StateKeys, err = r.stateKeys(typ, res.StateKeys)
	return err
}

// value reads a Value message and returns its content: nil when the Value
// has no content field, which the caller turns into a present empty value.
func (r *reader) value(typ wireType) ([]byte, error) {
	p, err := r.bytes(typ)
	if err != nil {
		return nil, err
	}
	s := r.nested(p, "Value")
	var content []byte
	for {
		num, typ, err := s.next()
		if err != nil || num == 0 {
			return content, err
		}
		if num == 1 {
			content, err = s.bytes(typ)
		} else {
			err = s.skip(typ)
		}
		if err != nil {
			return nil, err
		}
	}
}

// optionalValue reads a Value message into a field where nil means absent.
func (r *reader) optionalValue(typ wireType, dst *[]byte) error {
	content, err := r.value(typ)
	if err != nil {
		return err
	}
	if *dst == nil {
		*dst = noBytes
	}
	if content != nil {
		*dst = content
	}
	return nil
}

// ---------------------------------------------------------------------------
// Failure, Header and FailureMetadata

func appendFailure(b []byte, num int, f *Failure) []byte {
	b, pos := openMessage(b, num)
	b = appendUint(b, 1, uint64(f.Code))
	b = appendString(b, 2, f.Message)
	for i := range f.Metadata {
		b = appendKeyValue(b, 3, f.Metadata[i].Key, f.Metadata[i].Value)
	}
	return closeMessage(b, pos)
}

// failure reads a Failure message into f, merging with what f holds.
func (r *reader) failure(typ wireType, f *Failure) error {
	p, err := r.bytes(typ)
	if err != nil {
		return err
	}
	s := r.nested(p, "Failure")
	for {
		num, typ, err := s.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			f.Code, err = s.uint32(typ)
		case 2:
			f.Message, err = s.string(typ)
		case 3:
			var md FailureMetadata
			md.Key, md.Value, err = s.keyValue(typ, "FailureMetadata")
			f.Metadata = append(f.Metadata, md)
		default:
			err = s.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// appendKeyValue writes a message of two strings, key #1 and value #2: the
// protocol's Header and FailureMetadata.
func appendKeyValue(b []byte, num int, key, value string) []byte {
	n := 0
	if key != "" {
		n += 1 + varintLen(uint64(len(key))) + len(key)
	}
	if value != "" {
		n += 1 + varintLen(uint64(len(value))) + len(value)
	}
	b = appendTag(b, num, wireBytes)
	b = appendVarint(b, uint64(n))
	b = appendString(b, 1, key)
	return appendString(b, 2, value)
}

// keyValue reads a message of two strings, key #1 and value #2.
func (r *reader) keyValue(typ wireType, name string) (key, value string, err error) {
	p, err := r.bytes(typ)
	if err != nil {
		return "", "", err
	}
	s := r.nested(p, name)
	for {
		num, typ, err := s.next()
		if err != nil || num == 0 {
			return key, value, err
		}
		switch num {
		case 1:
			key, err = s.string(typ)
		case 2:
			value, err = s.string(typ)
		default:
			err = s.skip(typ)
		}
		if err != nil {
			return "", "", err
		}
	}
}

func appendHeaders(b []byte, num int, hs []HeaderEntry) []byte {
	for i := range hs {
		b = appendKeyValue(b, num, hs[i].Key, hs[i].Value)
	}
	return b
}

func (r *reader) appendHeader(typ wireType, hs []HeaderEntry) ([]HeaderEntry, error) {
	var h HeaderEntry
	var err error
	h.Key, h.Value, err = r.keyValue(typ, "Header")
	return append(hs, h), err
}

// ---------------------------------------------------------------------------
// StateKeys and StateEntry

func appendStateKeys(b []byte, num int, keys [][]byte) []byte {
	b, pos := openMessage(b, num)
	for _, k := range keys {
		b = appendBytesAlways(b, 1, k)
	}
	return closeMessage(b, pos)
}

// stateKeys reads a StateKeys message and appends its keys to keys.
func (r *reader) stateKeys(typ wireType, keys [][]byte) ([][]byte, error) {
	p, err := r.bytes(typ)
	if err != nil {
		return keys, err
	}
	s := r.nested(p, "StateKeys")
	for {
		num, typ, err := s.next()
		if err != nil || num == 0 {
			return keys, err
		}
		if num == 1 {
			var k []byte
			k, err = s.bytes(typ)
			keys = append(keys, k)
		} else {
			err = s.skip(typ)
		}
		if err != nil {
			return keys, err
		}
	}
}

func appendStateEntry(b []byte, num int, e *StateEntry) []byte {
	b, pos := openMessage(b, num)
	b = appendBytes(b, 1, e.Key)
	b = appendBytes(b, 2, e.Value)
	return closeMessage(b, pos)
}

// stateEntry reads a StartMessage.StateEntry. Its Value is never nil: an
// entry without a value field holds a present empty value.
func (r *reader) stateEntry(typ wireType) (StateEntry, error) {
	e := StateEntry{Value: noBytes}
	p, err := r.bytes(typ)
	if err != nil {
		return e, err
	}
	s := r.nested(p, "StateEntry")
	for {
		num, typ, err := s.next()
		if err != nil || num == 0 {
			return e, err
		}
		switch num {
		case 1:
			e.Key, err = s.scalarBytes(typ)
		case 2:
			e.Value, err = s.bytes(typ)
		default:
			err = s.skip(typ)
		}
		if err != nil {
			return e, err
		}
	}
}

// ---------------------------------------------------------------------------
// Future

func appendFuture(b []byte, num int, f *Future) []byte {
	b, pos := openMessage(b, num)
	b = appendPackedUint32(b, 1, f.WaitingCompletions)
	b = appendPackedUint32(b, 2, f.WaitingSignals)
	for _, s := range f.WaitingNamedSignals {
		b = appendStringAlways(b, 3, s)
	}
	for i := range f.NestedFutures {
		b = appendFuture(b, 4, &f.NestedFutures[i])
	}
	b = appendUint(b, 5, uint64(int64(f.CombinatorType)))
	return closeMessage(b, pos)
}

// future reads a Future message into f, merging with what f holds. Trees
// deeper than maxNestingDepth are rejected.
func (r *reader) future(typ wireType, f *Future) error {
	p, err := r.bytes(typ)
	if err != nil {
		return err
	}
	if r.depth >= maxNestingDepth {
		return r.fail(ErrInvalid, "future tree nested too deeply")
	}
	s := r.nested(p, "Future")
	for {
		num, typ, err := s.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			f.WaitingCompletions, err = s.appendUint32s(typ, f.WaitingCompletions)
		case 2:
			f.WaitingSignals, err = s.appendUint32s(typ, f.WaitingSignals)
		case 3:
			var name string
			name, err = s.string(typ)
			f.WaitingNamedSignals = append(f.WaitingNamedSignals, name)
		case 4:
			f.NestedFutures = append(f.NestedFutures, Future{})
			err = s.future(typ, &f.NestedFutures[len(f.NestedFutures)-1])
		case 5:
			var c int32
			c, err = s.enum(typ)
			f.CombinatorType = CombinatorType(c)
		default:
			err = s.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

// optionalFuture reads a Future into a field where nil means absent.
func (r *reader) optionalFuture(typ wireType, dst **Future) error {
	if *dst == nil {
		*dst = new(Future)
	}
	return r.future(typ, *dst)
}

// ---------------------------------------------------------------------------
// Invocation targets

// appendTarget writes the target oneof of AttachInvocation and
// GetInvocationOutput: #1 invocation_id, #3 idempotent_request_target or
// #4 workflow_target.
func appendTarget(b []byte, t *InvocationTarget) []byte {
	switch t.Kind {
	case TargetInvocationID:
		b = appendStringAlways(b, 1, t.InvocationID)
	case TargetIdempotentRequest:
		var pos int
		b, pos = openMessage(b, 3)
		ir := &t.IdempotentRequest
		b = appendString(b, 1, ir.ServiceName)
		b = appendOptionalString(b, 2, ir.ServiceKey)
		b = appendString(b, 3, ir.HandlerName)
		b = appendString(b, 4, ir.IdempotencyKey)
		b = appendOptionalString(b, 5, ir.Scope)
		b = closeMessage(b, pos)
	case TargetWorkflow:
		var pos int
		b, pos = openMessage(b, 4)
		b = appendString(b, 1, t.Workflow.WorkflowName)
		b = appendString(b, 2, t.Workflow.WorkflowKey)
		b = appendOptionalString(b, 3, t.Workflow.Scope)
		b = closeMessage(b, pos)
	}
	return b
}

// target reads field num of the target oneof into t. It reports false for
// a field that is not part of the oneof.
func (r *reader) target(num int, typ wireType, t *InvocationTarget) (bool, error) {
	switch num {
	case 1:
		id, err := r.string(typ)
		*t = InvocationTarget{Kind: TargetInvocationID, InvocationID: id}
		return true, err
	case 3:
		if t.Kind != TargetIdempotentRequest {
			*t = InvocationTarget{Kind: TargetIdempotentRequest}
		}
		return true, r.idempotentRequestTarget(typ, &t.IdempotentRequest)
	case 4:
		if t.Kind != TargetWorkflow {
			*t = InvocationTarget{Kind: TargetWorkflow}
		}
		return true, r.workflowTarget(typ, &t.Workflow)
	}
	return false, nil
}

func (r *reader) idempotentRequestTarget(typ wireType, t *IdempotentRequestTarget) error {
	p, err := r.bytes(typ)
	if err != nil {
		return err
	}
	s := r.nested(p, "IdempotentRequestTarget")
	for {
		num, typ, err := s.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			t.ServiceName, err = s.string(typ)
		case 2:
			t.ServiceKey, err = s.optionalString(typ)
		case 3:
			t.HandlerName, err = s.string(typ)
		case 4:
			t.IdempotencyKey, err = s.string(typ)
		case 5:
			t.Scope, err = s.optionalString(typ)
		default:
			err = s.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}

func (r *reader) workflowTarget(typ wireType, t *WorkflowTarget) error {
	p, err := r.bytes(typ)
	if err != nil {
		return err
	}
	s := r.nested(p, "WorkflowTarget")
	for {
		num, typ, err := s.next()
		if err != nil || num == 0 {
			return err
		}
		switch num {
		case 1:
			t.WorkflowName, err = s.string(typ)
		case 2:
			t.WorkflowKey, err = s.string(typ)
		case 3:
			t.Scope, err = s.optionalString(typ)
		default:
			err = s.skip(typ)
		}
		if err != nil {
			return err
		}
	}
}
