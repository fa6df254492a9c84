package wire_test

// One fuzz target per message decoder (FuzzDecodeMessage fuzzes the type
// too). `make fuzz` runs each for FUZZTIME.

import (
	"testing"

	"github.com/qcodr/restate-sdk-go/wire"
)

func FuzzDecodeAttachInvocationCommand(f *testing.F) { fuzzType(f, wire.TypeAttachInvocationCommand) }

func FuzzDecodeAttachInvocationCompletion(f *testing.F) {
	fuzzType(f, wire.TypeAttachInvocationCompletion)
}

func FuzzDecodeAwaitingOn(f *testing.F) { fuzzType(f, wire.TypeAwaitingOn) }

func FuzzDecodeCallCommand(f *testing.F) { fuzzType(f, wire.TypeCallCommand) }

func FuzzDecodeCallCompletion(f *testing.F) { fuzzType(f, wire.TypeCallCompletion) }

func FuzzDecodeCallInvocationIDCompletion(f *testing.F) {
	fuzzType(f, wire.TypeCallInvocationIDCompletion)
}

func FuzzDecodeClearAllStateCommand(f *testing.F) { fuzzType(f, wire.TypeClearAllStateCommand) }

func FuzzDecodeClearStateCommand(f *testing.F) { fuzzType(f, wire.TypeClearStateCommand) }

func FuzzDecodeCommandAck(f *testing.F) { fuzzType(f, wire.TypeCommandAck) }

func FuzzDecodeCompleteAwakeableCommand(f *testing.F) { fuzzType(f, wire.TypeCompleteAwakeableCommand) }

func FuzzDecodeCompletePromiseCommand(f *testing.F) { fuzzType(f, wire.TypeCompletePromiseCommand) }

func FuzzDecodeCompletePromiseCompletion(f *testing.F) {
	fuzzType(f, wire.TypeCompletePromiseCompletion)
}

func FuzzDecodeEnd(f *testing.F) { fuzzType(f, wire.TypeEnd) }

func FuzzDecodeError(f *testing.F) { fuzzType(f, wire.TypeError) }

func FuzzDecodeGetEagerStateCommand(f *testing.F) { fuzzType(f, wire.TypeGetEagerStateCommand) }

func FuzzDecodeGetEagerStateKeysCommand(f *testing.F) { fuzzType(f, wire.TypeGetEagerStateKeysCommand) }

func FuzzDecodeGetInvocationOutputCommand(f *testing.F) {
	fuzzType(f, wire.TypeGetInvocationOutputCommand)
}

func FuzzDecodeGetInvocationOutputCompletion(f *testing.F) {
	fuzzType(f, wire.TypeGetInvocationOutputCompletion)
}

func FuzzDecodeGetLazyStateCommand(f *testing.F) { fuzzType(f, wire.TypeGetLazyStateCommand) }

func FuzzDecodeGetLazyStateCompletion(f *testing.F) { fuzzType(f, wire.TypeGetLazyStateCompletion) }

func FuzzDecodeGetLazyStateKeysCommand(f *testing.F) { fuzzType(f, wire.TypeGetLazyStateKeysCommand) }

func FuzzDecodeGetLazyStateKeysCompletion(f *testing.F) {
	fuzzType(f, wire.TypeGetLazyStateKeysCompletion)
}

func FuzzDecodeGetPromiseCommand(f *testing.F) { fuzzType(f, wire.TypeGetPromiseCommand) }

func FuzzDecodeGetPromiseCompletion(f *testing.F) { fuzzType(f, wire.TypeGetPromiseCompletion) }

func FuzzDecodeInputCommand(f *testing.F) { fuzzType(f, wire.TypeInputCommand) }

func FuzzDecodeOneWayCallCommand(f *testing.F) { fuzzType(f, wire.TypeOneWayCallCommand) }

func FuzzDecodeOutputCommand(f *testing.F) { fuzzType(f, wire.TypeOutputCommand) }

func FuzzDecodePeekPromiseCommand(f *testing.F) { fuzzType(f, wire.TypePeekPromiseCommand) }

func FuzzDecodePeekPromiseCompletion(f *testing.F) { fuzzType(f, wire.TypePeekPromiseCompletion) }

func FuzzDecodeProposeRunCompletion(f *testing.F) { fuzzType(f, wire.TypeProposeRunCompletion) }

func FuzzDecodeProposeRunCompletionAck(f *testing.F) { fuzzType(f, wire.TypeProposeRunCompletionAck) }

func FuzzDecodeRunCommand(f *testing.F) { fuzzType(f, wire.TypeRunCommand) }

func FuzzDecodeRunCompletion(f *testing.F) { fuzzType(f, wire.TypeRunCompletion) }

func FuzzDecodeSendSignalCommand(f *testing.F) { fuzzType(f, wire.TypeSendSignalCommand) }

func FuzzDecodeSetStateCommand(f *testing.F) { fuzzType(f, wire.TypeSetStateCommand) }

func FuzzDecodeSignalNotification(f *testing.F) { fuzzType(f, wire.TypeSignalNotification) }

func FuzzDecodeSleepCommand(f *testing.F) { fuzzType(f, wire.TypeSleepCommand) }

func FuzzDecodeSleepCompletion(f *testing.F) { fuzzType(f, wire.TypeSleepCompletion) }

func FuzzDecodeStart(f *testing.F) { fuzzType(f, wire.TypeStart) }

func FuzzDecodeSuspension(f *testing.F) { fuzzType(f, wire.TypeSuspension) }
