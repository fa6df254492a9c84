package props_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/qcodr/restate-sdk-go/internal/sim"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
	"pgregory.net/rapid"
)

// The engine's own properties, as a rapid state machine over replay.Machine
// with a simple model. The "handler" is a program that grows one operation
// at a time and is re-executed from the start on every attempt, as a
// deterministic handler is; the runtime side stores completions in any
// order, closes bidi streams, and restarts attempts with any prefix of the
// journal (a crash), in request/response or bidi mode, with eager, lazy or
// partial state. The model predicts every command and completion id the
// engine writes, and every await's outcome from the notifications applied
// one at a time in journal order. Implicit cancellation is off here; the
// handler properties in handlers_test.go cover it.

// TestEngineStateMachine checks the engine against the model under
// `go test`; `make props CHECKS=n` runs it long.
func TestEngineStateMachine(t *testing.T) {
	t.Parallel()
	rapid.Check(t, engineProperty)
}

// FuzzEngineStateMachine is the same property as a fuzz target. Its seeds
// run under `go test`.
func FuzzEngineStateMachine(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(rapid.MakeFuzz(engineProperty))
}

// fuzzSeeds returns fuzz inputs that rapid does not run out of: all zeros
// (the simplest choice everywhere) and pseudo-random bytes. They are short
// enough for the fuzzer to minimize new inputs quickly.
func fuzzSeeds() [][]byte {
	seeds := [][]byte{make([]byte, 1<<10)}
	for s := range uint64(4) {
		b := make([]byte, 16<<10)
		x := s*0x9e3779b97f4a7c15 + 1
		for i := range b {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b[i] = byte(x)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

func engineProperty(t *rapid.T) {
	s := &engineSM{
		t:       t,
		version: rapid.SampledFrom([]wire.Version{wire.V5, wire.V6, wire.V7}).Draw(t, "protocol"),
		answers: map[wire.NotificationID]wire.Result{},
		initial: map[string][]byte{},
	}
	for _, k := range []string{"a", "b"} {
		if rapid.Bool().Draw(t, "initial state "+k) {
			s.initial[k] = []byte(rapid.StringMatching(`[0-9]{1,2}`).Draw(t, "value of "+k))
		}
	}
	s.journal = []wire.Message{&wire.InputCommand{Value: []byte("in")}}
	s.restart(false)
	t.Repeat(map[string]func(*rapid.T){
		"operation": s.operation,
		"complete":  s.complete,
		"close":     s.close,
		"restart":   func(t *rapid.T) { s.restart(true) },
		"finish":    s.finish,
		"":          s.check,
	})
}

type opKind uint8

const (
	opGetState opKind = iota
	opSetState
	opClearState
	opClearAll
	opKeys
	opSleep
	opRun
	opCall
	opSend
	opAwakeable
	opSignal
	opPromise
	opPeek
	opAttach
	opResolveAwakeable
	opAwait
	opOutput
	numCommandOps = opAwait
)

func (k opKind) handles() int {
	switch k {
	case opCall:
		return 2
	case opGetState, opKeys, opSleep, opRun, opSend, opAwakeable, opSignal, opPromise, opPeek, opAttach:
		return 1
	}
	return 0
}

// op is one operation of the program.
type op struct {
	kind  opKind
	key   string
	value []byte
	tree  *awaitTree  // opAwait
	run   wire.Result // opRun: what the closure returns when it executes
}

// awaitTree is a future over program handles (indexes in creation order).
type awaitTree struct {
	comb   wire.CombinatorType
	leaves []int
	kids   []awaitTree
}

// model is the model of one attempt's engine.
type model struct {
	queue   []wire.Notification
	ready   map[wire.NotificationID]wire.Result
	replay  []wire.Message // journaled commands not replayed yet
	ids     []wire.NotificationID
	runs    map[int]bool // program handles of runs to execute
	nextC   uint32
	nextS   uint32
	eager   map[string]*[]byte // nil value: known absent
	partial bool
	closed  bool // input closed
}

type proposal struct {
	id     uint32
	result wire.Result
}

type engineSM struct {
	t       *rapid.T
	version wire.Version
	initial map[string][]byte
	prog    []op
	journal []wire.Message
	answers map[wire.NotificationID]wire.Result
	// expected are the completions the runtime may store: notifications of
	// journaled commands and of signals the program created, in order.
	expected []wire.Notification
	// proposals of the current attempt, not stored yet.
	proposals []proposal

	// The current attempt.
	m       *replay.Machine
	md      *model
	hs      []replay.Handle
	pc      int
	bidi    bool
	blocked bool // prog[pc] is an await waiting for input
	over    bool // the attempt suspended or ended
	trace   []string
}

func (s *engineSM) logf(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf(format, args...))
}

func (s *engineSM) fatalf(format string, args ...any) {
	s.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, format, args...)
	b.WriteString("\nprotocol " + s.version.String() + "\ntrace:\n")
	for _, l := range s.trace {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("journal:\n")
	for i, e := range s.journal {
		fmt.Fprintf(&b, "    %2d %s\n", i, sim.Describe(e))
	}
	s.t.Fatalf("%s", b.String())
}

func (s *engineSM) ended() bool {
	return len(s.prog) > 0 && s.prog[len(s.prog)-1].kind == opOutput
}

func (s *engineSM) known() map[wire.NotificationID]bool {
	have := map[wire.NotificationID]bool{}
	for _, e := range s.journal {
		if n, ok := e.(*wire.Notification); ok {
			have[n.ID] = true
		}
	}
	return have
}

// stateAt returns the state after the journal's first n entries.
func (s *engineSM) stateAt(n int) map[string][]byte {
	state := maps.Clone(s.initial)
	for _, e := range s.journal[:n] {
		switch c := e.(type) {
		case *wire.SetStateCommand:
			state[string(c.Key)] = c.Value
		case *wire.ClearStateCommand:
			delete(state, string(c.Key))
		case *wire.ClearAllStateCommand:
			clear(state)
		}
	}
	return state
}

// ---------------------------------------------------------------------------
// Attempts

func (s *engineSM) restart(crash bool) {
	t := s.t
	if crash {
		if len(s.proposals) > 0 && rapid.Bool().Draw(t, "store the proposals") {
			for _, p := range s.proposals {
				s.store(wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(p.id), Result: p.result})
			}
		}
		keep := rapid.IntRange(1, len(s.journal)).Draw(t, "journal entries kept")
		s.logf("restart keeping %d of %d journal entries", keep, len(s.journal))
		s.journal = s.journal[:keep]
	}
	s.proposals = nil
	s.bidi = rapid.Bool().Draw(t, "bidi")
	stateMode := rapid.IntRange(0, 2).Draw(t, "state mode")
	state := s.stateAt(len(s.journal))
	start := &wire.StartMessage{
		ID: []byte("engine-state-machine-id!"), DebugID: "inv_sm", KnownEntries: uint32(len(s.journal)),
		Key: "k", PartialState: stateMode != 0, RandomSeed: 7,
	}
	md := &model{ready: map[wire.NotificationID]wire.Result{}, runs: map[int]bool{}, nextC: 1, nextS: 17,
		eager: map[string]*[]byte{}, partial: stateMode != 0}
	for _, k := range slices.Sorted(maps.Keys(state)) {
		if stateMode == 1 || (stateMode == 2 && !rapid.Bool().Draw(t, "send "+k)) {
			continue
		}
		v := state[k]
		start.StateMap = append(start.StateMap, wire.StateEntry{Key: []byte(k), Value: v})
		md.eager[k] = &v
	}
	body := wire.AppendFrame(nil, start, 0)
	for _, e := range s.journal {
		body = wire.AppendFrame(body, e, 0)
		switch n := e.(type) {
		case *wire.Notification:
			md.queue = append(md.queue, *n)
		default:
			md.replay = append(md.replay, e)
		}
	}
	md.replay = md.replay[1:] // the input is taken first
	s.logf("attempt: %s, state mode %d, %d journal entries", map[bool]string{true: "bidi", false: "request/response"}[s.bidi], stateMode, len(s.journal))
	s.m = replay.New(s.version, replay.Options{DisableImplicitCancellation: true})
	if err := s.m.FeedBytes(body); err != nil || !s.m.Ready() {
		s.fatalf("the engine rejected the journal: %v", err)
	}
	if !s.bidi {
		_ = s.m.CloseInput()
		md.closed = true
	}
	if _, err := s.m.Input(); err != nil {
		s.fatalf("Input: %v", err)
	}
	s.md, s.hs, s.pc, s.blocked, s.over = md, nil, 0, false, false
	s.expected = nil
	have := s.known()
	for _, e := range s.journal {
		if n, ok := e.(*wire.Notification); ok && n.ID.Kind == wire.IDSignal {
			_ = have // signals of awakeables created in earlier attempts stay journaled
		}
	}
	s.runProgram()
}

// runProgram executes the program from pc until it blocks, the attempt is
// over, or the program ends.
func (s *engineSM) runProgram() {
	for !s.over && !s.blocked && s.pc < len(s.prog) {
		s.exec(s.prog[s.pc])
	}
}

// ---------------------------------------------------------------------------
// Actions

func (s *engineSM) operation(t *rapid.T) {
	if s.over || s.blocked || s.pc < len(s.prog) || s.ended() {
		t.Skip("the handler is not running new operations")
	}
	kind := opAwait
	if len(s.hs) == 0 || rapid.IntRange(0, 2).Draw(t, "await") < 2 {
		kind = opKind(rapid.IntRange(0, int(opAwait)-1).Draw(t, "operation"))
	}
	o := op{kind: kind}
	switch kind {
	case opGetState, opSetState, opClearState:
		o.key = rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "key")
		o.value = []byte(rapid.StringMatching(`[0-9]{1,2}`).Draw(t, "value"))
	case opSleep, opSend, opCall, opSignal, opPromise, opAttach, opPeek:
		o.key = rapid.SampledFrom([]string{"x", "y"}).Draw(t, "name")
		o.value = []byte(rapid.StringMatching(`[a-z]{0,3}`).Draw(t, "parameter"))
	case opRun:
		o.key = rapid.SampledFrom([]string{"", "r"}).Draw(t, "name")
		o.run = s.drawResult(t, "run result")
	case opResolveAwakeable:
		o.key = rapid.StringMatching(`sign_1[a-z]{2}`).Draw(t, "awakeable id")
	case opAwait:
		tree := s.drawTree(t, len(s.hs), 2)
		o.tree = &tree
	}
	s.prog = append(s.prog, o)
	s.exec(o)
	s.runProgram()
}

