package wirecheck

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"pgregory.net/rapid"

	"github.com/qcodr/restate-sdk-go/wire"
)

// messageTypes maps every message type of package wire to the message of
// the upstream proto that describes it. Notifications use their own
// message; NotificationTemplate is checked separately for every type.
var messageTypes = []struct {
	typ   wire.Type
	proto string
}{
	{wire.TypeStart, "StartMessage"},
	{wire.TypeSuspension, "SuspensionMessage"},
	{wire.TypeSuspension, legacyPackage + "SuspensionMessageV6"},
	{wire.TypeError, "ErrorMessage"},
	{wire.TypeEnd, "EndMessage"},
	{wire.TypeCommandAck, "CommandAckMessage"},
	{wire.TypeProposeRunCompletion, "ProposeRunCompletionMessage"},
	{wire.TypeAwaitingOn, "AwaitingOnMessage"},
	{wire.TypeProposeRunCompletionAck, "ProposeRunCompletionAckMessage"},
	{wire.TypeInputCommand, "InputCommandMessage"},
	{wire.TypeOutputCommand, "OutputCommandMessage"},
	{wire.TypeGetLazyStateCommand, "GetLazyStateCommandMessage"},
	{wire.TypeSetStateCommand, "SetStateCommandMessage"},
	{wire.TypeClearStateCommand, "ClearStateCommandMessage"},
	{wire.TypeClearAllStateCommand, "ClearAllStateCommandMessage"},
	{wire.TypeGetLazyStateKeysCommand, "GetLazyStateKeysCommandMessage"},
	{wire.TypeGetEagerStateCommand, "GetEagerStateCommandMessage"},
	{wire.TypeGetEagerStateKeysCommand, "GetEagerStateKeysCommandMessage"},
	{wire.TypeGetPromiseCommand, "GetPromiseCommandMessage"},
	{wire.TypePeekPromiseCommand, "PeekPromiseCommandMessage"},
	{wire.TypeCompletePromiseCommand, "CompletePromiseCommandMessage"},
	{wire.TypeSleepCommand, "SleepCommandMessage"},
	{wire.TypeCallCommand, "CallCommandMessage"},
	{wire.TypeOneWayCallCommand, "OneWayCallCommandMessage"},
	{wire.TypeSendSignalCommand, "SendSignalCommandMessage"},
	{wire.TypeRunCommand, "RunCommandMessage"},
	{wire.TypeAttachInvocationCommand, "AttachInvocationCommandMessage"},
	{wire.TypeGetInvocationOutputCommand, "GetInvocationOutputCommandMessage"},
	{wire.TypeCompleteAwakeableCommand, "CompleteAwakeableCommandMessage"},
	{wire.TypeGetLazyStateCompletion, "GetLazyStateCompletionNotificationMessage"},
	{wire.TypeGetLazyStateKeysCompletion, "GetLazyStateKeysCompletionNotificationMessage"},
	{wire.TypeGetPromiseCompletion, "GetPromiseCompletionNotificationMessage"},
	{wire.TypePeekPromiseCompletion, "PeekPromiseCompletionNotificationMessage"},
	{wire.TypeCompletePromiseCompletion, "CompletePromiseCompletionNotificationMessage"},
	{wire.TypeSleepCompletion, "SleepCompletionNotificationMessage"},
	{wire.TypeCallCompletion, "CallCompletionNotificationMessage"},
	{wire.TypeCallInvocationIDCompletion, "CallInvocationIdCompletionNotificationMessage"},
	{wire.TypeRunCompletion, "RunCompletionNotificationMessage"},
	{wire.TypeAttachInvocationCompletion, "AttachInvocationCompletionNotificationMessage"},
	{wire.TypeGetInvocationOutputCompletion, "GetInvocationOutputCompletionNotificationMessage"},
	{wire.TypeSignalNotification, "SignalNotificationMessage"},
	{wire.TypeSleepCompletion, "NotificationTemplate"},
	{wire.TypeSignalNotification, "NotificationTemplate"},
}

// TestEveryTypeIsChecked fails when a message type of package wire has no
// entry in messageTypes.
func TestEveryTypeIsChecked(t *testing.T) {
	checked := map[wire.Type]bool{}
	for _, mt := range messageTypes {
		checked[mt.typ] = true
	}
	for v := range 1 << 16 {
		typ := wire.Type(v)
		if typ.Known() && !checked[typ] {
			t.Errorf("%v is not cross-checked", typ)
		}
	}
}

