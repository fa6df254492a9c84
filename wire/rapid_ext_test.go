package wire_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/qcodr/restate-sdk-go/wire"
)

// The generators draw every message in the canonical form that decoding
// returns, so round trips compare exactly, without cmpopts.EquateEmpty:
// empty lists and empty plain bytes fields are nil, while Value fields are
// nil (absent) or non-nil (present, possibly empty), and so is every element
// of a repeated bytes field.

// genSomeBytes draws nil or non-empty bytes, for plain bytes fields.
var genSomeBytes = rapid.OneOf(
	rapid.Just([]byte(nil)),
	rapid.SliceOfN(rapid.Byte(), 1, 16),
	rapid.SliceOfN(rapid.Byte(), 120, 300), // lengths that need two varint bytes
)

// genPresentBytes draws non-nil, possibly empty bytes, for present values.
var genPresentBytes = rapid.Custom(func(t *rapid.T) []byte {
	b := rapid.OneOf(rapid.SliceOfN(rapid.Byte(), 0, 16), rapid.SliceOfN(rapid.Byte(), 120, 300)).Draw(t, "bytes")
	if b == nil {
		b = []byte{}
	}
	return b
})

// genOptionalValue draws nil (absent), empty or non-empty bytes.
var genOptionalValue = rapid.OneOf(rapid.Just([]byte(nil)), genPresentBytes)

var genString = rapid.OneOf(rapid.Just(""), rapid.StringN(1, 12, -1), rapid.StringN(130, 200, -1))

var genOptionalString = rapid.OneOf(rapid.Just[*string](nil), rapid.Map(genString, strp))

var genUint32 = rapid.OneOf(rapid.Just[uint32](0), rapid.Uint32Range(1, 300), rapid.Uint32())

var genUint64 = rapid.OneOf(rapid.Just[uint64](0), rapid.Uint64Range(1, 300), rapid.Uint64())

// sliceOf draws nil or one to three elements.
func sliceOf[T any](g *rapid.Generator[T]) *rapid.Generator[[]T] {
	return rapid.OneOf(rapid.Just[[]T](nil), rapid.SliceOfN(g, 1, 3))
}

var genHeaders = sliceOf(rapid.Custom(func(t *rapid.T) wire.HeaderEntry {
	return wire.HeaderEntry{Key: genString.Draw(t, "key"), Value: genString.Draw(t, "value")}
}))

var genFailure = rapid.Custom(func(t *rapid.T) wire.Failure {
	return wire.Failure{
		Code:    genUint32.Draw(t, "code"),
		Message: genString.Draw(t, "message"),
		Metadata: sliceOf(rapid.Custom(func(t *rapid.T) wire.FailureMetadata {
			return wire.FailureMetadata{Key: genString.Draw(t, "key"), Value: genString.Draw(t, "value")}
		})).Draw(t, "metadata"),
	}
})

// genResult draws a result of one of the given kinds.
func genResult(kinds ...wire.ResultKind) *rapid.Generator[wire.Result] {
	return rapid.Custom(func(t *rapid.T) wire.Result {
		switch k := rapid.SampledFrom(kinds).Draw(t, "kind"); k {
		case wire.ResultValue:
			return wire.ValueResult(genPresentBytes.Draw(t, "value"))
		case wire.ResultFailure:
			return wire.Result{Kind: k, Failure: genFailure.Draw(t, "failure")}
		case wire.ResultInvocationID:
			return wire.Result{Kind: k, InvocationID: genString.Draw(t, "invocation id")}
		case wire.ResultStateKeys:
			return wire.Result{Kind: k, StateKeys: sliceOf(genPresentBytes).Draw(t, "state keys")}
		default:
			return wire.Result{Kind: k}
		}
	})
}

func genFuture(depth int) *rapid.Generator[wire.Future] {
	return rapid.Custom(func(t *rapid.T) wire.Future {
		f := wire.Future{
			WaitingCompletions:  sliceOf(genUint32).Draw(t, "completions"),
			WaitingSignals:      sliceOf(genUint32).Draw(t, "signals"),
			WaitingNamedSignals: sliceOf(genString).Draw(t, "named signals"),
			CombinatorType:      wire.CombinatorType(rapid.Uint8().Draw(t, "combinator")),
		}
		if depth < 3 {
			f.NestedFutures = sliceOf(genFuture(depth+1)).Draw(t, "nested")
		}
		return f
	})
}

var genOptionalFuture = rapid.OneOf(rapid.Just[*wire.Future](nil), rapid.Map(genFuture(0), func(f wire.Future) *wire.Future { return &f }))

