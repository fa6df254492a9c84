package replay

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/qcodr/restate-sdk-go/wire"
)

// violation is one protocol violation scenario: what the runtime sends
// (fed frame by frame until one fails), the expected ErrorMessage code,
// and a fragment of its message.
type violation struct {
	name     string
	versions []wire.Version
	opts     Options
	// before runs first, e.g. to take the input; may be nil.
	before func(m *Machine) error
	feed   [][]byte // chunks passed to FeedBytes in order
	close  bool     // then close the input
	code   uint16
	text   string
	// frames written before the ErrorMessage.
	prefix []out
}

func frames(msgs ...wire.Message) []byte { return encode(msgs...) }

// rawFrame is a frame of type t with payload p, whatever p holds.
func rawFrame(t wire.Type, p []byte) []byte {
	b := wire.Header{Type: t, Length: uint32(len(p))}.Append(nil)
	return append(b, p...)
}

func TestProtocolViolations(t *testing.T) {
	t.Parallel()
	takeInput := func(m *Machine) error { _, err := m.Input(); return err }
	started := frames(startMsg(1), inputCmd(""))
	cases := []violation{
		{name: "notification before the start message", feed: [][]byte{frames(sleepDone(1))},
			code: CodeProtocolViolation, text: "before the StartMessage"},
		{name: "command before the start message", feed: [][]byte{frames(inputCmd(""))},
			code: CodeProtocolViolation, text: "InputCommandMessage"},
		{name: "second start message", feed: [][]byte{frames(startMsg(2), inputCmd(""), startMsg(1))},
			code: CodeProtocolViolation, text: "second StartMessage"},
		{name: "second start message after the replay", feed: [][]byte{started, frames(startMsg(1))},
			code: CodeProtocolViolation, text: "second StartMessage"},
		{name: "known entries 0", feed: [][]byte{frames(startMsg(0))},
			code: CodeProtocolViolation, text: "known_entries is 0"},
		{name: "input closed before the start message", close: true,
			code: CodeProtocolViolation, text: "input closed while waiting for the start message"},
		{name: "input closed while waiting entries", feed: [][]byte{frames(startMsg(3), inputCmd(""))}, close: true,
			code: CodeProtocolViolation, text: "received 1 of 3 entries"},
		{name: "command after the replay", feed: [][]byte{started, frames(&wire.SleepCommand{ResultCompletionID: 1})},
			code: CodeProtocolViolation, text: "SleepCommandMessage after the replayed journal"},
		{name: "command while processing", before: takeInput, feed: [][]byte{started, frames(runCmd(1, ""))},
			code: CodeProtocolViolation, text: "RunCommandMessage after the replayed journal"},
		{name: "ack on V5/V6", versions: []wire.Version{wire.V5, wire.V6},
			feed: [][]byte{started, frames(&wire.ProposeRunCompletionAckMessage{CompletionID: 1})},
			code: CodeProtocolViolation, text: "not part of protocol"},
		{name: "ack while waiting entries", versions: []wire.Version{wire.V7},
			feed: [][]byte{frames(startMsg(3), inputCmd(""), runCmd(1, ""), &wire.ProposeRunCompletionAckMessage{CompletionID: 1})},
			code: CodeProtocolViolation, text: "while waiting for the replayed journal"},
		{name: "ack while replaying", versions: []wire.Version{wire.V7},
			feed: [][]byte{frames(startMsg(2), inputCmd(""), runCmd(1, ""), &wire.ProposeRunCompletionAckMessage{CompletionID: 1})},
			code: CodeProtocolViolation, text: "while replaying"},
		{name: "ack without a proposal", versions: []wire.Version{wire.V7}, before: takeInput,
			feed: [][]byte{started, frames(&wire.ProposeRunCompletionAckMessage{CompletionID: 1})},
			code: CodeProtocolViolation, text: "completion 1, which has no pending proposal"},
		{name: "unknown message type", feed: [][]byte{started, rawFrame(0x0FFF, nil)},
			code: CodeProtocolViolation, text: "unexpected message type Type(0xfff)"},
		{name: "custom entry type", feed: [][]byte{started, rawFrame(0xFC01, []byte{1, 2})},
			code: CodeProtocolViolation, text: "unexpected message type"},
		{name: "malformed payload", feed: [][]byte{started, rawFrame(wire.TypeSleepCompletion, []byte{0x08})},
			code: CodeProtocolViolation, text: "malformed SleepCompletionNotificationMessage"},
		{name: "notification without a result", feed: [][]byte{started, rawFrame(wire.TypeSleepCompletion, []byte{0x08, 0x01})},
			code: CodeProtocolViolation, text: "malformed"},
		{name: "frame over the length limit", opts: Options{MaxFrameLength: 16},
			feed: [][]byte{frames(startMsg(1))},
			code: CodeProtocolViolation, text: "malformed frame from the runtime"},
		{name: "suspension from the runtime", feed: [][]byte{started, frames(&wire.SuspensionMessage{WaitingCompletions: ids(1)})},
			code: CodeProtocolViolation, text: "unexpected SuspensionMessage"},
		{name: "end from the runtime", feed: [][]byte{started, frames(&wire.EndMessage{})},
			code: CodeProtocolViolation, text: "unexpected EndMessage"},
		{name: "error from the runtime", feed: [][]byte{started, frames(&wire.ErrorMessage{Code: 500})},
			code: CodeProtocolViolation, text: "unexpected ErrorMessage"},
		{name: "proposal from the runtime", feed: [][]byte{started, frames(&wire.ProposeRunCompletionMessage{ResultCompletionID: 1, Result: val("")})},
			code: CodeProtocolViolation, text: "unexpected ProposeRunCompletionMessage"},
		{name: "awaiting-on from the runtime", feed: [][]byte{started, frames(&wire.AwaitingOnMessage{})},
			code: CodeProtocolViolation, text: "unexpected AwaitingOnMessage"},
		{name: "input closed in the middle of a frame", feed: [][]byte{started, frames(sleepDone(1))[:5]}, close: true,
			code: CodeProtocolViolation, text: "input closed in the middle of a frame"},
		{name: "journal without commands", feed: [][]byte{frames(startMsg(1), sleepDone(1))},
			code: CodeProtocolViolation, text: "no input command"},
	}
	for _, c := range cases {
		versions := c.versions
		if versions == nil {
			versions = allVersions
		}
		for _, v := range versions {
			t.Run(fmt.Sprintf("%s/%s", c.name, v), func(t *testing.T) {
				t.Parallel()
				m := New(v, c.opts)
				var err error
				for i, chunk := range c.feed {
					if err = m.FeedBytes(chunk); err != nil {
						break
					}
					if i == 0 && c.before != nil && m.Ready() {
						if err = c.before(m); err != nil {
							t.Fatalf("before: %v", err)
						}
					}
				}
				if c.close && err == nil {
					err = m.CloseInput()
				}
				var e *Error
				if !errors.As(err, &e) || e.Code != c.code {
					t.Fatalf("got %v, want an *Error with code %d", err, c.code)
				}
				if !strings.Contains(e.Message, c.text) {
					t.Errorf("message %q does not mention %q", e.Message, c.text)
				}
				got := decodeFrames(t, m.TakeOutput())
				want := expectFor(v, append(c.prefix, o(&wire.ErrorMessage{Code: uint32(c.code), Message: e.Message})))
				if diff := diffFrames(want, got); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
				if !m.Closed() || !errors.Is(m.Err(), e) {
					t.Errorf("Closed() %v, Err() %v", m.Closed(), m.Err())
				}
				// Nothing more is read, nor written.
				if err := m.FeedBytes(started); err != nil {
					t.Errorf("FeedBytes after the failure: %v", err)
				}
				if err := m.CloseInput(); err != nil {
					t.Errorf("CloseInput after the failure: %v", err)
				}
				if m.HasOutput() {
					t.Errorf("output after the failure: %x", m.TakeOutput())
				}
			})
		}
	}
}