// TestCrossCheck generates random messages of every type from the upstream
// descriptors and checks package wire against google.golang.org/protobuf in
// both directions:
//
//  1. proto.Marshal (fields in any order, repeated scalars packed or not,
//     unknown fields around) → wire.Decode gives the same message;
//  2. wire's AppendPayload → proto.Unmarshal gives the same message, and
//     the bytes equal the reference encoding in ascending field order.
func TestCrossCheck(t *testing.T) {
	s := mustSchema(t)
	for _, mt := range messageTypes {
		md := s.message(t, qualify(mt.proto))
		unpacked := md
		if md.ParentFile() == s.protocol {
			unpacked = s.unpacked.Messages().ByName(md.Name())
		}
		// The field numbers package wire knows for this type, in any
		// version: unknown fields drawn for the test must avoid them.
		known := map[protowire.Number]bool{}
		for _, other := range messageTypes {
			if other.typ == mt.typ || mt.typ.IsNotification() && other.proto == "NotificationTemplate" {
				fields := s.message(t, qualify(other.proto)).Fields()
				for i := range fields.Len() {
					known[fields.Get(i).Number()] = true
				}
			}
		}
		t.Run(fmt.Sprintf("%v/%s", mt.typ, md.Name()), func(t *testing.T) {
			t.Parallel()
			rapid.Check(t, func(rt *rapid.T) {
				msg := genMessage(rt, md, 0, "msg")
				fixNotification(rt, mt.typ, msg)
				if mt.typ == wire.TypeGetEagerStateKeysCommand {
					// Package wire always writes StateKeys (#14); see its doc.
					msg.Mutable(md.Fields().ByNumber(14))
				}
				if mt.typ == wire.TypeSendSignalCommand {
					// Package wire always writes the signal_id oneof, and a
					// signal without a non-empty name is the index Idx, even 0.
					idx, name := md.Fields().ByNumber(2), md.Fields().ByNumber(3)
					if !msg.Has(idx) && (!msg.Has(name) || msg.Get(name).String() == "") {
						msg.Set(idx, protoreflect.ValueOfUint32(0))
					}
				}
				checkMessage(rt, mt.typ, msg, unpacked, known)
			})
		})
	}
}

func checkMessage(t *rapid.T, typ wire.Type, msg *dynamicpb.Message, unpacked protoreflect.MessageDescriptor, known map[protowire.Number]bool) {
	md := msg.Descriptor()
	text := prototext.Format(msg)

	// 1. Reference bytes decode with package wire.
	ref, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	inputs := [][]byte{ref}
	// The same message marshalled with unpacked repeated scalars.
	alt := dynamicpb.NewMessage(unpacked)
	if err := proto.Unmarshal(ref, alt); err != nil {
		t.Fatal(err)
	}
	refUnpacked, err := proto.Marshal(alt)
	if err != nil {
		t.Fatal(err)
	}
	inputs = append(inputs, refUnpacked)
	// Unknown fields of every wire type before and after the known ones.
	inputs = append(inputs, append(append(unknownFields(t, md, known, "before"), ref...), unknownFields(t, md, known, "after")...))

	var decoded wire.Message
	for i, in := range inputs {
		got, err := wire.Decode(typ, in)
		if err != nil {
			t.Fatalf("input %d: wire.Decode(%v, %x) of\n%s: %v", i, typ, in, text, err)
		}
		if back := toDynamic(got, md); !proto.Equal(msg, back) {
			t.Fatalf("input %d: wire decoded\n%s\nas %+v, which is\n%s", i, text, got, prototext.Format(back))
		}
		decoded = got
	}

	// 2. Package wire's bytes decode with google.golang.org/protobuf.
	ours := decoded.AppendPayload(nil)
	back := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(ours, back); err != nil {
		t.Fatalf("proto.Unmarshal of wire's encoding %x of\n%s: %v", ours, text, err)
	}
	if !proto.Equal(msg, back) {
		t.Fatalf("wire encoded\n%s\nas %x, which is\n%s", text, ours, prototext.Format(back))
	}
	sorted, err := sortedMarshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, sorted) {
		t.Fatalf("wire encoded\n%s\nas\n%x, reference encoding is\n%x", text, ours, sorted)
	}
}

// genMessage draws a random message of descriptor md. Every field is set or
// not, each oneof holds one of its members or none, repeated fields have up
// to three elements, and Future trees are at most three levels deep.
func genMessage(t *rapid.T, md protoreflect.MessageDescriptor, depth int, label string) *dynamicpb.Message {
	m := dynamicpb.NewMessage(md)
	inOneof := map[protoreflect.FieldNumber]bool{}
	for i := range md.Oneofs().Len() {
		od := md.Oneofs().Get(i)
		if od.IsSynthetic() {
			continue
		}
		fields := od.Fields()
		for j := range fields.Len() {
			inOneof[fields.Get(j).Number()] = true
		}
		k := rapid.IntRange(-1, fields.Len()-1).Draw(t, label+"."+string(od.Name()))
		if k >= 0 {
			fd := fields.Get(k)
			m.Set(fd, genSingular(t, fd, depth, label+"."+string(fd.Name())))
		}
	}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if inOneof[fd.Number()] {
			continue
		}
		flabel := label + "." + string(fd.Name())
		if fd.IsList() {
			maxLen := 3
			if fd.Kind() == protoreflect.MessageKind && depth >= 3 {
				maxLen = 0
			}
			n := rapid.IntRange(0, maxLen).Draw(t, flabel+".len")
			if n == 0 {
				continue
			}
			l := m.Mutable(fd).List()
			for range n {
				l.Append(genElement(t, fd, depth, flabel))
			}
			continue
		}
		if rapid.Bool().Draw(t, flabel+".set") {
			m.Set(fd, genSingular(t, fd, depth, flabel))
		}
	}
	return m
}

