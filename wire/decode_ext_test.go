package wire_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcodr/restate-sdk-go/wire"
)

// hexBytes decodes hex that may contain spaces.
func hexBytes(s string) []byte { return mustHex(strings.ReplaceAll(s, " ", "")) }

// TestDecodeAccepts covers valid encodings that this package never writes
// but other encoders may: unpacked repeated scalars, unknown fields, any
// field order, repeated occurrences of a field, overlong varints.
func TestDecodeAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		typ     wire.Type
		payload string
		want    wire.Message
	}{
		{"empty Start", wire.TypeStart, "", &wire.StartMessage{}},
		{"empty End", wire.TypeEnd, "", &wire.EndMessage{}},
		{"End with unknown fields", wire.TypeEnd, "08 01 12 00", &wire.EndMessage{}},
		{
			"unpacked repeated uint32", wire.TypeSuspension, "08 01 08 02 10 05",
			&wire.SuspensionMessage{WaitingCompletions: []uint32{1, 2}, WaitingSignals: []uint32{5}},
		},
		{
			"packed and unpacked mixed", wire.TypeSuspension, "0a 02 01 02 08 03 0a 00",
			&wire.SuspensionMessage{WaitingCompletions: []uint32{1, 2, 3}},
		},
		{
			"unpacked in a Future", wire.TypeAwaitingOn, "0a 04 08 07 10 09",
			&wire.AwaitingOnMessage{AwaitingOn: &wire.Future{WaitingCompletions: []uint32{7}, WaitingSignals: []uint32{9}}},
		},
		{
			"unknown fields of every wire type", wire.TypeStart,
			"a0 01 05  18 01  a5 01 01 02 03 04  a1 01 01 02 03 04 05 06 07 08  a2 01 02 aa bb  a3 01 08 01 ab 01 ac 01 a4 01  28 01",
			&wire.StartMessage{KnownEntries: 1, PartialState: true},
		},
		{
			"fields in descending order", wire.TypeCallCommand, "62 01 6e 12 01 68 0a 01 53",
			&wire.CallCommand{ServiceName: "S", HandlerName: "h", Name: "n"},
		},
		{"overlong varint", wire.TypeStart, "18 81 80 80 80 00", &wire.StartMessage{KnownEntries: 1}},
		{"bool encoded as 2", wire.TypeStart, "28 02", &wire.StartMessage{PartialState: true}},
		{
			"ten-byte varint", wire.TypeStart, "48 ff ff ff ff ff ff ff ff ff 01",
			&wire.StartMessage{RandomSeed: math.MaxUint64},
		},
		{"largest uint32", wire.TypeStart, "18 ff ff ff ff 0f", &wire.StartMessage{KnownEntries: math.MaxUint32}},
		{"last scalar wins", wire.TypeStart, "18 01 18 02", &wire.StartMessage{KnownEntries: 2}},
		{
			"state entry without value holds an empty value", wire.TypeStart, "22 03 0a 01 6b",
			&wire.StartMessage{StateMap: []wire.StateEntry{{Key: []byte("k"), Value: []byte{}}}},
		},
		{
			"present empty key decodes as nil", wire.TypeGetLazyStateCommand, "0a 00 58 01",
			&wire.GetLazyStateCommand{ResultCompletionID: 1},
		},
		{"present empty Value", wire.TypeInputCommand, "72 00", &wire.InputCommand{Value: []byte{}}},
		{"Value without content", wire.TypeInputCommand, "72 02 10 01", &wire.InputCommand{Value: []byte{}}},
		{"Value merged with an empty one", wire.TypeInputCommand, "72 03 0a 01 61 72 00", &wire.InputCommand{Value: []byte("a")}},
		{"Value merged with another", wire.TypeSetStateCommand, "1a 03 0a 01 61 1a 03 0a 01 62", &wire.SetStateCommand{Value: []byte("b")}},
		{
			"last oneof member wins", wire.TypeOutputCommand, "72 03 0a 01 61 7a 02 08 01",
			&wire.OutputCommand{Result: wire.FailureResult(1, "")},
		},
		{
			"oneof member after a failure", wire.TypeOutputCommand, "7a 02 08 01 72 03 0a 01 61",
			&wire.OutputCommand{Result: wire.ValueResult([]byte("a"))},
		},
		{
			"repeated failure merges", wire.TypeOutputCommand, "7a 02 08 01 7a 07 12 01 78 1a 02 0a 00",
			&wire.OutputCommand{Result: wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{
				Code: 1, Message: "x", Metadata: []wire.FailureMetadata{{}},
			}}},
		},
		{
			"repeated value merges", wire.TypeGetEagerStateCommand, "72 03 0a 01 61 72 00",
			&wire.GetEagerStateCommand{Result: wire.ValueResult([]byte("a"))},
		},
		{
			"void replaces value", wire.TypeGetEagerStateCommand, "72 03 0a 01 61 6a 00",
			&wire.GetEagerStateCommand{Result: wire.VoidResult()},
		},
		{
			"raw run value", wire.TypeProposeRunCompletion, "08 01 72 00",
			&wire.ProposeRunCompletionMessage{ResultCompletionID: 1, Result: wire.ValueResult([]byte{})},
		},
		{
			"raw run values merge by replacing", wire.TypeProposeRunCompletion, "72 01 61 72 01 62",
			&wire.ProposeRunCompletionMessage{Result: wire.ValueResult([]byte("b"))},
		},
		{
			"signal name after idx", wire.TypeSendSignalCommand, "10 05 1a 01 78",
			&wire.SendSignalCommand{SignalName: "x"},
		},
		{
			"signal idx after name", wire.TypeSendSignalCommand, "1a 01 78 10 05",
			&wire.SendSignalCommand{Idx: 5},
		},
		{
			"empty signal name is idx 0", wire.TypeSendSignalCommand, "1a 00 22 00",
			&wire.SendSignalCommand{Result: wire.VoidResult()},
		},
		{
			"target: workflow after id", wire.TypeAttachInvocationCommand, "0a 01 69 22 02 0a 00",
			&wire.AttachInvocationCommand{Target: wire.InvocationTarget{Kind: wire.TargetWorkflow}},
		},
		{
			"target: repeated workflow merges", wire.TypeAttachInvocationCommand, "22 03 0a 01 57 22 03 12 01 6b",
			&wire.AttachInvocationCommand{Target: wire.InvocationTarget{Kind: wire.TargetWorkflow, Workflow: wire.WorkflowTarget{
				WorkflowName: "W", WorkflowKey: "k",
			}}},
		},
		{
			"target: repeated idempotent request merges", wire.TypeGetInvocationOutputCommand, "1a 03 0a 01 53 1a 02 12 00 1a 02 30 01",
			&wire.GetInvocationOutputCommand{Target: wire.InvocationTarget{Kind: wire.TargetIdempotentRequest, IdempotentRequest: wire.IdempotentRequestTarget{
				ServiceName: "S", ServiceKey: strp(""),
			}}},
		},
		{
			"target: id after workflow", wire.TypeGetInvocationOutputCommand, "22 02 0a 00 0a 01 69",
			&wire.GetInvocationOutputCommand{Target: wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "i"}},
		},
		{
			"notification: last id wins", wire.TypeSignalNotification, "1a 01 78 10 11 22 00",
			&wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(17), Result: wire.VoidResult()},
		},
		{
			"notification: completion id 0 in the oneof", wire.TypeRunCompletion, "08 00 2a 00",
			&wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(0), Result: wire.ValueResult([]byte{})},
		},
		{
			"notification: state keys merge", wire.TypeGetLazyStateKeysCompletion, "08 01 8a 01 03 0a 01 61 8a 01 02 0a 00",
			&wire.Notification{MessageType: wire.TypeGetLazyStateKeysCompletion, ID: wire.CompletionID(1),
				Result: wire.Result{Kind: wire.ResultStateKeys, StateKeys: [][]byte{[]byte("a"), {}}}},
		},
		{
			"notification: invocation id replaces state keys", wire.TypeCallInvocationIDCompletion, "08 01 8a 01 00 82 01 01 69",
			&wire.Notification{MessageType: wire.TypeCallInvocationIDCompletion, ID: wire.CompletionID(1),
				Result: wire.Result{Kind: wire.ResultInvocationID, InvocationID: "i"}},
		},
		{
			"eager state keys without #14", wire.TypeGetEagerStateKeysCommand, "62 01 6e",
			&wire.GetEagerStateKeysCommand{Name: "n"},
		},
		{
			"future trees merge", wire.TypeSuspension, "22 02 08 01 22 02 28 02",
			&wire.SuspensionMessage{AwaitingOn: &wire.Future{WaitingCompletions: []uint32{1}, CombinatorType: wire.CombinatorAllCompleted}},
		},
		{
			"unknown combinator is kept", wire.TypeSuspension, "22 03 28 ff 01",
			&wire.SuspensionMessage{AwaitingOn: &wire.Future{CombinatorType: 255}},
		},
		{
			"unknown fields in nested messages", wire.TypeCallCommand, "22 05 0a 01 61 18 05",
			&wire.CallCommand{Headers: []wire.HeaderEntry{{Key: "a"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := wire.Decode(tc.typ, hexBytes(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

// nestFutures returns a SuspensionMessage payload whose Future tree is
// depth levels deep.
func nestFutures(depth int) []byte {
	// sizes[i] is the size of the i innermost levels.
	sizes := make([]int, depth+1)
	for i := 1; i <= depth; i++ {
		sizes[i] = 1 + len(appendUvarint(nil, uint64(sizes[i-1]))) + sizes[i-1]
	}
	p := make([]byte, 0, sizes[depth])
	for i := depth; i > 0; i-- {
		p = append(p, 0x22)
		p = appendUvarint(p, uint64(sizes[i-1]))
	}
	return p
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// TestDecodeFutureTreeDepth checks the depth limit: 10000 levels decode,
// 10001 fail where the 10001st level starts.
func TestDecodeFutureTreeDepth(t *testing.T) {
	t.Parallel()
	if _, err := wire.Decode(wire.TypeSuspension, nestFutures(10000)); err != nil {
		t.Fatal(err)
	}
	p := nestFutures(10001)
	offset := 0
	for range 10000 {
		_, n := binaryUvarint(p[offset+1:])
		offset += 1 + n
	}
	_, err := wire.Decode(wire.TypeSuspension, p)
	want := &wire.DecodeError{Message: "SuspensionMessage.Future", Field: 4, Offset: offset, Err: wire.ErrInvalid}
	var got *wire.DecodeError
	if !errors.As(err, &got) {
		t.Fatalf("error = %v, want a *DecodeError", err)
	}
	if diff := cmp.Diff(fieldsOf(want), fieldsOf(got), equateSentinels); diff != "" {
		t.Errorf("error %q (-want +got):\n%s", err, diff)
	}
}

func binaryUvarint(b []byte) (uint64, int) {
	var v uint64
	for i, c := range b {
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

func TestDecodeDeepFutureTree(t *testing.T) {
	t.Parallel()
	m, err := wire.Decode(wire.TypeSuspension, nestFutures(1000))
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for f := m.(*wire.SuspensionMessage).AwaitingOn; f != nil; depth++ {
		if len(f.NestedFutures) == 0 {
			f = nil
		} else {
			f = &f.NestedFutures[0]
		}
	}
	if depth != 1000 {
		t.Errorf("depth = %d, want 1000", depth)
	}
}

// decodeErrorFields holds the exported fields of a DecodeError, to compare
// them without its unexported detail.
type decodeErrorFields struct {
	Message string
	Field   int
	Offset  int
	Err     error
}

func fieldsOf(e *wire.DecodeError) decodeErrorFields {
	return decodeErrorFields{Message: e.Message, Field: e.Field, Offset: e.Offset, Err: e.Err}
}

// equateSentinels compares errors by identity, as sentinels are compared.
var equateSentinels = cmp.Comparer(func(a, b error) bool { return a == b })

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tooDeepGroups := bytes.Repeat([]byte{0xa3, 0x01}, 20000)
	tests := []struct {
		name    string
		typ     wire.Type
		payload []byte
		want    *wire.DecodeError // detail is not compared; see TestDecodeErrorText
	}{
		{"truncated tag", wire.TypeStart, hexBytes("80"),
			&wire.DecodeError{Message: "StartMessage", Err: wire.ErrTruncated}},
		{"truncated varint value", wire.TypeStart, hexBytes("28 01 18 80"),
			&wire.DecodeError{Message: "StartMessage", Field: 3, Offset: 2, Err: wire.ErrTruncated}},
		{"varint longer than 10 bytes", wire.TypeStart, hexBytes("18 80 80 80 80 80 80 80 80 80 80 01"),
			&wire.DecodeError{Message: "StartMessage", Field: 3, Err: wire.ErrVarint}},
		{"varint overflowing 64 bits", wire.TypeStart, hexBytes("48 ff ff ff ff ff ff ff ff ff 02"),
			&wire.DecodeError{Message: "StartMessage", Field: 9, Err: wire.ErrVarint}},
		{"tag varint overflowing", wire.TypeStart, hexBytes("ff ff ff ff ff ff ff ff ff 7f"),
			&wire.DecodeError{Message: "StartMessage", Err: wire.ErrVarint}},
		{"uint32 field over range", wire.TypeStart, hexBytes("18 80 80 80 80 10"),
			&wire.DecodeError{Message: "StartMessage", Field: 3, Err: wire.ErrVarint}},
		{"wrong wire type for a varint field", wire.TypeStart, hexBytes("1a 00"),
			&wire.DecodeError{Message: "StartMessage", Field: 3, Err: wire.ErrWireType}},
		{"wrong wire type for a bytes field", wire.TypeStart, hexBytes("18 01 10 01"),
			&wire.DecodeError{Message: "StartMessage", Field: 2, Offset: 2, Err: wire.ErrWireType}},
		{"wrong wire type for a repeated scalar", wire.TypeSuspension, hexBytes("0d 01 00 00 00"),
			&wire.DecodeError{Message: "SuspensionMessage", Field: 1, Err: wire.ErrWireType}},
		{"length overruns payload", wire.TypeStart, hexBytes("12 05 61"),
			&wire.DecodeError{Message: "StartMessage", Field: 2, Err: wire.ErrTruncated}},
		{"huge length", wire.TypeStart, hexBytes("12 ff ff ff ff ff ff ff ff 7f"),
			&wire.DecodeError{Message: "StartMessage", Field: 2, Err: wire.ErrTruncated}},
		{"truncated length", wire.TypeStart, hexBytes("12"),
			&wire.DecodeError{Message: "StartMessage", Field: 2, Err: wire.ErrTruncated}},
		{"field number 0", wire.TypeStart, hexBytes("00 01"),
			&wire.DecodeError{Message: "StartMessage", Err: wire.ErrInvalid}},
		{"field number too large", wire.TypeStart, hexBytes("80 80 80 80 20 01"),
			&wire.DecodeError{Message: "StartMessage", Err: wire.ErrInvalid}},
		{"wire type 6", wire.TypeStart, hexBytes("a6 01"),
			&wire.DecodeError{Message: "StartMessage", Field: 20, Err: wire.ErrWireType}},
		{"wire type 7", wire.TypeEnd, hexBytes("a7 01"),
			&wire.DecodeError{Message: "EndMessage", Field: 20, Err: wire.ErrWireType}},
		{"end group without start", wire.TypeStart, hexBytes("a4 01"),
			&wire.DecodeError{Message: "StartMessage", Field: 20, Err: wire.ErrWireType}},
		{"group without end", wire.TypeStart, hexBytes("18 01 a3 01 08 01"),
			&wire.DecodeError{Message: "StartMessage", Field: 20, Offset: 2, Err: wire.ErrTruncated}},
		{"group ended by another number", wire.TypeStart, hexBytes("a3 01 ac 01"),
			&wire.DecodeError{Message: "StartMessage", Field: 21, Offset: 2, Err: wire.ErrWireType}},
		{"malformed field in a group", wire.TypeStart, hexBytes("a3 01 12 05"),
			&wire.DecodeError{Message: "StartMessage", Field: 2, Offset: 2, Err: wire.ErrTruncated}},
		{"groups nested too deeply", wire.TypeStart, tooDeepGroups,
			&wire.DecodeError{Message: "StartMessage", Field: 20, Offset: 20000, Err: wire.ErrInvalid}},
		{"truncated fixed32", wire.TypeStart, hexBytes("a5 01 00"),
			&wire.DecodeError{Message: "StartMessage", Field: 20, Err: wire.ErrTruncated}},
		{"truncated fixed64", wire.TypeStart, hexBytes("a1 01 00 00 00 00 00 00 00"),
			&wire.DecodeError{Message: "StartMessage", Field: 20, Err: wire.ErrTruncated}},
		{"error inside a nested message", wire.TypeOutputCommand, hexBytes("62 00 7a 04 12 05 61 62"),
			&wire.DecodeError{Message: "OutputCommandMessage.Failure", Field: 2, Offset: 4, Err: wire.ErrTruncated}},
		{"error two levels down", wire.TypeOutputCommand, hexBytes("7a 04 1a 02 08 01"),
			&wire.DecodeError{Message: "OutputCommandMessage.FailureMetadata", Field: 1, Offset: 4, Err: wire.ErrWireType}},
		{"error in a state entry", wire.TypeStart, hexBytes("22 02 10 01"),
			&wire.DecodeError{Message: "StartMessage.StateEntry", Field: 2, Offset: 2, Err: wire.ErrWireType}},
		{"error in a Value", wire.TypeInputCommand, hexBytes("72 02 0a 01"),
			&wire.DecodeError{Message: "InputCommandMessage.Value", Field: 1, Offset: 2, Err: wire.ErrTruncated}},
		{"error in a Void", wire.TypeGetEagerStateCommand, hexBytes("6a 01 08"),
			&wire.DecodeError{Message: "GetEagerStateCommandMessage.Void", Field: 1, Offset: 2, Err: wire.ErrTruncated}},
		{"error in StateKeys", wire.TypeGetEagerStateKeysCommand, hexBytes("72 02 08 01"),
			&wire.DecodeError{Message: "GetEagerStateKeysCommandMessage.StateKeys", Field: 1, Offset: 2, Err: wire.ErrWireType}},
		{"error in a Header", wire.TypeInputCommand, hexBytes("0a 02 12 01"),
			&wire.DecodeError{Message: "InputCommandMessage.Header", Field: 2, Offset: 2, Err: wire.ErrTruncated}},
		{"error in a target", wire.TypeAttachInvocationCommand, hexBytes("1a 02 10 01"),
			&wire.DecodeError{Message: "AttachInvocationCommandMessage.IdempotentRequestTarget", Field: 2, Offset: 2, Err: wire.ErrWireType}},
		{"error in a workflow target", wire.TypeAttachInvocationCommand, hexBytes("22 02 18 01"),
			&wire.DecodeError{Message: "AttachInvocationCommandMessage.WorkflowTarget", Field: 3, Offset: 2, Err: wire.ErrWireType}},
		{"error in a Future", wire.TypeAwaitingOn, hexBytes("0a 02 28 80"),
			&wire.DecodeError{Message: "AwaitingOnMessage.Future", Field: 5, Offset: 2, Err: wire.ErrTruncated}},
		{"packed element overflowing uint32", wire.TypeSuspension, hexBytes("0a 05 80 80 80 80 10"),
			&wire.DecodeError{Message: "SuspensionMessage", Field: 1, Err: wire.ErrVarint}},
		{"packed element truncated", wire.TypeSuspension, hexBytes("12 02 01 80"),
			&wire.DecodeError{Message: "SuspensionMessage", Field: 2, Err: wire.ErrTruncated}},
		{"notification without id", wire.TypeSleepCompletion, hexBytes("22 00"),
			&wire.DecodeError{Message: "SleepCompletionNotificationMessage", Offset: 2, Err: wire.ErrInvalid}},
		{"notification without result", wire.TypeSignalNotification, hexBytes("10 11"),
			&wire.DecodeError{Message: "SignalNotificationMessage", Offset: 2, Err: wire.ErrInvalid}},
		{"empty notification", wire.TypeCallCompletion, nil,
			&wire.DecodeError{Message: "CallCompletionNotificationMessage", Err: wire.ErrInvalid}},
		{"notification with a malformed field", wire.TypeCallCompletion, hexBytes("08"),
			&wire.DecodeError{Message: "CallCompletionNotificationMessage", Field: 1, Err: wire.ErrTruncated}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := wire.Decode(tc.typ, tc.payload)
			if m != nil {
				t.Errorf("Decode returned %+v with error %v", m, err)
			}
			var got *wire.DecodeError
			if !errors.As(err, &got) {
				t.Fatalf("Decode error = %v (%T), want a *wire.DecodeError", err, err)
			}
			if !errors.Is(err, tc.want.Err) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.want.Err)
			}
			if diff := cmp.Diff(fieldsOf(tc.want), fieldsOf(got), equateSentinels); diff != "" {
				t.Errorf("Decode error %q (-want +got):\n%s", err, diff)
			}
		})
	}
}

// TestNotificationKeepsType checks that DecodePayload keeps MessageType
// and names it in errors.
func TestNotificationKeepsType(t *testing.T) {
	t.Parallel()
	n := wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.SignalID(3)}
	if err := n.DecodePayload(hexBytes("08 01 22 00")); err != nil {
		t.Fatal(err)
	}
	want := wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(1), Result: wire.VoidResult()}
	if diff := cmp.Diff(want, n); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var zero wire.Notification
	err := zero.DecodePayload(nil)
	if err == nil || !strings.HasPrefix(err.Error(), "wire: NotificationMessage: ") {
		t.Errorf("zero notification: error %v, want one naming NotificationMessage", err)
	}
}

func TestDecodeErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ     wire.Type
		payload string
		want    string
	}{
		{wire.TypeStart, "18 01 22 a8 46 00", "wire: StartMessage field 4: length 9000 overruns payload at offset 2"},
		{wire.TypeStart, "1a 00", "wire: StartMessage field 3: wire type 2, want 0 at offset 0"},
		{wire.TypeStart, "18 80 80 80 80 10", "wire: StartMessage field 3: value 4294967296 overflows uint32 at offset 0"},
		{wire.TypeStart, "80", "wire: StartMessage: tag varint overruns payload at offset 0"},
		{wire.TypeStart, "00", "wire: StartMessage: invalid field number 0 at offset 0"},
		{wire.TypeSleepCompletion, "22 00", "wire: SleepCompletionNotificationMessage: notification has no id at offset 2"},
		{wire.TypeSleepCompletion, "08 01", "wire: SleepCompletionNotificationMessage: notification has no result at offset 2"},
		{wire.TypeOutputCommand, "7a 02 12 05", "wire: OutputCommandMessage.Failure field 2: length 5 overruns payload at offset 2"},
	}
	for _, tc := range tests {
		_, err := wire.Decode(tc.typ, hexBytes(tc.payload))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Decode(%v, %s) error = %v, want %q", tc.typ, tc.payload, err, tc.want)
		}
	}
	// A DecodeError built by hand, without a detail, prints its sentinel.
	err := &wire.DecodeError{Message: "X", Field: 1, Offset: 3, Err: wire.ErrVarint}
	if got, want := err.Error(), "wire: X field 1: malformed varint at offset 3"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (&wire.DecodeError{Message: "X"}).Error(), "wire: X: decode error at offset 0"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestDecodeUnknownType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ    wire.Type
		custom bool
		text   string
	}{
		{0x0008, false, "wire: unknown message type 0x8"},
		{0x040F, false, "wire: unknown message type 0x40f"},
		{0x8001, false, "wire: unknown message type 0x8001"},
		{0xFC00, true, "wire: custom message type 0xfc00 is not supported"},
		{0xFFFF, true, "wire: custom message type 0xffff is not supported"},
	}
	for _, tc := range tests {
		m, err := wire.Decode(tc.typ, nil)
		var ute *wire.UnknownTypeError
		if m != nil || !errors.As(err, &ute) {
			t.Fatalf("Decode(%v) = %v, %v; want an *UnknownTypeError", tc.typ, m, err)
		}
		if ute.Type != tc.typ || ute.IsCustom() != tc.custom || err.Error() != tc.text {
			t.Errorf("Decode(%v) error = %+v %q custom %v; want custom %v, %q", tc.typ, ute, err, ute.IsCustom(), tc.custom, tc.text)
		}
		if _, ok := wire.NewMessage(tc.typ); ok {
			t.Errorf("NewMessage(%v) ok", tc.typ)
		}
		if _, err := (wire.Frame{Header: wire.Header{Type: tc.typ}}).Decode(); !errors.As(err, &ute) {
			t.Errorf("Frame.Decode error = %v", err)
		}
	}
}