func (s *engineSM) drawTree(t *rapid.T, handles, depth int) awaitTree {
	tree := awaitTree{comb: wire.CombinatorType(rapid.IntRange(0, 4).Draw(t, "combinator"))}
	for range rapid.IntRange(1, 3).Draw(t, "leaves") {
		tree.leaves = append(tree.leaves, rapid.IntRange(0, handles-1).Draw(t, "leaf"))
	}
	if depth > 0 {
		for range rapid.IntRange(0, 1).Draw(t, "nested") {
			tree.kids = append(tree.kids, s.drawTree(t, handles, depth-1))
		}
	}
	return tree
}

func (s *engineSM) drawResult(t *rapid.T, label string) wire.Result {
	if rapid.IntRange(0, 3).Draw(t, label+" fails") == 3 {
		return wire.FailureResult(uint32(rapid.IntRange(400, 599).Draw(t, label+" code")), "failed")
	}
	return wire.ValueResult([]byte(rapid.StringMatching(`[0-9]{0,2}`).Draw(t, label)))
}

// pending returns what the runtime can store now.
func (s *engineSM) pending() []wire.Notification {
	have := s.known()
	var out []wire.Notification
	for _, n := range s.expected {
		if !have[n.ID] {
			have[n.ID] = true
			out = append(out, n)
		}
	}
	for _, p := range s.proposals {
		if id := wire.CompletionID(p.id); !have[id] {
			have[id] = true
			out = append(out, wire.Notification{MessageType: wire.TypeRunCompletion, ID: id, Result: p.result})
		}
	}
	return out
}

