package replay

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/qcodr/restate-sdk-go/wire"
)

// This file holds the harness the journal tests share: builders for the
// messages the runtime sends, a script type wrapping the handler-side calls
// of a Machine, and the comparison of the engine's output frames.

var allVersions = []wire.Version{wire.V5, wire.V6, wire.V7}

// The invocation of PROTOCOL.md §12: 24-byte binary id and its printable id.
var (
	exampleID      = mustHex("000000000000002a0196f1c2a3b4c5d6e7f8091a2b3c4d5e")
	exampleDebugID = "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// ---------------------------------------------------------------------------
// Message builders

func startMsg(known uint32) *wire.StartMessage {
	return &wire.StartMessage{ID: exampleID, DebugID: exampleDebugID, KnownEntries: known, PartialState: true}
}

func inputCmd(v string) *wire.InputCommand { return &wire.InputCommand{Value: []byte(v)} }

func val(s string) wire.Result { return wire.ValueResult([]byte(s)) }

func void() wire.Result { return wire.VoidResult() }

func failure(code uint32, msg string) wire.Result { return wire.FailureResult(code, msg) }

func completion(t wire.Type, c uint32, r wire.Result) *wire.Notification {
	return &wire.Notification{MessageType: t, ID: wire.CompletionID(c), Result: r}
}

func sleepDone(c uint32) *wire.Notification {
	return completion(wire.TypeSleepCompletion, c, void())
}

func runDone(c uint32, r wire.Result) *wire.Notification {
	return completion(wire.TypeRunCompletion, c, r)
}

func callDone(c uint32, r wire.Result) *wire.Notification {
	return completion(wire.TypeCallCompletion, c, r)
}

func invocationIDDone(c uint32, id string) *wire.Notification {
	return completion(wire.TypeCallInvocationIDCompletion, c, wire.Result{Kind: wire.ResultInvocationID, InvocationID: id})
}

func lazyStateDone(c uint32, r wire.Result) *wire.Notification {
	return completion(wire.TypeGetLazyStateCompletion, c, r)
}

func signalDone(id uint32, r wire.Result) *wire.Notification {
	return &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(id), Result: r}
}

func namedSignalDone(name string, r wire.Result) *wire.Notification {
	return &wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.NamedSignalID(name), Result: r}
}

func cancelSignal() *wire.Notification { return signalDone(wire.SignalCancel, void()) }

func stateKeys(keys ...string) wire.Result {
	r := wire.Result{Kind: wire.ResultStateKeys}
	for _, k := range keys {
		r.StateKeys = append(r.StateKeys, []byte(k))
	}
	return r
}

func cancelCmd(target string) *wire.SendSignalCommand {
	return &wire.SendSignalCommand{TargetInvocationID: target, Idx: wire.SignalCancel, Result: void()}
}

// future builds a wire.Future for expectations.
func future(comb wire.CombinatorType, completions, signals []uint32, named []string, nested ...wire.Future) wire.Future {
	return wire.Future{
		CombinatorType:      comb,
		WaitingCompletions:  completions,
		WaitingSignals:      signals,
		WaitingNamedSignals: named,
		NestedFutures:       nested,
	}
}

func ids(v ...uint32) []uint32 { return v }

// encode returns msgs as frames.
func encode(msgs ...wire.Message) []byte {
	var b []byte
	for _, m := range msgs {
		b = wire.AppendFrame(b, m, 0)
	}
	return b
}

// ---------------------------------------------------------------------------
// Expected output

// out is one expected output frame. Some expectations depend on the
// protocol version; they are normalised by [expectFor].
type out struct {
	msg   wire.Message
	flags uint16
	// ackOnV7: REQUESTED_ACK is set on V7 and clear on V5/V6.
	ackOnV7 bool
	// v7Only: the frame is expected on V7 only (AwaitingOnMessage).
	v7Only bool
}

func o(msg wire.Message) out { return out{msg: msg} }

