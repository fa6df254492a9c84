package wirecheck

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/qcodr/restate-sdk-go/wire"
)

const (
	protocolPackage = "dev.restate.service.protocol."
	legacyPackage   = "dev.restate.service.legacy."
)

// schema is the compiled upstream protocol: the files as written, and a
// variant of protocol.proto whose repeated scalars are not packed, so that
// proto.Marshal writes them unpacked.
type schema struct {
	protocol, legacy, unpacked protoreflect.FileDescriptor
}

var loadSchema = sync.OnceValues(func() (*schema, error) {
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{"testdata"}}),
	}
	files, err := c.Compile(context.Background(), "protocol.proto", "legacy.proto")
	if err != nil {
		return nil, err
	}
	s := &schema{protocol: files[0], legacy: files[1]}

	fdp := protodesc.ToFileDescriptorProto(s.protocol)
	var unpack func(msgs []*descriptorpb.DescriptorProto)
	unpack = func(msgs []*descriptorpb.DescriptorProto) {
		for _, m := range msgs {
			for _, f := range m.Field {
				if f.GetLabel() == descriptorpb.FieldDescriptorProto_LABEL_REPEATED &&
					f.GetType() != descriptorpb.FieldDescriptorProto_TYPE_MESSAGE &&
					f.GetType() != descriptorpb.FieldDescriptorProto_TYPE_STRING &&
					f.GetType() != descriptorpb.FieldDescriptorProto_TYPE_BYTES {
					f.Options = &descriptorpb.FieldOptions{Packed: proto.Bool(false)}
				}
			}
			unpack(m.NestedType)
		}
	}
	unpack(fdp.MessageType)
	fdp.Name = proto.String("protocol_unpacked.proto")
	s.unpacked, err = protodesc.NewFile(fdp, nil)
	if err != nil {
		return nil, err
	}
	return s, nil
})

func mustSchema(t testing.TB) *schema {
	t.Helper()
	s, err := loadSchema()
	if err != nil {
		t.Fatalf("compiling the upstream protocol: %v", err)
	}
	return s
}

// qualify returns the full name of a message given by its short name in
// protocol.proto or by its full name.
func qualify(name string) string {
	if strings.Contains(name, ".") {
		return name
	}
	return protocolPackage + name
}

// message returns the descriptor of the message with the given full name.
func (s *schema) message(t testing.TB, fullName string) protoreflect.MessageDescriptor {
	t.Helper()
	for _, f := range []protoreflect.FileDescriptor{s.protocol, s.legacy} {
		pkg := string(f.Package()) + "."
		if len(fullName) > len(pkg) && fullName[:len(pkg)] == pkg {
			if md := f.Messages().ByName(protoreflect.Name(fullName[len(pkg):])); md != nil {
				return md
			}
		}
	}
	t.Fatalf("no message %s in the upstream protocol", fullName)
	return nil
}

// sortedMarshal encodes m with google.golang.org/protobuf, field by field in
// ascending field-number order, recursively. proto.Marshal of a dynamicpb
// message writes fields in an unspecified order, while protoc-generated Go
// code, prost and package wire all write them ascending; this gives the
// reference bytes for that order. Scalars, packing and repeated elements are
// encoded by proto.Marshal of a message holding only that field; nested
// messages are framed with protowire.
func sortedMarshal(m protoreflect.Message) ([]byte, error) {
	var fields []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		fields = append(fields, fd)
		return true
	})
	slices.SortFunc(fields, func(a, b protoreflect.FieldDescriptor) int { return int(a.Number() - b.Number()) })
	var b []byte
	for _, fd := range fields {
		v := m.Get(fd)
		switch {
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			for i := range v.List().Len() {
				sub, err := sortedMarshal(v.List().Get(i).Message())
				if err != nil {
					return nil, err
				}
				b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
				b = protowire.AppendBytes(b, sub)
			}
		case fd.Kind() == protoreflect.MessageKind:
			sub, err := sortedMarshal(v.Message())
			if err != nil {
				return nil, err
			}
			b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
			b = protowire.AppendBytes(b, sub)
		default:
			single := dynamicpb.NewMessage(m.Descriptor())
			single.Set(fd, v)
			enc, err := proto.Marshal(single)
			if err != nil {
				return nil, err
			}
			b = append(b, enc...)
		}
	}
	return b, nil
}

// ---------------------------------------------------------------------------
// Converting package wire's structs to dynamic messages, by field number.

func fieldOf(m protoreflect.Message, num protoreflect.FieldNumber) protoreflect.FieldDescriptor {
	fd := m.Descriptor().Fields().ByNumber(num)
	if fd == nil {
		panic(fmt.Sprintf("%s has no field %d", m.Descriptor().FullName(), num))
	}
	return fd
}