var genTarget = rapid.Custom(func(t *rapid.T) wire.InvocationTarget {
	switch k := wire.TargetKind(rapid.IntRange(0, 3).Draw(t, "kind")); k {
	case wire.TargetInvocationID:
		return wire.InvocationTarget{Kind: k, InvocationID: genString.Draw(t, "id")}
	case wire.TargetIdempotentRequest:
		return wire.InvocationTarget{Kind: k, IdempotentRequest: wire.IdempotentRequestTarget{
			ServiceName:    genString.Draw(t, "service"),
			ServiceKey:     genOptionalString.Draw(t, "key"),
			HandlerName:    genString.Draw(t, "handler"),
			IdempotencyKey: genString.Draw(t, "idempotency key"),
			Scope:          genOptionalString.Draw(t, "scope"),
		}}
	case wire.TargetWorkflow:
		return wire.InvocationTarget{Kind: k, Workflow: wire.WorkflowTarget{
			WorkflowName: genString.Draw(t, "name"),
			WorkflowKey:  genString.Draw(t, "key"),
			Scope:        genOptionalString.Draw(t, "scope"),
		}}
	default:
		return wire.InvocationTarget{}
	}
})

var notificationTypes = []wire.Type{
	wire.TypeGetLazyStateCompletion, wire.TypeGetLazyStateKeysCompletion,
	wire.TypeGetPromiseCompletion, wire.TypePeekPromiseCompletion,
	wire.TypeCompletePromiseCompletion, wire.TypeSleepCompletion,
	wire.TypeCallCompletion, wire.TypeCallInvocationIDCompletion,
	wire.TypeRunCompletion, wire.TypeAttachInvocationCompletion,
	wire.TypeGetInvocationOutputCompletion, wire.TypeSignalNotification,
}

func message[T wire.Message](f func(t *rapid.T) T) *rapid.Generator[wire.Message] {
	return rapid.Map(rapid.Custom(f), func(m T) wire.Message { return m })
}

