package wire_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/qcodr/restate-sdk-go/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with this package's encoding")

// goldenFixture is one golden file: testdata/<name>.hex holds the frame of
// msg sent with flags. The files are written independently of this package
// by internal/wirecheck (from protocol.proto with google.golang.org/protobuf)
// or copied from PROTOCOL.md §12; each says which in its first line.
type goldenFixture struct {
	name  string
	flags uint16
	msg   wire.Message
}

func strp(s string) *string { return &s }
func u32p(v uint32) *uint32 { return &v }
func u64p(v uint64) *uint64 { return &v }

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// goldenFixtures returns the fixtures anew on each call, so that no test can
// disturb another through shared slices.
func goldenFixtures() []goldenFixture {
	failureWithMetadata := wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{
		Code:    404,
		Message: "not found",
		Metadata: []wire.FailureMetadata{
			{Key: "resource", Value: "user"},
			{Key: "hint", Value: ""},
		},
	}}
	return []goldenFixture{
		// PROTOCOL.md §12.
		{name: "start_v6", msg: &wire.StartMessage{
			ID:           mustHex("000000000000002a0196f1c2a3b4c5d6e7f8091a2b3c4d5e"),
			DebugID:      "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz",
			KnownEntries: 1,
			PartialState: true,
			RandomSeed:   0x0123456789ABCDEF,
		}},
		{name: "input", msg: &wire.InputCommand{Value: []byte(`"Alice"`)}},
		{name: "output", msg: &wire.OutputCommand{Result: wire.ValueResult([]byte(`"Hello Alice!"`))}},
		{name: "end", msg: &wire.EndMessage{}},
		{name: "propose_run_completion_v7", flags: wire.FlagRequestedAck, msg: &wire.ProposeRunCompletionMessage{
			ResultCompletionID: 1, Result: wire.ValueResult([]byte(`"ok"`)),
		}},
		{name: "propose_run_completion_v6", msg: &wire.ProposeRunCompletionMessage{
			ResultCompletionID: 1, Result: wire.ValueResult([]byte(`"ok"`)),
		}},
		{name: "suspension_v7", msg: &wire.SuspensionMessage{AwaitingOn: &wire.Future{
			WaitingCompletions: []uint32{1},
			WaitingSignals:     []uint32{1},
			CombinatorType:     wire.CombinatorFirstCompleted,
		}}},
		{name: "suspension_v6", msg: &wire.SuspensionMessage{
			WaitingCompletions: []uint32{1},
			WaitingSignals:     []uint32{1},
		}},

		// Control messages.
		{name: "start_v7", msg: &wire.StartMessage{
			ID:           []byte{0xde, 0xad, 0xbe, 0xef},
			DebugID:      "inv_1abc",
			KnownEntries: 3,
			StateMap: []wire.StateEntry{
				{Key: []byte("count"), Value: []byte("42")},
				{Key: []byte("empty"), Value: []byte{}},
			},
			Key:                            "user-1",
			RetryCountSinceLastStoredEntry: 3,
			DurationSinceLastStoredEntry:   1500,
			RandomSeed:                     42,
			Scope:                          strp("tenant-a"),
			LimitKey:                       strp("lk"),
			IdempotencyKey:                 strp("idem-1"),
		}},
		{name: "suspension_v7_tree", msg: &wire.SuspensionMessage{AwaitingOn: &wire.Future{
			WaitingCompletions:  []uint32{3},
			WaitingNamedSignals: []string{"approved"},
			NestedFutures: []wire.Future{
				{WaitingSignals: []uint32{17, 18}, CombinatorType: wire.CombinatorFirstCompleted},
				{WaitingCompletions: []uint32{300}},
			},
			CombinatorType: wire.CombinatorAllSucceededOrFirstFailed,
		}}},
		{name: "suspension_v6_named", msg: &wire.SuspensionMessage{
			WaitingCompletions:  []uint32{1, 200},
			WaitingNamedSignals: []string{"a", "b"},
		}},
		{name: "error", msg: &wire.ErrorMessage{
			Code:                500,
			Message:             "boom",
			Stacktrace:          "at main.go:1",
			RelatedCommandIndex: u32p(0),
			RelatedCommandName:  strp("fetch"),
			RelatedCommandType:  u32p(uint32(wire.TypeRunCommand)),
			NextRetryDelay:      u64p(10000),
		}},
		{name: "error_v7_pause", msg: &wire.ErrorMessage{
			Code: 500, Message: "max attempts reached", Behavior: wire.BehaviorPause,
		}},
		{name: "command_ack", msg: &wire.CommandAckMessage{CommandIndex: 7}},
		{name: "propose_run_completion_failure", msg: &wire.ProposeRunCompletionMessage{
			ResultCompletionID: 2, Result: failureWithMetadata,
		}},
		{name: "propose_run_completion_empty", msg: &wire.ProposeRunCompletionMessage{
			ResultCompletionID: 3, Result: wire.ValueResult([]byte{}),
		}},
		{name: "awaiting_on", msg: &wire.AwaitingOnMessage{
			AwaitingOn: &wire.Future{
				WaitingCompletions: []uint32{1, 2},
				CombinatorType:     wire.CombinatorAllCompleted,
			},
			ExecutingSideEffects: true,
		}},
		{name: "propose_run_completion_ack", msg: &wire.ProposeRunCompletionAckMessage{CompletionID: 1}},

		// Commands.
		{name: "input_headers", msg: &wire.InputCommand{
			Headers: []wire.HeaderEntry{
				{Key: "content-type", Value: "application/json"},
				{Key: "x-empty", Value: ""},
			},
			Value: []byte(`{}`),
			Name:  "in",
		}},
		{name: "input_empty_value", msg: &wire.InputCommand{Value: []byte{}}},
		{name: "output_failure", msg: &wire.OutputCommand{Result: failureWithMetadata, Name: "out"}},
		{name: "get_lazy_state", msg: &wire.GetLazyStateCommand{Key: []byte("count"), ResultCompletionID: 1, Name: "get"}},
		{name: "set_state", msg: &wire.SetStateCommand{Key: []byte("count"), Value: []byte("42")}},
		{name: "set_state_empty_value", msg: &wire.SetStateCommand{Key: []byte("k"), Value: []byte{}, Name: "set"}},
		{name: "clear_state", msg: &wire.ClearStateCommand{Key: []byte("count")}},
		{name: "clear_all_state", msg: &wire.ClearAllStateCommand{Name: "reset"}},
		{name: "get_lazy_state_keys", msg: &wire.GetLazyStateKeysCommand{ResultCompletionID: 2}},
		{name: "get_eager_state_void", msg: &wire.GetEagerStateCommand{Key: []byte("missing"), Result: wire.VoidResult()}},
		{name: "get_eager_state_value", msg: &wire.GetEagerStateCommand{
			Key: []byte("count"), Result: wire.ValueResult([]byte("42")), Name: "g",
		}},
		{name: "get_eager_state_keys", msg: &wire.GetEagerStateKeysCommand{Keys: [][]byte{[]byte("a"), []byte("b")}}},
		{name: "get_eager_state_keys_empty", msg: &wire.GetEagerStateKeysCommand{}},
		{name: "get_promise", msg: &wire.GetPromiseCommand{Key: "p", ResultCompletionID: 4}},
		{name: "peek_promise", msg: &wire.PeekPromiseCommand{Key: "p", ResultCompletionID: 5, Name: "peek"}},
		{name: "complete_promise_value", msg: &wire.CompletePromiseCommand{
			Key: "p", Completion: wire.ValueResult([]byte("done")), ResultCompletionID: 6,
		}},
		{name: "complete_promise_failure", msg: &wire.CompletePromiseCommand{
			Key: "p", Completion: wire.FailureResult(409, "rejected"), ResultCompletionID: 7,
		}},
		{name: "sleep", msg: &wire.SleepCommand{WakeUpTime: 1735689600000, ResultCompletionID: 1, Name: "nap"}},
		{name: "call", msg: &wire.CallCommand{
			ServiceName: "Greeter",
			HandlerName: "greet",
			Parameter:   []byte(`"Bob"`),
			Headers: []wire.HeaderEntry{
				{Key: "a", Value: "1"},
				{Key: "b", Value: "2"},
			},
			Key:                         "k",
			IdempotencyKey:              strp("idem"),
			Scope:                       strp("scope"),
			LimitKey:                    strp("limit"),
			InvocationIDNotificationIdx: 1,
			ResultCompletionID:          2,
			Name:                        "call",
		}},
		{name: "one_way_call", msg: &wire.OneWayCallCommand{
			ServiceName:                 "Mailer",
			HandlerName:                 "send",
			Parameter:                   []byte(`{"to":"x"}`),
			InvokeTime:                  1735689600000,
			Headers:                     []wire.HeaderEntry{{Key: "h", Value: "v"}},
			Key:                         "obj",
			IdempotencyKey:              strp("once"),
			Scope:                       strp("s"),
			LimitKey:                    strp("l"),
			InvocationIDNotificationIdx: 3,
			Name:                        "send",
		}},
		{name: "send_signal_cancel", msg: &wire.SendSignalCommand{
			TargetInvocationID: "inv_1child", Idx: wire.SignalCancel, Result: wire.VoidResult(),
		}},
		{name: "send_signal_named", msg: &wire.SendSignalCommand{
			TargetInvocationID: "inv_1other", SignalName: "approved",
			Result: wire.ValueResult([]byte("yes")), EntryName: "notify",
		}},
		{name: "send_signal_idx_zero", msg: &wire.SendSignalCommand{
			TargetInvocationID: "inv_1other", Result: wire.FailureResult(500, "no"),
		}},
		{name: "run", msg: &wire.RunCommand{ResultCompletionID: 3, Name: "fetch"}},
		{name: "attach_invocation_id", msg: &wire.AttachInvocationCommand{
			Target:             wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "inv_1abc"},
			ResultCompletionID: 8,
		}},
		{name: "attach_idempotent_request", msg: &wire.AttachInvocationCommand{
			Target: wire.InvocationTarget{Kind: wire.TargetIdempotentRequest, IdempotentRequest: wire.IdempotentRequestTarget{
				ServiceName:    "Greeter",
				ServiceKey:     strp(""),
				HandlerName:    "greet",
				IdempotencyKey: "k1",
				Scope:          strp("s"),
			}},
			ResultCompletionID: 9,
			Name:               "attach",
		}},
		{name: "get_invocation_output_workflow", msg: &wire.GetInvocationOutputCommand{
			Target: wire.InvocationTarget{Kind: wire.TargetWorkflow, Workflow: wire.WorkflowTarget{
				WorkflowName: "Signup", WorkflowKey: "u1",
			}},
			ResultCompletionID: 10,
		}},
		{name: "get_invocation_output_workflow_scope", msg: &wire.GetInvocationOutputCommand{
			Target: wire.InvocationTarget{Kind: wire.TargetWorkflow, Workflow: wire.WorkflowTarget{
				WorkflowName: "Signup", WorkflowKey: "u1", Scope: strp("t"),
			}},
			ResultCompletionID: 11,
		}},
		{name: "complete_awakeable_value", msg: &wire.CompleteAwakeableCommand{
			AwakeableID: "sign_1AAAAAAAAACoBlvHCo7TF1uf4CRorPE1eAAAAEQ", Result: wire.ValueResult([]byte("ok")),
		}},
		{name: "complete_awakeable_failure", msg: &wire.CompleteAwakeableCommand{
			AwakeableID: "sign_1AAAAAAAAACoBlvHCo7TF1uf4CRorPE1eAAAAEQ", Result: wire.FailureResult(500, "bad"), Name: "reject",
		}},

		// Notifications, one file per type and result kind.
		{name: "get_lazy_state_completion_void", msg: &wire.Notification{
			MessageType: wire.TypeGetLazyStateCompletion, ID: wire.CompletionID(1), Result: wire.VoidResult(),
		}},
		{name: "get_lazy_state_completion_value", msg: &wire.Notification{
			MessageType: wire.TypeGetLazyStateCompletion, ID: wire.CompletionID(1), Result: wire.ValueResult([]byte("42")),
		}},
		{name: "get_lazy_state_keys_completion", msg: &wire.Notification{
			MessageType: wire.TypeGetLazyStateKeysCompletion, ID: wire.CompletionID(2),
			Result: wire.Result{Kind: wire.ResultStateKeys, StateKeys: [][]byte{[]byte("a"), []byte("b")}},
		}},
		{name: "get_promise_completion_value", msg: &wire.Notification{
			MessageType: wire.TypeGetPromiseCompletion, ID: wire.CompletionID(4), Result: wire.ValueResult([]byte("done")),
		}},
		{name: "peek_promise_completion_void", msg: &wire.Notification{
			MessageType: wire.TypePeekPromiseCompletion, ID: wire.CompletionID(5), Result: wire.VoidResult(),
		}},
		{name: "complete_promise_completion_failure", msg: &wire.Notification{
			MessageType: wire.TypeCompletePromiseCompletion, ID: wire.CompletionID(7), Result: wire.FailureResult(409, "already completed"),
		}},
		{name: "sleep_completion", msg: &wire.Notification{
			MessageType: wire.TypeSleepCompletion, ID: wire.CompletionID(1), Result: wire.VoidResult(),
		}},
		{name: "call_completion_value", msg: &wire.Notification{
			MessageType: wire.TypeCallCompletion, ID: wire.CompletionID(2), Result: wire.ValueResult([]byte(`"Hi Bob"`)),
		}},
		{name: "call_completion_failure", msg: &wire.Notification{
			MessageType: wire.TypeCallCompletion, ID: wire.CompletionID(2), Result: failureWithMetadata,
		}},
		{name: "call_invocation_id_completion", msg: &wire.Notification{
			MessageType: wire.TypeCallInvocationIDCompletion, ID: wire.CompletionID(1),
			Result: wire.Result{Kind: wire.ResultInvocationID, InvocationID: "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"},
		}},
		{name: "run_completion_value", msg: &wire.Notification{
			MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(3), Result: wire.ValueResult([]byte(`"ok"`)),
		}},
		{name: "run_completion_empty_value", msg: &wire.Notification{
			MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(3), Result: wire.ValueResult([]byte{}),
		}},
		{name: "attach_invocation_completion_value", msg: &wire.Notification{
			MessageType: wire.TypeAttachInvocationCompletion, ID: wire.CompletionID(8), Result: wire.ValueResult([]byte("out")),
		}},
		{name: "get_invocation_output_completion_void", msg: &wire.Notification{
			MessageType: wire.TypeGetInvocationOutputCompletion, ID: wire.CompletionID(10), Result: wire.VoidResult(),
		}},
		{name: "signal_notification_idx", msg: &wire.Notification{
			MessageType: wire.TypeSignalNotification, ID: wire.SignalID(17), Result: wire.ValueResult([]byte("hello")),
		}},
		{name: "signal_notification_cancel", msg: &wire.Notification{
			MessageType: wire.TypeSignalNotification, ID: wire.SignalID(wire.SignalCancel), Result: wire.VoidResult(),
		}},
		{name: "signal_notification_named", msg: &wire.Notification{
			MessageType: wire.TypeSignalNotification, ID: wire.NamedSignalID("approved"), Result: wire.FailureResult(500, "denied"),
		}},
	}
}