func set(m protoreflect.Message, num protoreflect.FieldNumber, v protoreflect.Value) {
	m.Set(fieldOf(m, num), v)
}

func setString(m protoreflect.Message, num protoreflect.FieldNumber, s string) {
	if s != "" {
		set(m, num, protoreflect.ValueOfString(s))
	}
}

func setOptString(m protoreflect.Message, num protoreflect.FieldNumber, s *string) {
	if s != nil {
		set(m, num, protoreflect.ValueOfString(*s))
	}
}

func setBytes(m protoreflect.Message, num protoreflect.FieldNumber, b []byte) {
	if len(b) > 0 {
		set(m, num, protoreflect.ValueOfBytes(b))
	}
}

func setUint32(m protoreflect.Message, num protoreflect.FieldNumber, v uint32) {
	if v != 0 {
		set(m, num, protoreflect.ValueOfUint32(v))
	}
}

func setUint64(m protoreflect.Message, num protoreflect.FieldNumber, v uint64) {
	if v != 0 {
		set(m, num, protoreflect.ValueOfUint64(v))
	}
}

func setEnum(m protoreflect.Message, num protoreflect.FieldNumber, v uint8) {
	if v != 0 {
		set(m, num, protoreflect.ValueOfEnum(protoreflect.EnumNumber(v)))
	}
}

func mutable(m protoreflect.Message, num protoreflect.FieldNumber) protoreflect.Message {
	return m.Mutable(fieldOf(m, num)).Message()
}

func appendMessage(m protoreflect.Message, num protoreflect.FieldNumber) protoreflect.Message {
	l := m.Mutable(fieldOf(m, num)).List()
	e := l.NewElement()
	l.Append(e)
	return e.Message()
}

func setValue(m protoreflect.Message, num protoreflect.FieldNumber, content []byte) {
	setBytes(mutable(m, num), 1, content)
}

func setFailure(m protoreflect.Message, num protoreflect.FieldNumber, f *wire.Failure) {
	fm := mutable(m, num)
	setUint32(fm, 1, f.Code)
	setString(fm, 2, f.Message)
	for _, md := range f.Metadata {
		e := appendMessage(fm, 3)
		setString(e, 1, md.Key)
		setString(e, 2, md.Value)
	}
}

func setHeaders(m protoreflect.Message, num protoreflect.FieldNumber, hs []wire.HeaderEntry) {
	for _, h := range hs {
		e := appendMessage(m, num)
		setString(e, 1, h.Key)
		setString(e, 2, h.Value)
	}
}

func setStateKeys(m protoreflect.Message, num protoreflect.FieldNumber, keys [][]byte) {
	sk := mutable(m, num)
	if len(keys) == 0 {
		return
	}
	l := sk.Mutable(fieldOf(sk, 1)).List()
	for _, k := range keys {
		l.Append(protoreflect.ValueOfBytes(k))
	}
}

func setUint32s(m protoreflect.Message, num protoreflect.FieldNumber, vs []uint32) {
	if len(vs) == 0 {
		return
	}
	l := m.Mutable(fieldOf(m, num)).List()
	for _, v := range vs {
		l.Append(protoreflect.ValueOfUint32(v))
	}
}

func setStrings(m protoreflect.Message, num protoreflect.FieldNumber, ss []string) {
	if len(ss) == 0 {
		return
	}
	l := m.Mutable(fieldOf(m, num)).List()
	for _, s := range ss {
		l.Append(protoreflect.ValueOfString(s))
	}
}

func setFuture(m protoreflect.Message, num protoreflect.FieldNumber, f *wire.Future) {
	fillFuture(mutable(m, num), f)
}

func fillFuture(fm protoreflect.Message, f *wire.Future) {
	setUint32s(fm, 1, f.WaitingCompletions)
	setUint32s(fm, 2, f.WaitingSignals)
	setStrings(fm, 3, f.WaitingNamedSignals)
	for i := range f.NestedFutures {
		fillFuture(appendMessage(fm, 4), &f.NestedFutures[i])
	}
	setEnum(fm, 5, uint8(f.CombinatorType))
}

// resultNums gives the field numbers of a result oneof's variants, 0 for a
// variant the message does not have.
type resultNums struct {
	void, value, failure, invocationID, stateKeys protoreflect.FieldNumber
	raw                                           bool
}

func setResult(m protoreflect.Message, r *wire.Result, n resultNums) {
	switch r.Kind {
	case wire.ResultNone:
	case wire.ResultVoid:
		mutable(m, n.void)
	case wire.ResultValue:
		if n.raw {
			set(m, n.value, protoreflect.ValueOfBytes(r.Value))
		} else {
			mutable(m, n.value)
			setValue(m, n.value, r.Value)
		}
	case wire.ResultFailure:
		setFailure(m, n.failure, &r.Failure)
	case wire.ResultInvocationID:
		set(m, n.invocationID, protoreflect.ValueOfString(r.InvocationID))
	case wire.ResultStateKeys:
		setStateKeys(m, n.stateKeys, r.StateKeys)
	default:
		panic(fmt.Sprintf("result kind %v", r.Kind))
	}
}