// TestFeedDirect covers Feed with decoded messages, which skips the frame
// checks.
func TestFeedDirect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		msg  wire.Message
	}{
		{"notification without id", &wire.Notification{MessageType: wire.TypeSleepCompletion, Result: void()}},
		{"notification without result", &wire.Notification{MessageType: wire.TypeSleepCompletion, ID: wire.CompletionID(1)}},
		{"ack on V6", &wire.ProposeRunCompletionAckMessage{CompletionID: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := New(wire.V6, Options{})
			if err := m.Feed(startMsg(1)); err != nil {
				t.Fatal(err)
			}
			if err := m.Feed(inputCmd("")); err != nil {
				t.Fatal(err)
			}
			if !m.Ready() {
				t.Fatal("not ready")
			}
			err := m.Feed(tc.msg)
			if !errors.Is(err, &Error{Code: CodeProtocolViolation}) {
				t.Fatalf("Feed: %v, want 571", err)
			}
		})
	}
}

func TestCommandAckIgnored(t *testing.T) {
	t.Parallel()
	m := New(wire.V7, Options{})
	if err := m.FeedBytes(frames(startMsg(1), inputCmd("x"), &wire.CommandAckMessage{CommandIndex: 3})); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Input(); err != nil {
		t.Fatal(err)
	}
	if m.HasOutput() || m.Closed() {
		t.Fatal("CommandAckMessage had an effect")
	}
}