// goldenFile is a parsed testdata/<name>.hex: comment lines starting with
// "#", then the frame in hex, whitespace ignored.
type goldenFile struct {
	comments []string
	frame    []byte
}

func goldenPath(name string) string { return filepath.Join("testdata", name+".hex") }

func readGolden(t testing.TB, name string) goldenFile {
	t.Helper()
	data, err := os.ReadFile(goldenPath(name))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	var hexText strings.Builder
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			g.comments = append(g.comments, line)
			continue
		}
		hexText.WriteString(strings.Join(strings.Fields(line), ""))
	}
	g.frame, err = hex.DecodeString(hexText.String())
	if err != nil {
		t.Fatalf("%s: %v", goldenPath(name), err)
	}
	return g
}

// formatGolden renders a golden file: the comments, the header on its own
// line, then the payload 32 bytes a line. internal/wirecheck writes the same
// layout.
func formatGolden(comments []string, frame []byte) []byte {
	var b bytes.Buffer
	for _, c := range comments {
		b.WriteString(c + "\n")
	}
	b.WriteString(hex.EncodeToString(frame[:wire.HeaderSize]) + "\n")
	for p := frame[wire.HeaderSize:]; len(p) > 0; {
		n := min(len(p), 32)
		b.WriteString(hex.EncodeToString(p[:n]) + "\n")
		p = p[n:]
	}
	return b.Bytes()
}

