package wirecheck

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/qcodr/restate-sdk-go/wire"
)

var writeGolden = flag.Bool("golden", false, "rewrite ../../wire/testdata/*.hex from the fixtures")

const goldenDir = "../../wire/testdata"

const (
	sourceProto = "# encoded by google.golang.org/protobuf from upstream protocol.proto, see internal/wirecheck"
	sourceSpec  = "# PROTOCOL.md §12 worked example (greeter over V6); checked against google.golang.org/protobuf in internal/wirecheck"
)

// fixture is one golden file of package wire, described independently of
// package wire's structs: as protobuf text for a message of the upstream
// proto. For the worked examples of PROTOCOL.md §12, spec holds the frame
// printed there, which the encoding must reproduce.
type fixture struct {
	name  string
	typ   wire.Type
	flags uint16
	proto string // full name of the message
	text  string // the message in protobuf text format
	spec  string // the frame from PROTOCOL.md §12, in hex
}

const failureWithMetadata = `code: 404 message: "not found" metadata { key: "resource" value: "user" } metadata { key: "hint" }`

var fixtures = []fixture{
	// PROTOCOL.md §12.
	{
		name: "start_v6", typ: wire.TypeStart, proto: "StartMessage",
		text: `id: "\x00\x00\x00\x00\x00\x00\x00\x2a\x01\x96\xf1\xc2\xa3\xb4\xc5\xd6\xe7\xf8\x09\x1a\x2b\x3c\x4d\x5e"
			debug_id: "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz" known_entries: 1 partial_state: true random_seed: 81985529216486895`,
		spec: "00000000000000500a18000000000000002a0196f1c2a3b4c5d6e7f8091a2b3c4d5e1226696e765f3167644a4274645645634d393432626a63446d623163316b686f614a65313148627a1801280148ef9bafcdf8acd19101",
	},
	{
		name: "input", typ: wire.TypeInputCommand, proto: "InputCommandMessage",
		text: `value { content: "\"Alice\"" }`,
		spec: "040000000000000b72090a0722416c69636522",
	},
	{
		name: "output", typ: wire.TypeOutputCommand, proto: "OutputCommandMessage",
		text: `value { content: "\"Hello Alice!\"" }`,
		spec: "040100000000001272100a0e2248656c6c6f20416c6963652122",
	},
	{name: "end", typ: wire.TypeEnd, proto: "EndMessage", spec: "0003000000000000"},
	{
		name: "propose_run_completion_v7", typ: wire.TypeProposeRunCompletion, flags: wire.FlagRequestedAck,
		proto: "ProposeRunCompletionMessage", text: `result_completion_id: 1 value: "\"ok\""`,
		spec: "000580000000000808017204226f6b22",
	},
	{
		name: "propose_run_completion_v6", typ: wire.TypeProposeRunCompletion,
		proto: "ProposeRunCompletionMessage", text: `result_completion_id: 1 value: "\"ok\""`,
		spec: "000500000000000808017204226f6b22",
	},
	{
		name: "suspension_v7", typ: wire.TypeSuspension, proto: "SuspensionMessage",
		text: `awaiting_on { waiting_completions: 1 waiting_signals: 1 combinator_type: FIRST_COMPLETED }`,
		spec: "000100000000000a22080a01011201012801",
	},
	{
		name: "suspension_v6", typ: wire.TypeSuspension, proto: legacyPackage + "SuspensionMessageV6",
		text: `waiting_completions: 1 waiting_signals: 1`,
		spec: "00010000000000060a0101120101",
	},

	// Control messages.
	{
		name: "start_v7", typ: wire.TypeStart, proto: "StartMessage",
		text: `id: "\xde\xad\xbe\xef" debug_id: "inv_1abc" known_entries: 3
			state_map { key: "count" value: "42" } state_map { key: "empty" }
			key: "user-1" retry_count_since_last_stored_entry: 3 duration_since_last_stored_entry: 1500
			random_seed: 42 scope: "tenant-a" limit_key: "lk" idempotency_key: "idem-1"`,
	},
	{
		name: "suspension_v7_tree", typ: wire.TypeSuspension, proto: "SuspensionMessage",
		text: `awaiting_on {
			waiting_completions: 3 waiting_named_signals: "approved"
			nested_futures { waiting_signals: [17, 18] combinator_type: FIRST_COMPLETED }
			nested_futures { waiting_completions: 300 }
			combinator_type: ALL_SUCCEEDED_OR_FIRST_FAILED }`,
	},
	{
		name: "suspension_v6_named", typ: wire.TypeSuspension, proto: legacyPackage + "SuspensionMessageV6",
		text: `waiting_completions: [1, 200] waiting_named_signals: ["a", "b"]`,
	},
	{
		name: "error", typ: wire.TypeError, proto: "ErrorMessage",
		text: `code: 500 message: "boom" stacktrace: "at main.go:1" related_command_index: 0
			related_command_name: "fetch" related_command_type: 1041 next_retry_delay: 10000`,
	},
	{
		name: "error_v7_pause", typ: wire.TypeError, proto: "ErrorMessage",
		text: `code: 500 message: "max attempts reached" behavior: PAUSE`,
	},
	{name: "command_ack", typ: wire.TypeCommandAck, proto: "CommandAckMessage", text: `command_index: 7`},
	{
		name: "propose_run_completion_failure", typ: wire.TypeProposeRunCompletion, proto: "ProposeRunCompletionMessage",
		text: `result_completion_id: 2 failure { ` + failureWithMetadata + ` }`,
	},
	{
		name: "propose_run_completion_empty", typ: wire.TypeProposeRunCompletion, proto: "ProposeRunCompletionMessage",
		text: `result_completion_id: 3 value: ""`,
	},
	{
		name: "awaiting_on", typ: wire.TypeAwaitingOn, proto: "AwaitingOnMessage",
		text: `awaiting_on { waiting_completions: [1, 2] combinator_type: ALL_COMPLETED } executing_side_effects: true`,
	},
	{name: "propose_run_completion_ack", typ: wire.TypeProposeRunCompletionAck, proto: "ProposeRunCompletionAckMessage", text: `completion_id: 1`},

	// Commands.
	{
		name: "input_headers", typ: wire.TypeInputCommand, proto: "InputCommandMessage",
		text: `headers { key: "content-type" value: "application/json" } headers { key: "x-empty" }
			value { content: "{}" } name: "in"`,
	},
	{name: "input_empty_value", typ: wire.TypeInputCommand, proto: "InputCommandMessage", text: `value {}`},
	{
		name: "output_failure", typ: wire.TypeOutputCommand, proto: "OutputCommandMessage",
		text: `failure { ` + failureWithMetadata + ` } name: "out"`,
	},
	{
		name: "get_lazy_state", typ: wire.TypeGetLazyStateCommand, proto: "GetLazyStateCommandMessage",
		text: `key: "count" result_completion_id: 1 name: "get"`,
	},
	{name: "set_state", typ: wire.TypeSetStateCommand, proto: "SetStateCommandMessage", text: `key: "count" value { content: "42" }`},
	{name: "set_state_empty_value", typ: wire.TypeSetStateCommand, proto: "SetStateCommandMessage", text: `key: "k" value {} name: "set"`},
	{name: "clear_state", typ: wire.TypeClearStateCommand, proto: "ClearStateCommandMessage", text: `key: "count"`},
	{name: "clear_all_state", typ: wire.TypeClearAllStateCommand, proto: "ClearAllStateCommandMessage", text: `name: "reset"`},
	{name: "get_lazy_state_keys", typ: wire.TypeGetLazyStateKeysCommand, proto: "GetLazyStateKeysCommandMessage", text: `result_completion_id: 2`},
	{name: "get_eager_state_void", typ: wire.TypeGetEagerStateCommand, proto: "GetEagerStateCommandMessage", text: `key: "missing" void {}`},
	{
		name: "get_eager_state_value", typ: wire.TypeGetEagerStateCommand, proto: "GetEagerStateCommandMessage",
		text: `key: "count" value { content: "42" } name: "g"`,
	},
	{name: "get_eager_state_keys", typ: wire.TypeGetEagerStateKeysCommand, proto: "GetEagerStateKeysCommandMessage", text: `value { keys: ["a", "b"] }`},
	{name: "get_eager_state_keys_empty", typ: wire.TypeGetEagerStateKeysCommand, proto: "GetEagerStateKeysCommandMessage", text: `value {}`},
	{name: "get_promise", typ: wire.TypeGetPromiseCommand, proto: "GetPromiseCommandMessage", text: `key: "p" result_completion_id: 4`},
	{name: "peek_promise", typ: wire.TypePeekPromiseCommand, proto: "PeekPromiseCommandMessage", text: `key: "p" result_completion_id: 5 name: "peek"`},
	{
		name: "complete_promise_value", typ: wire.TypeCompletePromiseCommand, proto: "CompletePromiseCommandMessage",
		text: `key: "p" completion_value { content: "done" } result_completion_id: 6`,
	},
	{
		name: "complete_promise_failure", typ: wire.TypeCompletePromiseCommand, proto: "CompletePromiseCommandMessage",
		text: `key: "p" completion_failure { code: 409 message: "rejected" } result_completion_id: 7`,
	},
	{
		name: "sleep", typ: wire.TypeSleepCommand, proto: "SleepCommandMessage",
		text: `wake_up_time: 1735689600000 result_completion_id: 1 name: "nap"`,
	},
	{
		name: "call", typ: wire.TypeCallCommand, proto: "CallCommandMessage",
		text: `service_name: "Greeter" handler_name: "greet" parameter: "\"Bob\""
			headers { key: "a" value: "1" } headers { key: "b" value: "2" }
			key: "k" idempotency_key: "idem" scope: "scope" limit_key: "limit"
			invocation_id_notification_idx: 1 result_completion_id: 2 name: "call"`,
	},
	{
		name: "one_way_call", typ: wire.TypeOneWayCallCommand, proto: "OneWayCallCommandMessage",
		text: `service_name: "Mailer" handler_name: "send" parameter: "{\"to\":\"x\"}" invoke_time: 1735689600000
			headers { key: "h" value: "v" } key: "obj" idempotency_key: "once" scope: "s" limit_key: "l"
			invocation_id_notification_idx: 3 name: "send"`,
	},
	{
		name: "send_signal_cancel", typ: wire.TypeSendSignalCommand, proto: "SendSignalCommandMessage",
		text: `target_invocation_id: "inv_1child" idx: 1 void {}`,
	},
	{
		name: "send_signal_named", typ: wire.TypeSendSignalCommand, proto: "SendSignalCommandMessage",
		text: `target_invocation_id: "inv_1other" name: "approved" value { content: "yes" } entry_name: "notify"`,
	},
	{
		name: "send_signal_idx_zero", typ: wire.TypeSendSignalCommand, proto: "SendSignalCommandMessage",
		text: `target_invocation_id: "inv_1other" idx: 0 failure { code: 500 message: "no" }`,
	},
	{name: "run", typ: wire.TypeRunCommand, proto: "RunCommandMessage", text: `result_completion_id: 3 name: "fetch"`},
	{
		name: "attach_invocation_id", typ: wire.TypeAttachInvocationCommand, proto: "AttachInvocationCommandMessage",
		text: `invocation_id: "inv_1abc" result_completion_id: 8`,
	},
	{
		name: "attach_idempotent_request", typ: wire.TypeAttachInvocationCommand, proto: "AttachInvocationCommandMessage",
		text: `idempotent_request_target { service_name: "Greeter" service_key: "" handler_name: "greet" idempotency_key: "k1" scope: "s" }
			result_completion_id: 9 name: "attach"`,
	},
	{
		name: "get_invocation_output_workflow", typ: wire.TypeGetInvocationOutputCommand, proto: "GetInvocationOutputCommandMessage",
		text: `workflow_target { workflow_name: "Signup" workflow_key: "u1" } result_completion_id: 10`,
	},
	{
		name: "get_invocation_output_workflow_scope", typ: wire.TypeGetInvocationOutputCommand, proto: "GetInvocationOutputCommandMessage",
		text: `workflow_target { workflow_name: "Signup" workflow_key: "u1" scope: "t" } result_completion_id: 11`,
	},
	{
		name: "complete_awakeable_value", typ: wire.TypeCompleteAwakeableCommand, proto: "CompleteAwakeableCommandMessage",
		text: `awakeable_id: "sign_1AAAAAAAAACoBlvHCo7TF1uf4CRorPE1eAAAAEQ" value { content: "ok" }`,
	},
	{
		name: "complete_awakeable_failure", typ: wire.TypeCompleteAwakeableCommand, proto: "CompleteAwakeableCommandMessage",
		text: `awakeable_id: "sign_1AAAAAAAAACoBlvHCo7TF1uf4CRorPE1eAAAAEQ" failure { code: 500 message: "bad" } name: "reject"`,
	},

	// Notifications, each in its own message of the proto.
	{
		name: "get_lazy_state_completion_void", typ: wire.TypeGetLazyStateCompletion,
		proto: "GetLazyStateCompletionNotificationMessage", text: `completion_id: 1 void {}`,
	},
	{
		name: "get_lazy_state_completion_value", typ: wire.TypeGetLazyStateCompletion,
		proto: "GetLazyStateCompletionNotificationMessage", text: `completion_id: 1 value { content: "42" }`,
	},
	{
		name: "get_lazy_state_keys_completion", typ: wire.TypeGetLazyStateKeysCompletion,
		proto: "GetLazyStateKeysCompletionNotificationMessage", text: `completion_id: 2 state_keys { keys: ["a", "b"] }`,
	},
	{
		name: "get_promise_completion_value", typ: wire.TypeGetPromiseCompletion,
		proto: "GetPromiseCompletionNotificationMessage", text: `completion_id: 4 value { content: "done" }`,
	},
	{
		name: "peek_promise_completion_void", typ: wire.TypePeekPromiseCompletion,
		proto: "PeekPromiseCompletionNotificationMessage", text: `completion_id: 5 void {}`,
	},
	{
		name: "complete_promise_completion_failure", typ: wire.TypeCompletePromiseCompletion,
		proto: "CompletePromiseCompletionNotificationMessage", text: `completion_id: 7 failure { code: 409 message: "already completed" }`,
	},
	{
		name: "sleep_completion", typ: wire.TypeSleepCompletion,
		proto: "SleepCompletionNotificationMessage", text: `completion_id: 1 void {}`,
	},
	{
		name: "call_completion_value", typ: wire.TypeCallCompletion,
		proto: "CallCompletionNotificationMessage", text: `completion_id: 2 value { content: "\"Hi Bob\"" }`,
	},
	{
		name: "call_completion_failure", typ: wire.TypeCallCompletion,
		proto: "CallCompletionNotificationMessage", text: `completion_id: 2 failure { ` + failureWithMetadata + ` }`,
	},
	{
		name: "call_invocation_id_completion", typ: wire.TypeCallInvocationIDCompletion,
		proto: "CallInvocationIdCompletionNotificationMessage", text: `completion_id: 1 invocation_id: "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"`,
	},
	{
		name: "run_completion_value", typ: wire.TypeRunCompletion,
		proto: "RunCompletionNotificationMessage", text: `completion_id: 3 value { content: "\"ok\"" }`,
	},
	{
		name: "run_completion_empty_value", typ: wire.TypeRunCompletion,
		proto: "RunCompletionNotificationMessage", text: `completion_id: 3 value {}`,
	},
	{
		name: "attach_invocation_completion_value", typ: wire.TypeAttachInvocationCompletion,
		proto: "AttachInvocationCompletionNotificationMessage", text: `completion_id: 8 value { content: "out" }`,
	},
	{
		name: "get_invocation_output_completion_void", typ: wire.TypeGetInvocationOutputCompletion,
		proto: "GetInvocationOutputCompletionNotificationMessage", text: `completion_id: 10 void {}`,
	},
	{
		name: "signal_notification_idx", typ: wire.TypeSignalNotification,
		proto: "SignalNotificationMessage", text: `idx: 17 value { content: "hello" }`,
	},
	{
		name: "signal_notification_cancel", typ: wire.TypeSignalNotification,
		proto: "SignalNotificationMessage", text: `idx: 1 void {}`,
	},
	{
		name: "signal_notification_named", typ: wire.TypeSignalNotification,
		proto: "SignalNotificationMessage", text: `name: "approved" failure { code: 500 message: "denied" }`,
	},
}