// messageGenerators has a generator for every message struct, by type.
var messageGenerators = map[wire.Type]*rapid.Generator[wire.Message]{
	wire.TypeStart: message(func(t *rapid.T) *wire.StartMessage {
		return &wire.StartMessage{
			ID:           genSomeBytes.Draw(t, "id"),
			DebugID:      genString.Draw(t, "debug id"),
			KnownEntries: genUint32.Draw(t, "known entries"),
			StateMap: sliceOf(rapid.Custom(func(t *rapid.T) wire.StateEntry {
				return wire.StateEntry{Key: genSomeBytes.Draw(t, "key"), Value: genPresentBytes.Draw(t, "value")}
			})).Draw(t, "state"),
			PartialState:                   rapid.Bool().Draw(t, "partial"),
			Key:                            genString.Draw(t, "key"),
			RetryCountSinceLastStoredEntry: genUint32.Draw(t, "retries"),
			DurationSinceLastStoredEntry:   genUint64.Draw(t, "duration"),
			RandomSeed:                     genUint64.Draw(t, "seed"),
			Scope:                          genOptionalString.Draw(t, "scope"),
			LimitKey:                       genOptionalString.Draw(t, "limit key"),
			IdempotencyKey:                 genOptionalString.Draw(t, "idempotency key"),
		}
	}),
	wire.TypeSuspension: message(func(t *rapid.T) *wire.SuspensionMessage {
		return &wire.SuspensionMessage{
			WaitingCompletions:  sliceOf(genUint32).Draw(t, "completions"),
			WaitingSignals:      sliceOf(genUint32).Draw(t, "signals"),
			WaitingNamedSignals: sliceOf(genString).Draw(t, "named signals"),
			AwaitingOn:          genOptionalFuture.Draw(t, "awaiting on"),
		}
	}),
	wire.TypeError: message(func(t *rapid.T) *wire.ErrorMessage {
		return &wire.ErrorMessage{
			Code:                genUint32.Draw(t, "code"),
			Message:             genString.Draw(t, "message"),
			Stacktrace:          genString.Draw(t, "stacktrace"),
			RelatedCommandIndex: rapid.OneOf(rapid.Just[*uint32](nil), rapid.Map(genUint32, u32p)).Draw(t, "index"),
			RelatedCommandName:  genOptionalString.Draw(t, "name"),
			RelatedCommandType:  rapid.OneOf(rapid.Just[*uint32](nil), rapid.Map(genUint32, u32p)).Draw(t, "type"),
			NextRetryDelay:      rapid.OneOf(rapid.Just[*uint64](nil), rapid.Map(genUint64, u64p)).Draw(t, "delay"),
			Behavior:            wire.ErrorBehavior(rapid.Uint8().Draw(t, "behavior")),
		}
	}),
	wire.TypeEnd: rapid.Map(rapid.Just(0), func(int) wire.Message { return &wire.EndMessage{} }),
	wire.TypeCommandAck: message(func(t *rapid.T) *wire.CommandAckMessage {
		return &wire.CommandAckMessage{CommandIndex: genUint32.Draw(t, "index")}
	}),
	wire.TypeProposeRunCompletion: message(func(t *rapid.T) *wire.ProposeRunCompletionMessage {
		return &wire.ProposeRunCompletionMessage{
			ResultCompletionID: genUint32.Draw(t, "id"),
			Result:             genResult(wire.ResultNone, wire.ResultValue, wire.ResultFailure).Draw(t, "result"),
		}
	}),
	wire.TypeAwaitingOn: message(func(t *rapid.T) *wire.AwaitingOnMessage {
		return &wire.AwaitingOnMessage{
			AwaitingOn:           genOptionalFuture.Draw(t, "awaiting on"),
			ExecutingSideEffects: rapid.Bool().Draw(t, "side effects"),
		}
	}),
	wire.TypeProposeRunCompletionAck: message(func(t *rapid.T) *wire.ProposeRunCompletionAckMessage {
		return &wire.ProposeRunCompletionAckMessage{CompletionID: genUint32.Draw(t, "id")}
	}),
	wire.TypeInputCommand: message(func(t *rapid.T) *wire.InputCommand {
		return &wire.InputCommand{
			Headers: genHeaders.Draw(t, "headers"),
			Value:   genOptionalValue.Draw(t, "value"),
			Name:    genString.Draw(t, "name"),
		}
	}),
	wire.TypeOutputCommand: message(func(t *rapid.T) *wire.OutputCommand {
		return &wire.OutputCommand{
			Result: genResult(wire.ResultNone, wire.ResultValue, wire.ResultFailure).Draw(t, "result"),
			Name:   genString.Draw(t, "name"),
		}
	}),
	wire.TypeGetLazyStateCommand: message(func(t *rapid.T) *wire.GetLazyStateCommand {
		return &wire.GetLazyStateCommand{
			Key:                genSomeBytes.Draw(t, "key"),
			ResultCompletionID: genUint32.Draw(t, "id"),
			Name:               genString.Draw(t, "name"),
		}
	}),
	wire.TypeSetStateCommand: message(func(t *rapid.T) *wire.SetStateCommand {
		return &wire.SetStateCommand{
			Key:   genSomeBytes.Draw(t, "key"),
			Value: genOptionalValue.Draw(t, "value"),
			Name:  genString.Draw(t, "name"),
		}
	}),
	wire.TypeClearStateCommand: message(func(t *rapid.T) *wire.ClearStateCommand {
		return &wire.ClearStateCommand{Key: genSomeBytes.Draw(t, "key"), Name: genString.Draw(t, "name")}
	}),
	wire.TypeClearAllStateCommand: message(func(t *rapid.T) *wire.ClearAllStateCommand {
		return &wire.ClearAllStateCommand{Name: genString.Draw(t, "name")}
	}),
	wire.TypeGetLazyStateKeysCommand: message(func(t *rapid.T) *wire.GetLazyStateKeysCommand {
		return &wire.GetLazyStateKeysCommand{ResultCompletionID: genUint32.Draw(t, "id"), Name: genString.Draw(t, "name")}
	}),
	wire.TypeGetEagerStateCommand: message(func(t *rapid.T) *wire.GetEagerStateCommand {
		return &wire.GetEagerStateCommand{
			Key:    genSomeBytes.Draw(t, "key"),
			Result: genResult(wire.ResultNone, wire.ResultVoid, wire.ResultValue).Draw(t, "result"),
			Name:   genString.Draw(t, "name"),
		}
	}),
	wire.TypeGetEagerStateKeysCommand: message(func(t *rapid.T) *wire.GetEagerStateKeysCommand {
		return &wire.GetEagerStateKeysCommand{Keys: sliceOf(genPresentBytes).Draw(t, "keys"), Name: genString.Draw(t, "name")}
	}),
	wire.TypeGetPromiseCommand: message(func(t *rapid.T) *wire.GetPromiseCommand {
		return &wire.GetPromiseCommand{
			Key: genString.Draw(t, "key"), ResultCompletionID: genUint32.Draw(t, "id"), Name: genString.Draw(t, "name"),
		}
	}),
	wire.TypePeekPromiseCommand: message(func(t *rapid.T) *wire.PeekPromiseCommand {
		return &wire.PeekPromiseCommand{
			Key: genString.Draw(t, "key"), ResultCompletionID: genUint32.Draw(t, "id"), Name: genString.Draw(t, "name"),
		}
	}),
	wire.TypeCompletePromiseCommand: message(func(t *rapid.T) *wire.CompletePromiseCommand {
		return &wire.CompletePromiseCommand{
			Key:                genString.Draw(t, "key"),
			Completion:         genResult(wire.ResultNone, wire.ResultValue, wire.ResultFailure).Draw(t, "completion"),
			ResultCompletionID: genUint32.Draw(t, "id"),
			Name:               genString.Draw(t, "name"),
		}
	}),
	wire.TypeSleepCommand: message(func(t *rapid.T) *wire.SleepCommand {
		return &wire.SleepCommand{
			WakeUpTime: genUint64.Draw(t, "wake up"), ResultCompletionID: genUint32.Draw(t, "id"), Name: genString.Draw(t, "name"),
		}
	}),
	wire.TypeCallCommand: message(func(t *rapid.T) *wire.CallCommand {
		return &wire.CallCommand{
			ServiceName:                 genString.Draw(t, "service"),
			HandlerName:                 genString.Draw(t, "handler"),
			Parameter:                   genSomeBytes.Draw(t, "parameter"),
			Headers:                     genHeaders.Draw(t, "headers"),
			Key:                         genString.Draw(t, "key"),
			IdempotencyKey:              genOptionalString.Draw(t, "idempotency key"),
			Scope:                       genOptionalString.Draw(t, "scope"),
			LimitKey:                    genOptionalString.Draw(t, "limit key"),
			InvocationIDNotificationIdx: genUint32.Draw(t, "invocation id idx"),
			ResultCompletionID:          genUint32.Draw(t, "id"),
			Name:                        genString.Draw(t, "name"),
		}
	}),
	wire.TypeOneWayCallCommand: message(func(t *rapid.T) *wire.OneWayCallCommand {
		return &wire.OneWayCallCommand{
			ServiceName:                 genString.Draw(t, "service"),
			HandlerName:                 genString.Draw(t, "handler"),
			Parameter:                   genSomeBytes.Draw(t, "parameter"),
			InvokeTime:                  genUint64.Draw(t, "invoke time"),
			Headers:                     genHeaders.Draw(t, "headers"),
			Key:                         genString.Draw(t, "key"),
			IdempotencyKey:              genOptionalString.Draw(t, "idempotency key"),
			Scope:                       genOptionalString.Draw(t, "scope"),
			LimitKey:                    genOptionalString.Draw(t, "limit key"),
			InvocationIDNotificationIdx: genUint32.Draw(t, "invocation id idx"),
			Name:                        genString.Draw(t, "name"),
		}
	}),
	wire.TypeSendSignalCommand: message(func(t *rapid.T) *wire.SendSignalCommand {
		m := &wire.SendSignalCommand{
			TargetInvocationID: genString.Draw(t, "target"),
			SignalName:         genString.Draw(t, "signal name"),
			Result:             genResult(wire.ResultNone, wire.ResultVoid, wire.ResultValue, wire.ResultFailure).Draw(t, "result"),
			EntryName:          genString.Draw(t, "entry name"),
		}
		if m.SignalName == "" {
			m.Idx = genUint32.Draw(t, "idx")
		}
		return m
	}),
	wire.TypeRunCommand: message(func(t *rapid.T) *wire.RunCommand {
		return &wire.RunCommand{ResultCompletionID: genUint32.Draw(t, "id"), Name: genString.Draw(t, "name")}
	}),
	wire.TypeAttachInvocationCommand: message(func(t *rapid.T) *wire.AttachInvocationCommand {
		return &wire.AttachInvocationCommand{
			Target: genTarget.Draw(t, "target"), ResultCompletionID: genUint32.Draw(t, "id"), Name: genString.Draw(t, "name"),
		}
	}),
	wire.TypeGetInvocationOutputCommand: message(func(t *rapid.T) *wire.GetInvocationOutputCommand {
		return &wire.GetInvocationOutputCommand{
			Target: genTarget.Draw(t, "target"), ResultCompletionID: genUint32.Draw(t, "id"), Name: genString.Draw(t, "name"),
		}
	}),
	wire.TypeCompleteAwakeableCommand: message(func(t *rapid.T) *wire.CompleteAwakeableCommand {
		return &wire.CompleteAwakeableCommand{
			AwakeableID: genString.Draw(t, "awakeable id"),
			Result:      genResult(wire.ResultNone, wire.ResultValue, wire.ResultFailure).Draw(t, "result"),
			Name:        genString.Draw(t, "name"),
		}
	}),
}