func end() out { return o(&wire.EndMessage{}) }

func output(r wire.Result) out { return o(&wire.OutputCommand{Result: r}) }

// propose is a ProposeRunCompletionMessage, with REQUESTED_ACK on V7.
func propose(c uint32, r wire.Result) out {
	return out{msg: &wire.ProposeRunCompletionMessage{ResultCompletionID: c, Result: r}, ackOnV7: true}
}

// suspension expects the V7 tree on V7 and its flattened lists on V5/V6.
func suspension(tree wire.Future) out {
	return o(&wire.SuspensionMessage{AwaitingOn: &tree})
}

// suspendedOn is the suspension of an await on one completion (plus the
// implicit cancel signal).
func suspendedOn(c uint32) out {
	return suspension(future(wire.CombinatorFirstCompleted, ids(c), ids(wire.SignalCancel), nil))
}

// awaitingOn is a V7 AwaitingOnMessage; on V5/V6 nothing is expected.
func awaitingOn(tree wire.Future) out {
	return out{msg: &wire.AwaitingOnMessage{AwaitingOn: &tree}, v7Only: true}
}

// errorOut expects an ErrorMessage with code; its text is not compared (see
// [diffFrames]).
func errorOut(code uint16) out {
	return o(&wire.ErrorMessage{Code: uint32(code)})
}

type frame struct {
	Flags uint16
	Msg   wire.Message
}

func flattenExpected(f *wire.Future, s *wire.SuspensionMessage) {
	s.WaitingCompletions = append(s.WaitingCompletions, f.WaitingCompletions...)
	s.WaitingSignals = append(s.WaitingSignals, f.WaitingSignals...)
	s.WaitingNamedSignals = append(s.WaitingNamedSignals, f.WaitingNamedSignals...)
	for i := range f.NestedFutures {
		flattenExpected(&f.NestedFutures[i], s)
	}
}

// expectFor normalises the expected frames for version v.
func expectFor(v wire.Version, want []out) []frame {
	frames := make([]frame, 0, len(want))
	for _, w := range want {
		if w.v7Only && v < wire.V7 {
			continue
		}
		f := frame{Flags: w.flags, Msg: w.msg}
		if w.ackOnV7 && v >= wire.V7 {
			f.Flags |= wire.FlagRequestedAck
		}
		if s, ok := w.msg.(*wire.SuspensionMessage); ok && s.AwaitingOn != nil && v < wire.V7 {
			var flat wire.SuspensionMessage
			flattenExpected(s.AwaitingOn, &flat)
			f.Msg = &flat
		}
		frames = append(frames, f)
	}
	return frames
}

// decodeFrames decodes an output buffer into frames.
func decodeFrames(t testing.TB, b []byte) []frame {
	t.Helper()
	d := wire.NewDecoder(0)
	d.Write(b)
	var frames []frame
	for {
		f, ok, err := d.Next()
		if err != nil {
			t.Fatalf("engine output does not decode: %v", err)
		}
		if !ok {
			break
		}
		msg, err := f.Decode()
		if err != nil {
			t.Fatalf("engine output frame %s does not decode: %v", f.Header.Type, err)
		}
		frames = append(frames, frame{Flags: f.Header.Flags, Msg: msg})
	}
	if err := d.Finish(); err != nil {
		t.Fatalf("engine output ends inside a frame: %v", err)
	}
	return frames
}

var cmpOpts = cmp.Options{cmpopts.EquateEmpty()}

// diffFrames compares expected and actual frames. The text of an expected
// ErrorMessage whose Message is empty is not compared (only its code and
// related-command fields are), nor its stack trace.
func diffFrames(want, got []frame) string {
	got = append([]frame(nil), got...)
	for i := range got {
		if i >= len(want) {
			break
		}
		we, ok1 := want[i].Msg.(*wire.ErrorMessage)
		ge, ok2 := got[i].Msg.(*wire.ErrorMessage)
		if ok1 && ok2 {
			c := *ge
			if we.Message == "" {
				c.Message = ""
			}
			if we.Stacktrace == "" {
				c.Stacktrace = ""
			}
			got[i].Msg = &c
		}
	}
	return cmp.Diff(want, got, cmpOpts)
}