func (s *engineSM) store(n wire.Notification) {
	s.journal = append(s.journal, &n)
	s.logf("stored %s", sim.Describe(&n))
}

// complete stores one to three pending completions, in a drawn order, and
// sends them to an open stream before the handler looks again.
func (s *engineSM) complete(t *rapid.T) {
	pending := s.pending()
	if len(pending) == 0 {
		t.Skip("nothing to complete")
	}
	for range rapid.IntRange(1, min(3, len(pending))).Draw(t, "completions") {
		i := rapid.IntRange(0, len(pending)-1).Draw(t, "completion")
		n := pending[i]
		pending = slices.Delete(pending, i, i+1)
		s.store(n)
		isProposal := slices.ContainsFunc(s.proposals, func(p proposal) bool { return wire.CompletionID(p.id) == n.ID })
		s.proposals = slices.DeleteFunc(s.proposals, func(p proposal) bool { return wire.CompletionID(p.id) == n.ID })
		if s.over || !s.bidi || s.md.closed {
			continue
		}
		var msg wire.Message = &n
		if isProposal && s.version >= wire.V7 {
			msg = &wire.ProposeRunCompletionAckMessage{CompletionID: n.ID.Index}
		}
		if err := s.m.Feed(msg); err != nil {
			s.fatalf("Feed(%s): %v", sim.Describe(msg), err)
		}
		s.md.queue = append(s.md.queue, n)
	}
	if !s.over && s.blocked {
		s.blocked = false
		s.runProgram()
	}
}