func TestNotReady(t *testing.T) {
	t.Parallel()
	m := New(wire.V6, Options{})
	if m.Ready() || m.Replaying() || m.Closed() || m.Err() != nil || m.CommandIndex() != -1 {
		t.Fatal("fresh machine state")
	}
	if _, err := m.Input(); err == nil || m.Closed() {
		t.Fatalf("Input before the start: %v, closed %v", err, m.Closed())
	}
	if err := m.FeedBytes(frames(startMsg(2), inputCmd(""))); err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetState("k"); err == nil || !strings.Contains(err.Error(), "before the journal was replayed") {
		t.Fatalf("GetState while waiting entries: %v", err)
	}
	if _, err := m.Await(Single(CancelHandle)); err == nil {
		t.Fatal("Await while waiting entries succeeded")
	}
	if m.HasOutput() || m.Closed() {
		t.Fatal("calls before the replay wrote output or closed the attempt")
	}
}

func TestInputTwice(t *testing.T) {
	t.Parallel()
	for _, journal := range [][]wire.Message{nil, {&wire.SleepCommand{ResultCompletionID: 1}}} {
		m := New(wire.V6, Options{})
		if err := m.FeedBytes(encode(append([]wire.Message{startMsg(uint32(1 + len(journal))), inputCmd("")}, journal...)...)); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Input(); err != nil {
			t.Fatal(err)
		}
		_, err := m.Input()
		if !errors.Is(err, &Error{Code: CodeInternal}) || !strings.Contains(err.Error(), "already taken") {
			t.Errorf("second Input with %d journaled commands: %v", len(journal), err)
		}
	}
}