// genNotification draws a valid notification of any notification type:
// with an id and a result of any kind (the codec does not check which
// kinds suit which type).
var genNotification = message(func(t *rapid.T) *wire.Notification {
	n := &wire.Notification{MessageType: rapid.SampledFrom(notificationTypes).Draw(t, "type")}
	switch rapid.IntRange(0, 2).Draw(t, "id kind") {
	case 0:
		n.ID = wire.CompletionID(genUint32.Draw(t, "completion id"))
	case 1:
		n.ID = wire.SignalID(genUint32.Draw(t, "signal id"))
	default:
		n.ID = wire.NamedSignalID(genString.Draw(t, "signal name"))
	}
	n.Result = genResult(wire.ResultVoid, wire.ResultValue, wire.ResultFailure,
		wire.ResultInvocationID, wire.ResultStateKeys).Draw(t, "result")
	return n
})

// genAnyMessage draws a message of any type.
var genAnyMessage = rapid.Custom(func(t *rapid.T) wire.Message {
	types := []wire.Type{0xFFFF} // stands for the notifications
	for typ := range messageGenerators {
		types = append(types, typ)
	}
	slices.Sort(types)
	typ := rapid.SampledFrom(types).Draw(t, "type")
	if typ == 0xFFFF {
		return genNotification.Draw(t, "notification")
	}
	return messageGenerators[typ].Draw(t, typ.String())
})