// frame encodes the fixture's message with google.golang.org/protobuf and
// frames it. The header is the protocol's, built by hand here.
func (fx fixture) frame(t *testing.T, s *schema) (*dynamicpb.Message, []byte) {
	t.Helper()
	msg := dynamicpb.NewMessage(s.message(t, qualify(fx.proto)))
	if err := prototext.Unmarshal([]byte(fx.text), msg); err != nil {
		t.Fatalf("parsing the text of %s: %v", fx.name, err)
	}
	payload, err := sortedMarshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	// The field-ordered encoding must carry the same message.
	back := dynamicpb.NewMessage(msg.Descriptor())
	if err := proto.Unmarshal(payload, back); err != nil || !proto.Equal(msg, back) {
		t.Fatalf("sortedMarshal does not round-trip %s: %v", fx.name, err)
	}
	frame := binary.BigEndian.AppendUint64(nil, uint64(fx.typ)<<48|uint64(fx.flags)<<32|uint64(len(payload)))
	return msg, append(frame, payload...)
}

func formatGolden(comments []string, frame []byte) []byte {
	var b bytes.Buffer
	for _, c := range comments {
		b.WriteString(c + "\n")
	}
	b.WriteString(hex.EncodeToString(frame[:8]) + "\n")
	for p := frame[8:]; len(p) > 0; {
		n := min(len(p), 32)
		b.WriteString(hex.EncodeToString(p[:n]) + "\n")
		p = p[n:]
	}
	return b.Bytes()
}