func TestEmptySuspension(t *testing.T) {
	t.Parallel()
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			m := New(v, Options{DisableImplicitCancellation: true})
			if err := m.FeedBytes(frames(startMsg(1), inputCmd(""))); err != nil {
				t.Fatal(err)
			}
			if err := m.CloseInput(); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Input(); err != nil {
				t.Fatal(err)
			}
			// Nothing to wait for: a first-completed future without leaves,
			// also nested.
			_, err := m.Await(Future{Combinator: firstCompleted, Children: []Future{{Combinator: firstCompleted}}})
			if !errors.Is(err, &Error{Code: CodeInternal}) {
				t.Fatalf("Await on an empty future: %v, want 500", err)
			}
			got := decodeFrames(t, m.TakeOutput())
			if diff := diffFrames(expectFor(v, []out{errorOut(CodeInternal)}), got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFail(t *testing.T) {
	t.Parallel()
	related := uint32(4)
	runJournalCases(t, []journalCase{
		{
			name: "retryable failure with related command and delay",
			handler: func(s *script) {
				s.input()
				err := s.m.Fail(&Error{Code: 500, Message: "my-error", Stacktrace: "trace",
					RelatedIndex: &related, RelatedName: "step", RelatedType: wire.TypeCallCommand,
					NextRetryDelay: 10_000_000_000})
				s.fails(err, 500)
			},
			want: []out{o(&wire.ErrorMessage{
				Code: 500, Message: "my-error", Stacktrace: "trace",
				RelatedCommandIndex: wire.Uint32(4), RelatedCommandName: wire.String("step"),
				RelatedCommandType: wire.Uint32(uint32(wire.TypeCallCommand)), NextRetryDelay: wire.Uint64(10_000),
			})},
		},
		{
			name: "related index without name or type",
			handler: func(s *script) {
				s.input()
				s.fails(s.m.Fail(&Error{Code: 500, Message: "e", RelatedIndex: &related}), 500)
			},
			want: []out{o(&wire.ErrorMessage{Code: 500, Message: "e", RelatedCommandIndex: wire.Uint32(4)})},
		},
		{
			name:     "pause",
			versions: []wire.Version{wire.V7},
			handler: func(s *script) {
				s.input()
				s.fails(s.m.Fail(&Error{Code: 500, Message: "please pause", Behavior: wire.BehaviorPause}), 500)
			},
			want: []out{o(&wire.ErrorMessage{Code: 500, Message: "please pause", Behavior: wire.BehaviorPause})},
		},
		{
			name:     "fail terminally",
			versions: []wire.Version{wire.V7},
			handler: func(s *script) {
				s.input()
				s.fails(s.m.Fail(&Error{Code: 500, Message: "stop", Behavior: wire.BehaviorFail}), 500)
			},
			want: []out{o(&wire.ErrorMessage{Code: 500, Message: "stop", Behavior: wire.BehaviorFail})},
		},
		{
			name:     "pause before V7 is unsupported",
			versions: []wire.Version{wire.V5, wire.V6},
			handler: func(s *script) {
				s.input()
				s.fails(s.m.Fail(&Error{Code: 500, Message: "please pause", Behavior: wire.BehaviorPause}), CodeUnsupportedFeature)
			},
			want: []out{errorOut(CodeUnsupportedFeature)},
		},
		{
			name:     "fail before V7 is unsupported",
			versions: []wire.Version{wire.V5, wire.V6},
			handler: func(s *script) {
				s.input()
				s.fails(s.m.Fail(&Error{Code: 500, Message: "stop", Behavior: wire.BehaviorFail}), CodeUnsupportedFeature)
			},
			want: []out{errorOut(CodeUnsupportedFeature)},
		},
	})
}

// TestClosed checks the closed state: after End, a suspension or a
// failure, every method returns the closing error and nothing more is
// written (G13).
func TestClosed(t *testing.T) {
	t.Parallel()
	closers := []struct {
		name  string
		close func(s *script)
		err   error
	}{
		{"end", func(s *script) { s.finish(val("")) }, ErrClosed},
		{"suspension", func(s *script) { s.suspends(Single(s.sleep(""))) }, ErrSuspended},
		{"failure", func(s *script) { s.m.Fail(&Error{Code: 500, Message: "x"}) }, &Error{Code: 500}},
		{"journal mismatch", func(s *script) { s.m.ClearState("k") }, &Error{Code: CodeJournalMismatch}},
	}
	target := wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "inv"}
	calls := map[string]func(m *Machine) error{
		"Input":               func(m *Machine) error { _, err := m.Input(); return err },
		"GetState":            func(m *Machine) error { _, err := m.GetState("k"); return err },
		"GetStateKeys":        func(m *Machine) error { _, err := m.GetStateKeys(); return err },
		"SetState":            func(m *Machine) error { return m.SetState("k", nil) },
		"ClearState":          func(m *Machine) error { return m.ClearState("k") },
		"ClearAllState":       func(m *Machine) error { return m.ClearAllState() },
		"Sleep":               func(m *Machine) error { _, err := m.Sleep(1, ""); return err },
		"GetPromise":          func(m *Machine) error { _, err := m.GetPromise("p"); return err },
		"PeekPromise":         func(m *Machine) error { _, err := m.PeekPromise("p"); return err },
		"CompletePromise":     func(m *Machine) error { _, err := m.CompletePromise("p", val("")); return err },
		"Run":                 func(m *Machine) error { _, _, err := m.Run("r"); return err },
		"ProposeRun":          func(m *Machine) error { return m.ProposeRun(1, RunOutcome{Result: val("")}, RetryPolicy{}) },
		"Call":                func(m *Machine) error { _, _, err := m.Call(greeter, nil); return err },
		"Send":                func(m *Machine) error { _, err := m.Send(greeter, nil, 0); return err },
		"CancelInvocation":    func(m *Machine) error { return m.CancelInvocation("inv") },
		"SendSignal":          func(m *Machine) error { return m.SendSignal("inv", "s", val("")) },
		"Attach":              func(m *Machine) error { _, err := m.Attach(target); return err },
		"GetInvocationOutput": func(m *Machine) error { _, err := m.GetInvocationOutput(target); return err },
		"Awakeable":           func(m *Machine) error { _, _, err := m.Awakeable(); return err },
		"CompleteAwakeable":   func(m *Machine) error { return m.CompleteAwakeable("sign_1", val("")) },
		"Signal":              func(m *Machine) error { _, err := m.Signal("s"); return err },
		"Output":              func(m *Machine) error { return m.Output(val("")) },
		"End":                 func(m *Machine) error { return m.End() },
		"Await":               func(m *Machine) error { _, err := m.Await(Single(CancelHandle)); return err },
		"Fail":                func(m *Machine) error { return m.Fail(&Error{Code: 500, Message: "again"}) },
	}
	for _, c := range closers {
		for _, v := range allVersions {
			t.Run(fmt.Sprintf("%s/%s", c.name, v), func(t *testing.T) {
				t.Parallel()
				m := New(v, Options{})
				journal := frames(startMsg(1), inputCmd(""))
				if c.name == "journal mismatch" {
					journal = frames(startMsg(2), inputCmd(""), &wire.SetStateCommand{Key: []byte("k"), Value: []byte("v")})
				}
				if err := m.FeedBytes(journal); err != nil {
					t.Fatal(err)
				}
				if err := m.CloseInput(); err != nil {
					t.Fatal(err)
				}
				s := &script{t: t, m: m, v: v}
				s.input()
				c.close(s)
				if !m.Closed() || !errors.Is(m.Err(), c.err) {
					t.Fatalf("Closed() %v, Err() %v; want %v", m.Closed(), m.Err(), c.err)
				}
				m.TakeOutput()
				for name, call := range calls {
					if err := call(m); !errors.Is(err, c.err) {
						t.Errorf("%s after %s: %v, want %v", name, c.name, err, c.err)
					}
				}
				for _, msg := range []wire.Message{sleepDone(1), cancelSignal(), &wire.ProposeRunCompletionAckMessage{CompletionID: 1}, runCmd(1, "")} {
					if err := m.Feed(msg); err != nil {
						t.Errorf("Feed(%s) after %s: %v", msg.Type(), c.name, err)
					}
				}
				if err := m.FeedBytes(rawFrame(0x0FFF, nil)); err != nil {
					t.Errorf("FeedBytes after %s: %v", c.name, err)
				}
				if err := m.CloseInput(); err != nil {
					t.Errorf("CloseInput after %s: %v", c.name, err)
				}
				if m.HasOutput() {
					t.Errorf("frames written after %s: %v", c.name, decodeFrames(t, m.TakeOutput()))
				}
			})
		}
	}
}