func TestGeneratorsCoverEveryType(t *testing.T) {
	t.Parallel()
	for v := range 1 << 16 {
		typ := wire.Type(v)
		if typ.Known() && !typ.IsNotification() && messageGenerators[typ] == nil {
			t.Errorf("no generator for %v", typ)
		}
	}
}

// roundTrip checks that m survives AppendPayload and Decode exactly, and
// AppendFrame and a Decoder fed one byte at a time.
func roundTrip(t *rapid.T, m wire.Message) {
	payload := m.AppendPayload(nil)
	got, err := wire.Decode(m.Type(), payload)
	if err != nil {
		t.Fatalf("Decode(%v, %x): %v", m.Type(), payload, err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Fatalf("payload %x decodes differently (-want +got):\n%s", payload, diff)
	}
	flags := uint16(rapid.SampledFrom([]uint16{0, wire.FlagRequestedAck}).Draw(t, "flags"))
	frames, err := decodeAll(wire.AppendFrame([]byte("prefix"), m, flags)[len("prefix"):], 1, 0)
	if err != nil || len(frames) != 1 {
		t.Fatalf("framing: %d frames, error %v", len(frames), err)
	}
	if frames[0].Header != (wire.Header{Type: m.Type(), Flags: flags, Length: uint32(len(payload))}) {
		t.Fatalf("header %+v", frames[0].Header)
	}
	if diff := cmp.Diff(payload, frames[0].Payload, cmp.Comparer(bytesEqualNilEmpty)); diff != "" {
		t.Fatalf("framed payload (-want +got):\n%s", diff)
	}
}

func bytesEqualNilEmpty(a, b []byte) bool { return string(a) == string(b) }

// The rapid tests do not run in parallel: rapid v1.3.0 initialises a
// generator's description lazily without synchronisation, so generators
// shared between goroutines race.

func TestRoundTrip(t *testing.T) {
	for typ, gen := range messageGenerators {
		t.Run(typ.String(), func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) { roundTrip(t, gen.Draw(t, "message")) })
		})
	}
	t.Run("Notification", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) { roundTrip(t, genNotification.Draw(t, "message")) })
	})
}

// TestStreamRoundTrip writes a sequence of random messages as one stream
// and reads it back through every frame reader.
func TestStreamRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msgs := rapid.SliceOfN(genAnyMessage, 0, 8).Draw(t, "messages")
		var stream []byte
		for _, m := range msgs {
			stream = wire.AppendFrame(stream, m, 0)
		}
		for _, rd := range frameReaders {
			frames, err := rd.read(stream, 0)
			if err != nil {
				t.Fatalf("%s: %v", rd.name, err)
			}
			var got []wire.Message
			for _, f := range frames {
				m, err := f.Decode()
				if err != nil {
					t.Fatalf("%s: %v", rd.name, err)
				}
				got = append(got, m)
			}
			if len(msgs) == 0 && len(got) == 0 {
				continue
			}
			if diff := cmp.Diff(msgs, got); diff != "" {
				t.Fatalf("%s (-want +got):\n%s", rd.name, diff)
			}
		}
	})
}