// updateGolden rewrites testdata/<name>.hex with frame unless it already
// holds it. A rewritten file says that package wire encoded it: its bytes
// are then no longer an independent check until internal/wirecheck
// rewrites them with -golden.
func updateGolden(t *testing.T, name string, frame []byte) {
	t.Helper()
	if _, err := os.Stat(goldenPath(name)); err == nil && bytes.Equal(readGolden(t, name).frame, frame) {
		return
	}
	comments := []string{"# encoded by package wire, not independently: run the internal/wirecheck tests with -golden"}
	if err := os.WriteFile(goldenPath(name), formatGolden(comments, frame), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGoldenFilesMatchFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.hex"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, strings.TrimSuffix(filepath.Base(f), ".hex"))
	}
	var want []string
	for _, fx := range goldenFixtures() {
		want = append(want, fx.name)
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" && !*update {
		t.Errorf("golden files differ from the fixture table (-want +got):\n%s", diff)
	}
}

func TestGolden(t *testing.T) {
	for _, fx := range goldenFixtures() {
		t.Run(fx.name, func(t *testing.T) {
			encoded := wire.AppendFrame(nil, fx.msg, fx.flags)
			if *update {
				updateGolden(t, fx.name, encoded)
			}
			g := readGolden(t, fx.name)
			if len(g.comments) == 0 {
				t.Errorf("%s has no comment line saying where its bytes came from", goldenPath(fx.name))
			}
			if diff := cmp.Diff(g.frame, encoded); diff != "" {
				t.Errorf("AppendFrame(%T) differs from the golden frame (-want +got):\n%s", fx.msg, diff)
			}

			f, err := wire.NewReader(bytes.NewReader(g.frame), 0).Next()
			if err != nil {
				t.Fatal(err)
			}
			if f.Header.Flags != fx.flags {
				t.Errorf("flags = %#04x, want %#04x", f.Header.Flags, fx.flags)
			}
			got, err := f.Decode()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fx.msg, got); diff != "" {
				t.Errorf("decoding the golden frame (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGoldenStream reads all golden frames as one stream through every way
// of reading frames, including one byte at a time.
func TestGoldenStream(t *testing.T) {
	t.Parallel()
	var stream []byte
	var want []wire.Message
	for _, fx := range goldenFixtures() {
		stream = append(stream, readGolden(t, fx.name).frame...)
		want = append(want, fx.msg)
	}
	for _, rd := range frameReaders {
		t.Run(rd.name, func(t *testing.T) {
			t.Parallel()
			frames, err := rd.read(stream, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []wire.Message
			for _, f := range frames {
				m, err := f.Decode()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, m)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoded stream (-want +got):\n%s", diff)
			}
		})
	}
}

// frameReaders are the ways of reading a stream of frames that every
// framing test runs through: the pull Reader whole and one byte at a time,
// and the push Decoder fed whole and one byte at a time. Each returns the
// frames read before the first error, and the error (nil at a clean end).
var frameReaders = []struct {
	name string
	read func(stream []byte, maxLen uint32) ([]wire.Frame, error)
}{
	{"Reader", func(s []byte, maxLen uint32) ([]wire.Frame, error) {
		return readAll(wire.NewReader(bytes.NewReader(s), maxLen))
	}},
	{"Reader/OneByte", func(s []byte, maxLen uint32) ([]wire.Frame, error) {
		return readAll(wire.NewReader(iotest.OneByteReader(bytes.NewReader(s)), maxLen))
	}},
	{"Reader/DataErr", func(s []byte, maxLen uint32) ([]wire.Frame, error) {
		return readAll(wire.NewReader(iotest.DataErrReader(iotest.HalfReader(bytes.NewReader(s))), maxLen))
	}},
	{"Decoder", func(s []byte, maxLen uint32) ([]wire.Frame, error) {
		return decodeAll(s, len(s), maxLen)
	}},
	{"Decoder/OneByte", func(s []byte, maxLen uint32) ([]wire.Frame, error) {
		return decodeAll(s, 1, maxLen)
	}},
	{"Decoder/Chunks7", func(s []byte, maxLen uint32) ([]wire.Frame, error) {
		return decodeAll(s, 7, maxLen)
	}},
}

func readAll(r *wire.Reader) ([]wire.Frame, error) {
	var frames []wire.Frame
	for {
		f, err := r.Next()
		if err != nil {
			if err == io.EOF {
				return frames, nil
			}
			return frames, err
		}
		frames = append(frames, f)
	}
}

// decodeAll feeds s to a Decoder in chunks of the given size, taking frames
// after every chunk, and finishes it.
func decodeAll(s []byte, chunk int, maxLen uint32) ([]wire.Frame, error) {
	d := wire.NewDecoder(maxLen)
	var frames []wire.Frame
	for len(s) > 0 {
		n := min(chunk, len(s))
		if n, err := d.Write(s[:n]); n != min(chunk, len(s)) || err != nil {
			panic("Decoder.Write failed")
		}
		s = s[n:]
		for {
			f, ok, err := d.Next()
			if err != nil {
				return frames, err
			}
			if !ok {
				break
			}
			frames = append(frames, f)
		}
	}
	return frames, d.Finish()
}