func TestNewMessage(t *testing.T) {
	t.Parallel()
	for v := range 1 << 16 {
		typ := wire.Type(v)
		m, ok := wire.NewMessage(typ)
		if ok != typ.Known() {
			t.Fatalf("NewMessage(%v) ok = %v, want %v", typ, ok, typ.Known())
		}
		if ok && m.Type() != typ {
			t.Errorf("NewMessage(%v).Type() = %v", typ, m.Type())
		}
		if _, isNotification := m.(*wire.Notification); ok && isNotification != typ.IsNotification() {
			t.Errorf("NewMessage(%v) is %T", typ, m)
		}
	}
}

// TestEncodeEmpty checks what the encoders write for empty and absent
// values: nothing for empty plain fields and lists, nil and empty alike,
// but a present empty value for a non-nil empty Value, and nothing for a
// result kind or id kind that the message does not have.
func TestEncodeEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  wire.Message
		want string
	}{
		{"nil lists and bytes", &wire.CallCommand{}, ""},
		{"empty lists and bytes", &wire.CallCommand{Parameter: []byte{}, Headers: []wire.HeaderEntry{}}, ""},
		{"empty state map", &wire.StartMessage{ID: []byte{}, StateMap: []wire.StateEntry{}}, ""},
		{"absent Value", &wire.InputCommand{}, ""},
		{"present empty Value", &wire.InputCommand{Value: []byte{}}, "72 00"},
		{"present empty Value of SetState", &wire.SetStateCommand{Value: []byte{}}, "1a 00"},
		{"nil value in a value result", &wire.OutputCommand{Result: wire.Result{Kind: wire.ResultValue}}, "72 00"},
		{"void where the message has none", &wire.OutputCommand{Result: wire.VoidResult()}, ""},
		{"failure where the message has none", &wire.GetEagerStateCommand{Result: wire.FailureResult(1, "")}, ""},
		{"invocation id on a command", &wire.SendSignalCommand{Result: wire.Result{Kind: wire.ResultInvocationID, InvocationID: "i"}}, "10 00"},
		{"state keys on a command", &wire.CompleteAwakeableCommand{Result: wire.Result{Kind: wire.ResultStateKeys}}, ""},
		{"unknown result kind", &wire.OutputCommand{Result: wire.Result{Kind: 99}}, ""},
		{"empty failure", &wire.OutputCommand{Result: wire.FailureResult(0, "")}, "7a 00"},
		{"empty raw run value", &wire.ProposeRunCompletionMessage{Result: wire.ValueResult(nil)}, "72 00"},
		{"eager state keys always written", &wire.GetEagerStateKeysCommand{}, "72 00"},
		{"signal idx 0 written", &wire.SendSignalCommand{}, "10 00"},
		{"target none", &wire.AttachInvocationCommand{}, ""},
		{"target id empty", &wire.AttachInvocationCommand{Target: wire.InvocationTarget{Kind: wire.TargetInvocationID}}, "0a 00"},
		{"unknown target kind", &wire.AttachInvocationCommand{Target: wire.InvocationTarget{Kind: 9}}, ""},
		{"notification without id or result", &wire.Notification{MessageType: wire.TypeSleepCompletion}, ""},
		{"notification with unknown kinds", &wire.Notification{ID: wire.NotificationID{Kind: 9}, Result: wire.Result{Kind: 9}}, ""},
		{"notification with zero ids", &wire.Notification{ID: wire.SignalID(0), Result: wire.Result{Kind: wire.ResultInvocationID}}, "10 00 82 01 00"},
		{"empty named signal", &wire.Notification{ID: wire.NamedSignalID(""), Result: wire.VoidResult()}, "1a 00 22 00"},
		{"empty future", &wire.SuspensionMessage{AwaitingOn: &wire.Future{}}, "22 00"},
		{"empty named signal in a flat suspension", &wire.SuspensionMessage{WaitingNamedSignals: []string{""}}, "1a 00"},
		{"optional fields set to zero", &wire.ErrorMessage{
			RelatedCommandIndex: u32p(0), RelatedCommandName: strp(""), RelatedCommandType: u32p(0), NextRetryDelay: u64p(0),
		}, "20 00 2a 00 30 00 40 00"},
		{"end", &wire.EndMessage{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.msg.AppendPayload(nil)
			if diff := cmp.Diff(hexBytes(tc.want), got, cmp.Comparer(bytesEqualNilEmpty)); diff != "" {
				t.Errorf("AppendPayload (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeAliasesPayload checks that decoded byte slices alias the
// payload but cannot be appended to over the bytes that follow them.
func TestDecodeAliasesPayload(t *testing.T) {
	t.Parallel()
	payload := hexBytes("0a 01 6b 62 01 6e")
	m, err := wire.Decode(wire.TypeGetLazyStateCommand, payload)
	if err != nil {
		t.Fatal(err)
	}
	key := m.(*wire.GetLazyStateCommand).Key
	if &key[0] != &payload[2] {
		t.Error("Key does not alias the payload")
	}
	_ = append(key, 'X')
	if payload[3] != 0x62 {
		t.Error("appending to Key overwrote the payload")
	}
}

func TestDecodePayloadReplaces(t *testing.T) {
	t.Parallel()
	m := &wire.CallCommand{ServiceName: "old", Headers: []wire.HeaderEntry{{Key: "x"}}, Scope: strp("s")}
	if err := m.DecodePayload(hexBytes("12 01 68")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&wire.CallCommand{HandlerName: "h"}, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestOpenEnums checks that enum values the protocol does not define are
// kept, as proto3 requires of open enums, and encode back to the same
// bytes: a value over 255, and a negative one (a ten-byte varint).
func TestOpenEnums(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		typ     wire.Type
		payload []byte
		want    wire.Message
	}{
		{"error behavior 256", wire.TypeError, hexBytes("48 80 02"), &wire.ErrorMessage{Behavior: 256}},
		{"error behavior -1", wire.TypeError, hexBytes("48 ff ff ff ff ff ff ff ff ff 01"), &wire.ErrorMessage{Behavior: -1}},
		{"combinator 300", wire.TypeAwaitingOn, hexBytes("0a 03 28 ac 02"),
			&wire.AwaitingOnMessage{AwaitingOn: &wire.Future{CombinatorType: 300}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := wire.Decode(tc.typ, tc.payload)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Decode (-want +got):\n%s", d)
			}
			if b := got.AppendPayload(nil); !bytes.Equal(b, tc.payload) {
				t.Errorf("re-encoded % x, want % x", b, tc.payload)
			}
		})
	}
}