func (s *engineSM) close(t *rapid.T) {
	if s.over || !s.bidi || s.md.closed {
		t.Skip("no open stream")
	}
	s.logf("closed the input")
	if err := s.m.CloseInput(); err != nil {
		s.fatalf("CloseInput: %v", err)
	}
	s.md.closed = true
	if s.blocked {
		s.blocked = false
		s.runProgram()
	}
}

func (s *engineSM) finish(t *rapid.T) {
	if s.over || s.blocked || s.pc < len(s.prog) || s.ended() {
		t.Skip("the handler is not at its end")
	}
	if rapid.IntRange(0, 3).Draw(t, "finish now") < 3 {
		t.Skip("the handler goes on")
	}
	o := op{kind: opOutput, value: []byte(rapid.StringMatching(`[a-z]{0,3}`).Draw(t, "output"))}
	s.prog = append(s.prog, o)
	s.exec(o)
}

// check is the invariant after every step: the journal never holds two
// notifications for one id, every journaled run result belongs to a
// journaled run, and the engine never writes while it replays (checked in
// exec) or asks to execute a run whose result is journaled (checked at
// StatusExecuteRun).
func (s *engineSM) check(*rapid.T) {
	seen := map[wire.NotificationID]bool{}
	runs := map[uint32]bool{}
	for _, e := range s.journal {
		switch c := e.(type) {
		case *wire.RunCommand:
			runs[c.ResultCompletionID] = true
		case *wire.Notification:
			if seen[c.ID] {
				s.fatalf("the journal holds two notifications for %s", c.ID)
			}
			seen[c.ID] = true
			if c.MessageType == wire.TypeRunCompletion && !runs[c.ID.Index] {
				s.fatalf("run result %s before its run command", c.ID)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Executing one operation, engine and model side by side

func (s *engineSM) exec(o op) {
	md := s.md
	replaying := len(md.replay) > 0
	if o.kind == opAwait {
		s.await(o)
		return
	}
	if o.kind == opOutput {
		s.output(o, replaying)
		return
	}
	// The model's command and completion ids.
	c := md.nextC
	var want wire.Message
	var ids []wire.NotificationID
	var answers []wire.Notification
	m := s.m
	var hs []replay.Handle
	var err error
	var needs bool
	switch o.kind {
	case opGetState:
		md.nextC++
		ids = []wire.NotificationID{wire.CompletionID(c)}
		var h replay.Handle
		h, err = m.GetState(o.key)
		hs = []replay.Handle{h}
		if !replaying {
			if v, ok := md.eager[o.key]; ok || !md.partial {
				res := wire.VoidResult()
				if ok && v != nil {
					res = wire.ValueResult(*v)
				}
				want = &wire.GetEagerStateCommand{Key: []byte(o.key), Result: res}
				md.ready[ids[0]] = res
			} else {
				want = &wire.GetLazyStateCommand{Key: []byte(o.key), ResultCompletionID: c}
				answers = append(answers, wire.Notification{MessageType: wire.TypeGetLazyStateCompletion, ID: ids[0]})
			}
		}
	case opKeys:
		md.nextC++
		ids = []wire.NotificationID{wire.CompletionID(c)}
		var h replay.Handle
		h, err = m.GetStateKeys()
		hs = []replay.Handle{h}
		if !replaying {
			if !md.partial {
				var keys [][]byte
				for _, k := range slices.Sorted(maps.Keys(md.eager)) {
					if md.eager[k] != nil {
						keys = append(keys, []byte(k))
					}
				}
				want = &wire.GetEagerStateKeysCommand{Keys: keys}
				md.ready[ids[0]] = wire.Result{Kind: wire.ResultStateKeys, StateKeys: keys}
			} else {
				want = &wire.GetLazyStateKeysCommand{ResultCompletionID: c}
				answers = append(answers, wire.Notification{MessageType: wire.TypeGetLazyStateKeysCompletion, ID: ids[0]})
			}
		}
	case opSetState:
		v := o.value
		md.eager[o.key] = &v
		err = m.SetState(o.key, o.value)
		want = &wire.SetStateCommand{Key: []byte(o.key), Value: o.value}
	case opClearState:
		md.eager[o.key] = nil
		err = m.ClearState(o.key)
		want = &wire.ClearStateCommand{Key: []byte(o.key)}
	case opClearAll:
		clear(md.eager)
		md.partial = false
		err = m.ClearAllState()
		want = &wire.ClearAllStateCommand{}
	case opSleep:
		md.nextC++
		ids = []wire.NotificationID{wire.CompletionID(c)}
		var h replay.Handle
		h, err = m.Sleep(uint64(len(s.prog)), o.key)
		hs = []replay.Handle{h}
		want = &wire.SleepCommand{WakeUpTime: uint64(len(s.prog)), ResultCompletionID: c, Name: o.key}
		answers = append(answers, wire.Notification{MessageType: wire.TypeSleepCompletion, ID: ids[0], Result: wire.VoidResult()})
	case opRun:
		md.nextC++
		ids = []wire.NotificationID{wire.CompletionID(c)}
		var h replay.Handle
		h, needs, err = m.Run(o.key)
		hs = []replay.Handle{h}
		want = &wire.RunCommand{ResultCompletionID: c, Name: o.key}
	case opCall:
		md.nextC += 2
		ids = []wire.NotificationID{wire.CompletionID(c), wire.CompletionID(c + 1)}
		var h1, h2 replay.Handle
		h1, h2, err = m.Call(replay.CallTarget{Service: "S", Handler: o.key}, o.value)
		hs = []replay.Handle{h1, h2}
		want = &wire.CallCommand{ServiceName: "S", HandlerName: o.key, Parameter: nonEmpty(o.value), InvocationIDNotificationIdx: c, ResultCompletionID: c + 1}
		answers = append(answers,
			wire.Notification{MessageType: wire.TypeCallInvocationIDCompletion, ID: ids[0], Result: wire.Result{Kind: wire.ResultInvocationID, InvocationID: fmt.Sprint("inv_", c)}},
			wire.Notification{MessageType: wire.TypeCallCompletion, ID: ids[1]})
	case opSend:
		md.nextC++
		ids = []wire.NotificationID{wire.CompletionID(c)}
		var h replay.Handle
		h, err = m.Send(replay.CallTarget{Service: "S", Handler: o.key}, o.value, 0)
		hs = []replay.Handle{h}
		want = &wire.OneWayCallCommand{ServiceName: "S", HandlerName: o.key, Parameter: nonEmpty(o.value), InvocationIDNotificationIdx: c}
		answers = append(answers, wire.Notification{MessageType: wire.TypeCallInvocationIDCompletion, ID: ids[0], Result: wire.Result{Kind: wire.ResultInvocationID, InvocationID: fmt.Sprint("inv_", c)}})
	case opPromise, opPeek:
		md.nextC++
		ids = []wire.NotificationID{wire.CompletionID(c)}
		var h replay.Handle
		if o.kind == opPromise {
			h, err = m.GetPromise(o.key)
			want = &wire.GetPromiseCommand{Key: o.key, ResultCompletionID: c}
			answers = append(answers, wire.Notification{MessageType: wire.TypeGetPromiseCompletion, ID: ids[0]})
		} else {
			h, err = m.PeekPromise(o.key)
			want = &wire.PeekPromiseCommand{Key: o.key, ResultCompletionID: c}
			answers = append(answers, wire.Notification{MessageType: wire.TypePeekPromiseCompletion, ID: ids[0]})
		}
		hs = []replay.Handle{h}
	case opAttach:
		md.nextC++
		ids = []wire.NotificationID{wire.CompletionID(c)}
		target := wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "inv_" + o.key}
		var h replay.Handle
		h, err = m.Attach(target)
		hs = []replay.Handle{h}
		want = &wire.AttachInvocationCommand{Target: target, ResultCompletionID: c}
		answers = append(answers, wire.Notification{MessageType: wire.TypeAttachInvocationCompletion, ID: ids[0]})
	case opAwakeable:
		ids = []wire.NotificationID{wire.SignalID(md.nextS)}
		md.nextS++
		var h replay.Handle
		h, _, err = m.Awakeable()
		hs = []replay.Handle{h}
		answers = append(answers, wire.Notification{MessageType: wire.TypeSignalNotification, ID: ids[0]})
	case opSignal:
		ids = []wire.NotificationID{wire.NamedSignalID(o.key)}
		var h replay.Handle
		h, err = m.Signal(o.key)
		hs = []replay.Handle{h}
		answers = append(answers, wire.Notification{MessageType: wire.TypeSignalNotification, ID: ids[0]})
	case opResolveAwakeable:
		err = m.CompleteAwakeable(o.key, wire.ValueResult([]byte("x")))
		want = &wire.CompleteAwakeableCommand{AwakeableID: o.key, Result: wire.ValueResult([]byte("x"))}
	}
	if err != nil {
		s.fatalf("operation %d (%v) failed: %v", s.pc, o.kind, err)
	}
	out := m.TakeOutput()
	issues := o.kind != opAwakeable && o.kind != opSignal
	if replaying || !issues {
		if len(out) > 0 {
			s.fatalf("operation %d wrote %s while replaying", s.pc, sim.Describe(firstMessage(out)))
		}
		if issues {
			head := md.replay[0]
			md.replay = md.replay[1:]
			if g, ok := head.(*wire.GetEagerStateCommand); ok {
				md.ready[ids[0]] = g.Result
			}
			if g, ok := head.(*wire.GetEagerStateKeysCommand); ok {
				md.ready[ids[0]] = wire.Result{Kind: wire.ResultStateKeys, StateKeys: g.Keys}
			}
			if _, ok := head.(*wire.GetLazyStateCommand); ok {
				answers = append(answers, wire.Notification{MessageType: wire.TypeGetLazyStateCompletion, ID: ids[0]})
			}
			if _, ok := head.(*wire.GetLazyStateKeysCommand); ok {
				answers = append(answers, wire.Notification{MessageType: wire.TypeGetLazyStateKeysCompletion, ID: ids[0]})
			}
		}
	} else {
		got := frames(out)
		if len(got) != 1 {
			s.fatalf("operation %d wrote %d frames, want one %s", s.pc, len(got), sim.Describe(want))
		}
		if d := cmp.Diff(want, got[0].msg, cmpopts.EquateEmpty()); d != "" {
			s.fatalf("operation %d wrote a command other than the model's (-model +engine):\n%s", s.pc, d)
		}
		s.journal = append(s.journal, got[0].msg)
		s.logf("wrote %s", sim.Describe(got[0].msg))
	}
	if o.kind == opRun {
		wantNeeds := true
		if _, ok := md.ready[ids[0]]; ok {
			wantNeeds = false
		}
		for _, n := range md.queue {
			if n.ID == ids[0] {
				wantNeeds = false
			}
		}
		if needs != wantNeeds {
			s.fatalf("Run %d: the engine says it needs execution %v, the model %v", c, needs, wantNeeds)
		}
		if needs {
			md.runs[len(md.ids)] = true
		}
	}
	// The runtime's answers, drawn once per id.
	cmdPos := len(s.journal)
	for _, n := range answers {
		if r, ok := s.answers[n.ID]; ok {
			n.Result = r
		} else {
			switch n.MessageType {
			case wire.TypeGetLazyStateCompletion:
				n.Result = wire.VoidResult()
				if v, ok := s.stateAt(cmdPos)[o.key]; ok {
					n.Result = wire.ValueResult(v)
				}
			case wire.TypeGetLazyStateKeysCompletion:
				state := s.stateAt(cmdPos)
				var keys [][]byte
				for _, k := range slices.Sorted(maps.Keys(state)) {
					keys = append(keys, []byte(k))
				}
				n.Result = wire.Result{Kind: wire.ResultStateKeys, StateKeys: keys}
			case wire.TypeSleepCompletion, wire.TypeCallInvocationIDCompletion:
			default:
				n.Result = s.drawResult(s.t, "answer "+n.ID.String())
			}
			s.answers[n.ID] = n.Result
		}
		s.expected = append(s.expected, n)
	}
	md.ids = append(md.ids, ids...)
	s.hs = append(s.hs, hs...)
	if len(hs) != len(ids) {
		s.fatalf("operation %d: %d handles, model %d", s.pc, len(hs), len(ids))
	}
	s.pc++
}

func nonEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (s *engineSM) output(o op, replaying bool) {
	if err := s.m.Output(wire.ValueResult(o.value)); err != nil {
		s.fatalf("Output: %v", err)
	}
	if err := s.m.End(); err != nil {
		s.fatalf("End: %v", err)
	}
	got := frames(s.m.TakeOutput())
	want := []wire.Message{&wire.OutputCommand{Result: wire.ValueResult(o.value)}, &wire.EndMessage{}}
	if replaying {
		s.md.replay = s.md.replay[1:]
		want = want[1:]
	}
	var msgs []wire.Message
	for _, f := range got {
		msgs = append(msgs, f.msg)
	}
	if d := cmp.Diff(want, msgs, cmpopts.EquateEmpty()); d != "" {
		s.fatalf("the end of the handler wrote other frames than the model's (-model +engine):\n%s", d)
	}
	if !replaying {
		s.journal = append(s.journal, msgs[0])
	}
	s.logf("ended")
	s.pc++
	s.over = true
}

type frame struct {
	msg   wire.Message
	flags uint16
}

func frames(b []byte) []frame {
	d := wire.NewDecoder(0)
	d.Write(b)
	var out []frame
	for {
		f, ok, err := d.Next()
		if err != nil || !ok {
			return out
		}
		msg, err := f.Decode()
		if err != nil {
			panic(err)
		}
		out = append(out, frame{msg: msg, flags: f.Header.Flags})
	}
}

func firstMessage(b []byte) wire.Message {
	if f := frames(b); len(f) > 0 {
		return f[0].msg
	}
	return nil
}

// ---------------------------------------------------------------------------
// Awaiting

func (s *engineSM) future(tree *awaitTree) replay.Future {
	f := replay.Future{Combinator: tree.comb}
	for _, l := range tree.leaves {
		f.Handles = append(f.Handles, s.hs[l])
	}
	for i := range tree.kids {
		f.Children = append(f.Children, s.future(&tree.kids[i]))
	}
	return f
}

func (md *model) leaf(l int) replay.FutureState {
	r, ok := md.ready[md.ids[l]]
	switch {
	case !ok:
		return replay.Pending
	case r.Kind == wire.ResultFailure:
		return replay.Failed
	}
	return replay.Succeeded
}

// state follows the protocol's combinator table: leaves first, then nested
// futures, in order.
func (md *model) state(tree *awaitTree) replay.FutureState {
	var states []replay.FutureState
	for _, l := range tree.leaves {
		states = append(states, md.leaf(l))
	}
	for i := range tree.kids {
		states = append(states, md.state(&tree.kids[i]))
	}
	has := func(x replay.FutureState) bool { return slices.Contains(states, x) }
	switch tree.comb {
	case wire.CombinatorAllCompleted:
		if has(replay.Pending) {
			return replay.Pending
		}
		return replay.Succeeded
	case wire.CombinatorFirstSucceededOrAllFailed:
		if has(replay.Succeeded) {
			return replay.Succeeded
		}
		if has(replay.Pending) {
			return replay.Pending
		}
		return replay.Failed
	case wire.CombinatorAllSucceededOrFirstFailed:
		if has(replay.Failed) {
			return replay.Failed
		}
		if has(replay.Pending) {
			return replay.Pending
		}
		return replay.Succeeded
	}
	for _, st := range states {
		if st != replay.Pending {
			return st
		}
	}
	return replay.Pending
}

// waiting returns the pending leaves of the pending parts of tree: what a
// suspension lists.
func (md *model) waiting(tree *awaitTree, out map[wire.NotificationID]bool) {
	if md.state(tree) != replay.Pending {
		return
	}
	for _, l := range tree.leaves {
		if md.leaf(l) == replay.Pending {
			out[md.ids[l]] = true
		}
	}
	for i := range tree.kids {
		md.waiting(&tree.kids[i], out)
	}
}

// runToExecute returns the first run of tree, in order, that needs
// executing.
func (md *model) runToExecute(tree *awaitTree) (int, bool) {
	for _, l := range tree.leaves {
		if md.runs[l] && md.leaf(l) == replay.Pending {
			return l, true
		}
	}
	for i := range tree.kids {
		if l, ok := md.runToExecute(&tree.kids[i]); ok {
			return l, true
		}
	}
	return 0, false
}

func (s *engineSM) await(o op) {
	md := s.md
	for {
		// Model: apply queued notifications one at a time, in journal
		// order, until the future resolves.
		for md.state(o.tree) == replay.Pending && len(md.queue) > 0 {
			n := md.queue[0]
			md.queue = md.queue[1:]
			md.ready[n.ID] = n.Result
		}
		res, err := s.m.Await(s.future(o.tree))
		out := s.m.TakeOutput()
		resolved := md.state(o.tree) != replay.Pending
		switch {
		case resolved:
			if err != nil || res.Status != replay.StatusReady {
				s.fatalf("await %d: the engine says %v %v, the model says ready", s.pc, res.Status, err)
			}
			s.checkApplied(s.pc)
			s.pc++
			return
		case len(md.replay) > 0:
			s.fatalf("await %d cannot be resolved while replaying: the model is inconsistent (engine: %v %v)", s.pc, res.Status, err)
		}
		if l, ok := md.runToExecute(o.tree); ok {
			if err != nil || res.Status != replay.StatusExecuteRun || res.Run != s.hs[l] {
				s.fatalf("await %d: the engine says %v (run %d) %v, the model says execute run handle %d", s.pc, res.Status, res.Run, err, s.hs[l])
			}
			id := md.ids[l]
			if s.known()[id] {
				s.fatalf("the engine executes run %s, whose result is journaled", id)
			}
			run := s.prog[s.runOp(l)].run
			delete(md.runs, l)
			if err := s.m.ProposeRun(s.hs[l], replay.RunOutcome{Result: run}, replay.RetryPolicy{}); err != nil {
				s.fatalf("ProposeRun: %v", err)
			}
			got := frames(s.m.TakeOutput())
			want := &wire.ProposeRunCompletionMessage{ResultCompletionID: id.Index, Result: run}
			if len(got) != 1 || !cmp.Equal(got[0].msg, wire.Message(want), cmpopts.EquateEmpty()) {
				s.fatalf("the run proposal is %v, want %s", got, sim.Describe(want))
			}
			if ack := got[0].flags&wire.FlagRequestedAck != 0; ack != (s.version >= wire.V7) {
				s.fatalf("REQUESTED_ACK on a %s proposal: %v", s.version, ack)
			}
			s.proposals = append(s.proposals, proposal{id: id.Index, result: run})
			s.logf("proposed %s", sim.Describe(want))
			continue
		}
		if md.closed {
			if !errors.Is(err, replay.ErrSuspended) {
				s.fatalf("await %d: the engine says %v %v, the model says suspend", s.pc, res.Status, err)
			}
			want := map[wire.NotificationID]bool{}
			md.waiting(o.tree, want)
			got := frames(out)
			susp, ok := got[len(got)-1].msg.(*wire.SuspensionMessage)
			if !ok {
				s.fatalf("await %d suspended with %v", s.pc, got)
			}
			gotIDs := map[wire.NotificationID]bool{}
			for _, id := range suspensionIDs(susp) {
				gotIDs[id] = true
			}
			if d := cmp.Diff(want, gotIDs); d != "" {
				s.fatalf("await %d: the suspension waits for other ids than the model's (-model +engine):\n%s", s.pc, d)
			}
			s.logf("suspended: %s", sim.Describe(susp))
			s.over = true
			return
		}
		if err != nil || res.Status != replay.StatusNeedInput {
			s.fatalf("await %d: the engine says %v %v, the model says it needs input", s.pc, res.Status, err)
		}
		s.checkApplied(s.pc)
		s.blocked = true
		return
	}
}

// runOp returns the index in prog of the operation that created program
// handle l.
func (s *engineSM) runOp(l int) int {
	n := 0
	for i, o := range s.prog {
		n += o.kind.handles()
		if n > l {
			return i
		}
	}
	panic("no operation created handle")
}

// checkApplied compares, for every handle of the program, whether the
// engine and the model applied its notification and with which result:
// notifications are applied one at a time, in journal order, only as far as
// an await needs them, so the same future wins a race on every replay.
func (s *engineSM) checkApplied(await int) {
	for l, h := range s.hs {
		got, gotOK := s.m.Peek(h)
		want, wantOK := s.md.ready[s.md.ids[l]]
		if gotOK != wantOK || !resultEqual(got, want) {
			s.fatalf("await %d: %s is %s in the engine, %s in the model, which applies notifications in journal order",
				await, s.md.ids[l], appliedString(gotOK, got), appliedString(wantOK, want))
		}
	}
}

func appliedString(ok bool, r wire.Result) string {
	if !ok {
		return "not applied"
	}
	return "applied (" + describeResult(r) + ")"
}

func resultEqual(a, b wire.Result) bool {
	return cmp.Equal(a, b, cmpopts.EquateEmpty())
}

func describeResult(r wire.Result) string {
	n := wire.Notification{MessageType: wire.TypeCallCompletion, ID: wire.CompletionID(0), Result: r}
	s := sim.Describe(&n)
	_, after, _ := strings.Cut(s, "= ")
	return after
}

func suspensionIDs(s *wire.SuspensionMessage) []wire.NotificationID {
	var out []wire.NotificationID
	var walk func(f *wire.Future)
	add := func(cs, ss []uint32, ns []string) {
		for _, c := range cs {
			out = append(out, wire.CompletionID(c))
		}
		for _, c := range ss {
			out = append(out, wire.SignalID(c))
		}
		for _, n := range ns {
			out = append(out, wire.NamedSignalID(n))
		}
	}
	walk = func(f *wire.Future) {
		add(f.WaitingCompletions, f.WaitingSignals, f.WaitingNamedSignals)
		for i := range f.NestedFutures {
			walk(&f.NestedFutures[i])
		}
	}
	add(s.WaitingCompletions, s.WaitingSignals, s.WaitingNamedSignals)
	if s.AwaitingOn != nil {
		walk(s.AwaitingOn)
	}
	return out
}