// ---------------------------------------------------------------------------
// Script: the handler side

// script drives the handler-side API of a Machine. Its helpers fail the
// test on unexpected errors; call s.m directly to test an error.
type script struct {
	t testing.TB
	m *Machine
	v wire.Version
}

func (s *script) ok(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("unexpected engine error: %v", err)
	}
}

func (s *script) input() Input {
	s.t.Helper()
	in, err := s.m.Input()
	s.ok(err)
	return in
}

func (s *script) getState(key string) Handle {
	s.t.Helper()
	h, err := s.m.GetState(key)
	s.ok(err)
	return h
}

func (s *script) stateKeys() Handle {
	s.t.Helper()
	h, err := s.m.GetStateKeys()
	s.ok(err)
	return h
}

func (s *script) sleep(name string) Handle {
	s.t.Helper()
	h, err := s.m.Sleep(1_000, name)
	s.ok(err)
	return h
}

func (s *script) run(name string) (Handle, bool) {
	s.t.Helper()
	h, exec, err := s.m.Run(name)
	s.ok(err)
	return h, exec
}

func (s *script) call(t CallTarget, param string) (Handle, Handle) {
	s.t.Helper()
	id, res, err := s.m.Call(t, []byte(param))
	s.ok(err)
	return id, res
}

func (s *script) awakeable() (Handle, string) {
	s.t.Helper()
	h, id, err := s.m.Awakeable()
	s.ok(err)
	return h, id
}

func (s *script) propose(h Handle, o RunOutcome, p RetryPolicy) {
	s.t.Helper()
	s.ok(s.m.ProposeRun(h, o, p))
}

// awaitStatus awaits f and checks the status.
func (s *script) awaitStatus(f Future, want Status) AwaitResult {
	s.t.Helper()
	res, err := s.m.Await(f)
	s.ok(err)
	if res.Status != want {
		s.t.Fatalf("Await: status %v, want %v", res.Status, want)
	}
	return res
}

// ready awaits f and expects it to be resolved.
func (s *script) ready(f Future) { s.t.Helper(); s.awaitStatus(f, StatusReady) }

// take returns the result of a resolved handle.
func (s *script) take(h Handle) wire.Result {
	s.t.Helper()
	r, ok := s.m.Take(h)
	if !ok {
		s.t.Fatalf("Take(%d): handle %s is not resolved", h, s.m.NotificationID(h))
	}
	return r
}

// get awaits a single handle and takes its result.
func (s *script) get(h Handle) wire.Result {
	s.t.Helper()
	s.ready(Single(h))
	return s.take(h)
}

// suspends awaits f and expects the engine to suspend.
func (s *script) suspends(f Future) {
	s.t.Helper()
	res, err := s.m.Await(f)
	if !errors.Is(err, ErrSuspended) {
		s.t.Fatalf("Await: got %v, %v; want ErrSuspended", res, err)
	}
}

// fails checks that err is an *Error with code.
func (s *script) fails(err error, code uint16) *Error {
	s.t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		s.t.Fatalf("got error %v, want an *Error with code %d", err, code)
	}
	return e
}

func (s *script) output(r wire.Result) { s.t.Helper(); s.ok(s.m.Output(r)) }

func (s *script) end() { s.t.Helper(); s.ok(s.m.End()) }

// finish writes r as the output and ends the attempt.
func (s *script) finish(r wire.Result) {
	s.t.Helper()
	s.output(r)
	s.end()
}

func (s *script) feed(msgs ...wire.Message) {
	s.t.Helper()
	s.ok(s.m.FeedBytes(encode(msgs...)))
}

func (s *script) closeInput() { s.t.Helper(); s.ok(s.m.CloseInput()) }

