package wire_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcodr/restate-sdk-go/wire"
)

func TestTypeRanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ                                    wire.Type
		control, command, notification, custom bool
		name                                   string
	}{
		{wire.TypeStart, true, false, false, false, "StartMessage"},
		{0x03FF, true, false, false, false, "Type(0x3ff)"},
		{wire.TypeInputCommand, false, true, false, false, "InputCommandMessage"},
		{0x7FFF, false, true, false, false, "Type(0x7fff)"},
		{wire.TypeCallInvocationIDCompletion, false, false, true, false, "CallInvocationIdCompletionNotificationMessage"},
		{wire.TypeSignalNotification, false, false, true, false, "SignalNotificationMessage"},
		{0xFC00, false, false, false, true, "Type(0xfc00)"},
	}
	for _, tc := range tests {
		got := []bool{tc.typ.IsControl(), tc.typ.IsCommand(), tc.typ.IsNotification(), tc.typ.IsCustom()}
		want := []bool{tc.control, tc.command, tc.notification, tc.custom}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%v: ranges (control, command, notification, custom) (-want +got):\n%s", tc.typ, diff)
		}
		if tc.typ.String() != tc.name {
			t.Errorf("String() = %q, want %q", tc.typ.String(), tc.name)
		}
	}
}

func TestContentType(t *testing.T) {
	t.Parallel()
	for _, v := range []wire.Version{wire.V5, wire.V6, wire.V7} {
		ct := v.ContentType()
		if !strings.HasPrefix(ct, "application/vnd.restate.invocation.v") || !strings.HasSuffix(ct, v.String()[1:]) {
			t.Errorf("%v.ContentType() = %q", v, ct)
		}
		got, err := wire.ParseContentType(ct)
		if err != nil || got != v {
			t.Errorf("ParseContentType(%q) = %v, %v", ct, got, err)
		}
	}
	for _, ct := range []string{"", "application/json", "application/vnd.restate.invocation.v", "application/vnd.restate.invocation.vX", "application/vnd.restate.invocation.v4", "application/vnd.restate.invocation.v8"} {
		if _, err := wire.ParseContentType(ct); err == nil || !strings.HasPrefix(err.Error(), "wire: ") {
			t.Errorf("ParseContentType(%q) error = %v", ct, err)
		}
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	if *wire.String("s") != "s" || *wire.Uint32(3) != 3 || *wire.Uint64(4) != 4 {
		t.Error("optional helpers return wrong values")
	}
	kinds := map[wire.ResultKind]string{
		wire.ResultNone: "none", wire.ResultVoid: "void", wire.ResultValue: "value", wire.ResultFailure: "failure",
		wire.ResultInvocationID: "invocation id", wire.ResultStateKeys: "state keys", 9: "ResultKind(9)",
	}
	for k, want := range kinds {
		if k.String() != want {
			t.Errorf("ResultKind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
	ids := map[wire.NotificationID]string{
		wire.CompletionID(3): "completion 3", wire.SignalID(17): "signal 17",
		wire.NamedSignalID("go"): `signal "go"`, {}: "no id",
	}
	for id, want := range ids {
		if id.String() != want {
			t.Errorf("%#v.String() = %q, want %q", id, id.String(), want)
		}
	}
	if got := wire.FailureResult(500, "x"); got.Kind != wire.ResultFailure || got.Failure.Code != 500 {
		t.Errorf("FailureResult = %+v", got)
	}
}

// TestUnknownFieldsEverywhere appends an unknown field to every golden
// payload, which must not change the decoded message, and a malformed
// unknown field, which must fail.
func TestUnknownFieldsEverywhere(t *testing.T) {
	t.Parallel()
	for _, fx := range goldenFixtures() {
		payload := readGolden(t, fx.name).frame[wire.HeaderSize:]
		unknown := append(bytes.Clone(payload), 0x98, 0x06, 0x07) // field 99, varint 7
		got, err := wire.Decode(fx.msg.Type(), unknown)
		if err != nil {
			t.Errorf("%s with an unknown field: %v", fx.name, err)
			continue
		}
		if diff := cmp.Diff(fx.msg, got); diff != "" {
			t.Errorf("%s with an unknown field (-want +got):\n%s", fx.name, diff)
		}
		malformed := append(bytes.Clone(payload), 0x9a, 0x06, 0x05) // field 99, 5 bytes missing
		if _, err := wire.Decode(fx.msg.Type(), malformed); !errors.Is(err, wire.ErrTruncated) {
			t.Errorf("%s with a malformed unknown field: error %v", fx.name, err)
		}
	}
}