func parseGolden(data []byte) ([]byte, error) {
	var h strings.Builder
	for line := range strings.Lines(string(data)) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			h.WriteString(strings.Join(strings.Fields(line), ""))
		}
	}
	return hex.DecodeString(h.String())
}

// TestGolden checks every golden file of package wire against the
// reference encoding of its fixture (and the spec's bytes where there are
// some), and that package wire decodes it to the fixture's message. With
// -golden it writes the files first.
func TestGolden(t *testing.T) {
	s := mustSchema(t)
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			msg, frame := fx.frame(t, s)
			comments := []string{sourceProto, "# " + string(msg.Descriptor().FullName())}
			if fx.spec != "" {
				comments = []string{sourceSpec, "# " + string(msg.Descriptor().FullName())}
				if diff := cmp.Diff(fx.spec, hex.EncodeToString(frame)); diff != "" {
					t.Errorf("reference encoding differs from PROTOCOL.md §12 (-want +got):\n%s", diff)
				}
			}
			if text := strings.Join(strings.Fields(fx.text), " "); text != "" {
				comments = append(comments, "# "+text)
			}
			path := filepath.Join(goldenDir, fx.name+".hex")
			if *writeGolden {
				if err := os.WriteFile(path, formatGolden(comments, frame), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			golden, err := parseGolden(data)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if diff := cmp.Diff(frame, golden); diff != "" {
				t.Errorf("%s differs from the reference encoding (-want +got):\n%s", path, diff)
			}

			// Package wire decodes the reference bytes to the same message.
			got, err := wire.Decode(fx.typ, frame[8:])
			if err != nil {
				t.Fatalf("wire.Decode: %v", err)
			}
			if back := toDynamic(got, msg.Descriptor()); !proto.Equal(msg, back) {
				t.Errorf("wire decoded %s as %+v, which is %v, want %v", fx.name, got, back, msg)
			}
			if diff := cmp.Diff(frame, wire.AppendFrame(nil, got, fx.flags)); diff != "" {
				t.Errorf("wire re-encoding differs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGoldenFilesAreFixtures fails for a golden file without a fixture here.
func TestGoldenFilesAreFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.hex"))
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, f := range files {
		got = append(got, strings.TrimSuffix(filepath.Base(f), ".hex"))
	}
	for _, fx := range fixtures {
		want = append(want, fx.name)
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("golden files (-fixtures +files):\n%s", diff)
	}
}