// expectValue checks that r is a value result holding want.
func (s *script) expectValue(r wire.Result, want string) {
	s.t.Helper()
	if diff := cmp.Diff(val(want), r, cmpOpts); diff != "" {
		s.t.Fatalf("result (-want +got):\n%s", diff)
	}
}

func (s *script) expectResult(r, want wire.Result) {
	s.t.Helper()
	if diff := cmp.Diff(want, r, cmpOpts); diff != "" {
		s.t.Fatalf("result (-want +got):\n%s", diff)
	}
}

// ---------------------------------------------------------------------------
// Journal cases

// journalCase is one table-driven journal test: the runtime sends a
// StartMessage, the input command, the journal and later notifications; the
// handler script runs; the output frames are compared.
type journalCase struct {
	name     string
	versions []wire.Version // nil: V5, V6 and V7
	opts     Options
	// start is the StartMessage; KnownEntries is filled in (input command
	// plus journal) unless set.
	start *wire.StartMessage
	// journal follows the input command (commands and notifications).
	journal []wire.Message
	// later are notifications sent after the replayed journal, before the
	// handler runs.
	later []wire.Message
	// open keeps the request body open (bidi); by default the input is
	// closed before the handler runs, as in request/response mode.
	open    bool
	handler func(s *script)
	want    []out
	// end is the error that closed the attempt: ErrClosed after End (the
	// default when want ends with EndMessage), ErrSuspended, or an *Error
	// matched by code. nil: not checked.
	end error
}

func runJournalCases(t *testing.T, cases []journalCase) {
	t.Helper()
	for _, c := range cases {
		versions := c.versions
		if versions == nil {
			versions = allVersions
		}
		for _, v := range versions {
			t.Run(fmt.Sprintf("%s/%s", c.name, v), func(t *testing.T) {
				t.Parallel()
				runJournalCase(t, v, c)
			})
		}
	}
}

func runJournalCase(t *testing.T, v wire.Version, c journalCase) {
	t.Helper()
	start := startMsg(0)
	if c.start != nil {
		cp := *c.start
		start = &cp
	}
	if start.KnownEntries == 0 {
		start.KnownEntries = uint32(1 + len(c.journal))
	}
	m := New(v, c.opts)
	msgs := append([]wire.Message{start, inputCmd("in")}, c.journal...)
	msgs = append(msgs, c.later...)
	if err := m.FeedBytes(encode(msgs...)); err != nil {
		t.Fatalf("feeding the journal: %v", err)
	}
	if !m.Ready() {
		t.Fatalf("engine not ready after the journal")
	}
	if !c.open {
		if err := m.CloseInput(); err != nil {
			t.Fatalf("CloseInput: %v", err)
		}
	}
	s := &script{t: t, m: m, v: v}
	c.handler(s)
	if diff := diffFrames(expectFor(v, c.want), decodeFrames(t, m.TakeOutput())); diff != "" {
		t.Errorf("output frames (-want +got):\n%s", diff)
	}
	wantEnd := c.end
	if wantEnd == nil && len(c.want) > 0 {
		switch c.want[len(c.want)-1].msg.(type) {
		case *wire.EndMessage:
			wantEnd = ErrClosed
		case *wire.SuspensionMessage:
			wantEnd = ErrSuspended
		case *wire.ErrorMessage:
			wantEnd = &Error{Code: uint16(c.want[len(c.want)-1].msg.(*wire.ErrorMessage).Code)}
		}
	}
	if wantEnd != nil && !errors.Is(m.Err(), wantEnd) {
		t.Errorf("Err() = %v, want %v", m.Err(), wantEnd)
	}
	if wantEnd != nil && !m.Closed() {
		t.Errorf("the attempt is not closed")
	}
}

// millis is a duration in whole milliseconds for retry delays.
func millis(d time.Duration) *uint64 { return wire.Uint64(uint64(d / time.Millisecond)) }