func genSingular(t *rapid.T, fd protoreflect.FieldDescriptor, depth int, label string) protoreflect.Value {
	if fd.Kind() == protoreflect.MessageKind {
		return protoreflect.ValueOfMessage(genMessage(t, fd.Message(), depth+1, label))
	}
	return genScalar(t, fd, label)
}

func genElement(t *rapid.T, fd protoreflect.FieldDescriptor, depth int, label string) protoreflect.Value {
	if fd.Kind() == protoreflect.MessageKind {
		return protoreflect.ValueOfMessage(genMessage(t, fd.Message(), depth+1, label))
	}
	return genScalar(t, fd, label)
}

func genScalar(t *rapid.T, fd protoreflect.FieldDescriptor, label string) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(rapid.Bool().Draw(t, label))
	case protoreflect.Uint32Kind:
		return protoreflect.ValueOfUint32(rapid.OneOf(rapid.Uint32Range(0, 300), rapid.Uint32()).Draw(t, label))
	case protoreflect.Uint64Kind:
		return protoreflect.ValueOfUint64(rapid.OneOf(rapid.Uint64Range(0, 300), rapid.Uint64()).Draw(t, label))
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(rapid.StringN(0, 12, -1).Draw(t, label))
	case protoreflect.BytesKind:
		// Sometimes long, so that lengths of nested messages need two bytes.
		return protoreflect.ValueOfBytes(rapid.OneOf(rapid.SliceOfN(rapid.Byte(), 0, 12), rapid.SliceOfN(rapid.Byte(), 100, 300)).Draw(t, label))
	case protoreflect.EnumKind:
		values := fd.Enum().Values()
		return protoreflect.ValueOfEnum(values.Get(rapid.IntRange(0, values.Len()-1).Draw(t, label)).Number())
	}
	panic(fmt.Sprintf("no generator for %v (%v)", fd.FullName(), fd.Kind()))
}

// fixNotification makes a generated notification valid for the protocol:
// with an id and a result, as package wire requires. In the per-type
// messages completion_id and invocation_id have no presence, so they must
// be non-zero to be encoded.
func fixNotification(t *rapid.T, typ wire.Type, m *dynamicpb.Message) {
	if !typ.IsNotification() {
		return
	}
	fields := m.Descriptor().Fields()
	has := func(nums ...protoreflect.FieldNumber) bool {
		for _, n := range nums {
			if fd := fields.ByNumber(n); fd != nil && m.Has(fd) {
				return true
			}
		}
		return false
	}
	if !has(1, 2, 3) {
		for _, n := range []protoreflect.FieldNumber{1, 2, 3} {
			if fd := fields.ByNumber(n); fd != nil {
				if fd.Kind() == protoreflect.StringKind {
					m.Set(fd, protoreflect.ValueOfString("signal"))
				} else {
					m.Set(fd, protoreflect.ValueOfUint32(rapid.Uint32Range(1, 1000).Draw(t, "id")))
				}
				break
			}
		}
	}
	if !has(4, 5, 6, 16, 17) {
		for _, n := range []protoreflect.FieldNumber{4, 5, 6, 16, 17} {
			if fd := fields.ByNumber(n); fd != nil {
				if fd.Kind() == protoreflect.StringKind {
					m.Set(fd, protoreflect.ValueOfString("inv_1"))
				} else {
					m.Mutable(fd)
				}
				break
			}
		}
	}
}

// unknownFields draws a few fields that neither md nor package wire knows, of every wire type
// including groups, encoded with protowire.
func unknownFields(t *rapid.T, md protoreflect.MessageDescriptor, known map[protowire.Number]bool, label string) []byte {
	var b []byte
	n := rapid.IntRange(0, 3).Draw(t, label+".unknown")
	for i := range n {
		var num protowire.Number
		for {
			num = protowire.Number(rapid.IntRange(1, 40).Draw(t, fmt.Sprintf("%s.unknown%d.num", label, i)))
			// Reserved numbers are fields of other versions or of the
			// shared notification layout, which package wire knows.
			if !known[num] && !md.ReservedRanges().Has(num) {
				break
			}
		}
		switch rapid.IntRange(0, 4).Draw(t, fmt.Sprintf("%s.unknown%d.type", label, i)) {
		case 0:
			b = protowire.AppendTag(b, num, protowire.VarintType)
			b = protowire.AppendVarint(b, rapid.Uint64().Draw(t, "varint"))
		case 1:
			b = protowire.AppendTag(b, num, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, rapid.Uint32().Draw(t, "fixed32"))
		case 2:
			b = protowire.AppendTag(b, num, protowire.Fixed64Type)
			b = protowire.AppendFixed64(b, rapid.Uint64().Draw(t, "fixed64"))
		case 3:
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendBytes(b, rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(t, "bytes"))
		case 4:
			b = protowire.AppendTag(b, num, protowire.StartGroupType)
			b = protowire.AppendTag(b, 1, protowire.VarintType)
			b = protowire.AppendVarint(b, 7)
			b = protowire.AppendTag(b, num, protowire.EndGroupType)
		}
	}
	return b
}