func setTarget(m protoreflect.Message, t *wire.InvocationTarget) {
	switch t.Kind {
	case wire.TargetNone:
	case wire.TargetInvocationID:
		set(m, 1, protoreflect.ValueOfString(t.InvocationID))
	case wire.TargetIdempotentRequest:
		tm := mutable(m, 3)
		ir := &t.IdempotentRequest
		setString(tm, 1, ir.ServiceName)
		setOptString(tm, 2, ir.ServiceKey)
		setString(tm, 3, ir.HandlerName)
		setString(tm, 4, ir.IdempotencyKey)
		setOptString(tm, 5, ir.Scope)
	case wire.TargetWorkflow:
		tm := mutable(m, 4)
		setString(tm, 1, t.Workflow.WorkflowName)
		setString(tm, 2, t.Workflow.WorkflowKey)
		setOptString(tm, 3, t.Workflow.Scope)
	}
}

// toDynamic converts a message of package wire into a dynamic message of
// descriptor md, field by field, following the field numbers written in
// wire/types.go. It panics when md lacks a field the struct sets, which is
// how a mismatch between the structs and the proto shows.
func toDynamic(msg wire.Message, md protoreflect.MessageDescriptor) *dynamicpb.Message {
	d := dynamicpb.NewMessage(md)
	switch m := msg.(type) {
	case *wire.StartMessage:
		setBytes(d, 1, m.ID)
		setString(d, 2, m.DebugID)
		setUint32(d, 3, m.KnownEntries)
		for _, e := range m.StateMap {
			em := appendMessage(d, 4)
			setBytes(em, 1, e.Key)
			setBytes(em, 2, e.Value)
		}
		if m.PartialState {
			set(d, 5, protoreflect.ValueOfBool(true))
		}
		setString(d, 6, m.Key)
		setUint32(d, 7, m.RetryCountSinceLastStoredEntry)
		setUint64(d, 8, m.DurationSinceLastStoredEntry)
		setUint64(d, 9, m.RandomSeed)
		setOptString(d, 10, m.Scope)
		setOptString(d, 11, m.LimitKey)
		setOptString(d, 12, m.IdempotencyKey)
	case *wire.SuspensionMessage:
		setUint32s(d, 1, m.WaitingCompletions)
		setUint32s(d, 2, m.WaitingSignals)
		setStrings(d, 3, m.WaitingNamedSignals)
		if m.AwaitingOn != nil {
			setFuture(d, 4, m.AwaitingOn)
		}
	case *wire.ErrorMessage:
		setUint32(d, 1, m.Code)
		setString(d, 2, m.Message)
		setString(d, 3, m.Stacktrace)
		if m.RelatedCommandIndex != nil {
			set(d, 4, protoreflect.ValueOfUint32(*m.RelatedCommandIndex))
		}
		setOptString(d, 5, m.RelatedCommandName)
		if m.RelatedCommandType != nil {
			set(d, 6, protoreflect.ValueOfUint32(*m.RelatedCommandType))
		}
		if m.NextRetryDelay != nil {
			set(d, 8, protoreflect.ValueOfUint64(*m.NextRetryDelay))
		}
		setEnum(d, 9, uint8(m.Behavior))
	case *wire.EndMessage:
	case *wire.CommandAckMessage:
		setUint32(d, 1, m.CommandIndex)
	case *wire.ProposeRunCompletionMessage:
		setUint32(d, 1, m.ResultCompletionID)
		setResult(d, &m.Result, resultNums{value: 14, failure: 15, raw: true})
	case *wire.AwaitingOnMessage:
		if m.AwaitingOn != nil {
			setFuture(d, 1, m.AwaitingOn)
		}
		if m.ExecutingSideEffects {
			set(d, 2, protoreflect.ValueOfBool(true))
		}
	case *wire.ProposeRunCompletionAckMessage:
		setUint32(d, 1, m.CompletionID)

	case *wire.InputCommand:
		setHeaders(d, 1, m.Headers)
		setString(d, 12, m.Name)
		if m.Value != nil {
			mutable(d, 14)
			setValue(d, 14, m.Value)
		}
	case *wire.OutputCommand:
		setString(d, 12, m.Name)
		setResult(d, &m.Result, resultNums{value: 14, failure: 15})
	case *wire.GetLazyStateCommand:
		setBytes(d, 1, m.Key)
		setUint32(d, 11, m.ResultCompletionID)
		setString(d, 12, m.Name)
	case *wire.SetStateCommand:
		setBytes(d, 1, m.Key)
		if m.Value != nil {
			mutable(d, 3)
			setValue(d, 3, m.Value)
		}
		setString(d, 12, m.Name)
	case *wire.ClearStateCommand:
		setBytes(d, 1, m.Key)
		setString(d, 12, m.Name)
	case *wire.ClearAllStateCommand:
		setString(d, 12, m.Name)
	case *wire.GetLazyStateKeysCommand:
		setUint32(d, 11, m.ResultCompletionID)
		setString(d, 12, m.Name)
	case *wire.GetEagerStateCommand:
		setBytes(d, 1, m.Key)
		setString(d, 12, m.Name)
		setResult(d, &m.Result, resultNums{void: 13, value: 14})
	case *wire.GetEagerStateKeysCommand:
		setString(d, 12, m.Name)
		setStateKeys(d, 14, m.Keys)
	case *wire.GetPromiseCommand:
		setString(d, 1, m.Key)
		setUint32(d, 11, m.ResultCompletionID)
		setString(d, 12, m.Name)
	case *wire.PeekPromiseCommand:
		setString(d, 1, m.Key)
		setUint32(d, 11, m.ResultCompletionID)
		setString(d, 12, m.Name)
	case *wire.CompletePromiseCommand:
		setString(d, 1, m.Key)
		setResult(d, &m.Completion, resultNums{value: 2, failure: 3})
		setUint32(d, 11, m.ResultCompletionID)
		setString(d, 12, m.Name)
	case *wire.SleepCommand:
		setUint64(d, 1, m.WakeUpTime)
		setUint32(d, 11, m.ResultCompletionID)
		setString(d, 12, m.Name)
	case *wire.CallCommand:
		setString(d, 1, m.ServiceName)
		setString(d, 2, m.HandlerName)
		setBytes(d, 3, m.Parameter)
		setHeaders(d, 4, m.Headers)
		setString(d, 5, m.Key)
		setOptString(d, 6, m.IdempotencyKey)
		setOptString(d, 7, m.Scope)
		setOptString(d, 8, m.LimitKey)
		setUint32(d, 10, m.InvocationIDNotificationIdx)
		setUint32(d, 11, m.ResultCompletionID)
		setString(d, 12, m.Name)
	case *wire.OneWayCallCommand:
		setString(d, 1, m.ServiceName)
		setString(d, 2, m.HandlerName)
		setBytes(d, 3, m.Parameter)
		setUint64(d, 4, m.InvokeTime)
		setHeaders(d, 5, m.Headers)
		setString(d, 6, m.Key)
		setOptString(d, 7, m.IdempotencyKey)
		setOptString(d, 8, m.Scope)
		setOptString(d, 9, m.LimitKey)
		setUint32(d, 10, m.InvocationIDNotificationIdx)
		setString(d, 12, m.Name)
	case *wire.SendSignalCommand:
		setString(d, 1, m.TargetInvocationID)
		if m.SignalName != "" {
			set(d, 3, protoreflect.ValueOfString(m.SignalName))
		} else {
			set(d, 2, protoreflect.ValueOfUint32(m.Idx))
		}
		setResult(d, &m.Result, resultNums{void: 4, value: 5, failure: 6})
		setString(d, 12, m.EntryName)
	case *wire.RunCommand:
		setUint32(d, 11, m.ResultCompletionID)
		setString(d, 12, m.Name)
	case *wire.AttachInvocationCommand:
		setTarget(d, &m.Target)
		setUint32(d, 11, m.ResultCompletionID)
		setString(d, 12, m.Name)
	case *wire.GetInvocationOutputCommand:
		setTarget(d, &m.Target)
		setUint32(d, 11, m.ResultCompletionID)
		setString(d, 12, m.Name)
	case *wire.CompleteAwakeableCommand:
		setString(d, 1, m.AwakeableID)
		setResult(d, &m.Result, resultNums{value: 2, failure: 3})
		setString(d, 12, m.Name)

	case *wire.Notification:
		switch m.ID.Kind {
		case wire.IDCompletion:
			set(d, 1, protoreflect.ValueOfUint32(m.ID.Index))
		case wire.IDSignal:
			set(d, 2, protoreflect.ValueOfUint32(m.ID.Index))
		case wire.IDSignalName:
			set(d, 3, protoreflect.ValueOfString(m.ID.Name))
		}
		setResult(d, &m.Result, resultNums{void: 4, value: 5, failure: 6, invocationID: 16, stateKeys: 17})
	default:
		panic(fmt.Sprintf("toDynamic: unexpected %T", msg))
	}
	return d
}
