// Package sim is an in-process simulated Restate runtime for one invocation:
// it keeps the journal (commands and notifications, as wire messages, in the
// order restate-server stores them), the object's state and what is still
// to be completed, and runs handler attempts against the real replay engine,
// in request/response or bidi mode, until the invocation ends.
//
// Every choice a runtime makes is asked of a [Scheduler]: which completions
// arrive and in which order, when a bidi stream is closed so the handler
// suspends, when an attempt crashes and how much of what it sent was stored.
// What the outside world answers (call results, promise and signal values,
// cancellation) is asked of a [World]. Given the same answers, a run is
// deterministic: a bidi attempt only receives input while its handler is
// blocked waiting for it.
//
// [Run] reports what it observed in a [Result]: the journal, the final
// output and state, a readable trace of every attempt, and the first
// [Violation] of the properties it checks (journal mismatches and protocol
// violations reported by the engine, a journaled run executed again, an
// attempt that ends without a terminal message, an invocation that cannot
// make progress).
package sim

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Mode is how an attempt streams.
type Mode uint8

// The stream modes.
const (
	// RequestResponse sends the journal and closes the request body at once:
	// every await that the journal cannot resolve suspends the attempt.
	RequestResponse Mode = iota
	// Bidi keeps the request body open and sends completions while the
	// handler waits for them.
	Bidi
)

// String returns "bidi" or "request/response".
func (m Mode) String() string {
	if m == Bidi {
		return "bidi"
	}
	return "request/response"
}

// StateMode is how an attempt of a keyed handler receives the state.
type StateMode uint8

// The state modes.
const (
	// EagerState sends the complete state in the start message.
	EagerState StateMode = iota
	// LazyState sends no state: every read is a round trip.
	LazyState
	// PartialState sends some of the keys and marks the map partial, as
	// restate-server does when the state is large.
	PartialState
)

// String describes the state mode, for traces.
func (s StateMode) String() string {
	switch s {
	case LazyState:
		return "lazy state"
	case PartialState:
		return "partial state"
	}
	return "eager state"
}

// Plan is how one attempt runs.
type Plan struct {
	Mode  Mode
	State StateMode
	// Partial selects the keys a PartialState attempt receives.
	Partial func(key string) bool
}

// Pending is a notification the runtime can store next.
type Pending struct {
	// Notification is what gets stored in the journal.
	Notification wire.Notification
	// Ack: the notification completes a V7 run proposal that asked for an
	// acknowledgement; a bidi attempt receives ProposeRunCompletionAck
	// instead of the notification.
	Ack bool
	// Awaited: the handler's last suspension (or V7 AwaitingOn hint) waits
	// for it.
	Awaited bool
	// Proposal: the notification stores a run proposal of the current
	// attempt.
	Proposal bool
	// after must be stored first (a call's invocation id, before its
	// result); storing this one stores it too.
	after *Pending
}

// ID returns the notification id of the pending completion.
func (p *Pending) ID() wire.NotificationID { return p.Notification.ID }

// String describes the notification, for traces.
func (p *Pending) String() string { return Describe(&p.Notification) }

// World is the outside world: it answers what the runtime cannot decide by
// itself. Answers should depend only on the arguments, so that a rollback
// and a replay get the same ones.
type World interface {
	// Complete returns the result of the notification id of the completable
	// command cmd: the result of a call, attach or get-output, a promise's
	// value, what completing a promise returns. Timers, state reads,
	// invocation ids and run results are answered by the runtime.
	Complete(cmd wire.Message, id wire.NotificationID) wire.Result
	// Signal returns the value of an awakeable (a signal id of 17 or more)
	// or of a named signal the handler waits for, or false when it never
	// arrives.
	Signal(id wire.NotificationID) (wire.Result, bool)
	// Cancel reports whether the invocation gets cancelled; the scheduler
	// decides when the cancel signal arrives.
	Cancel() bool
	// RunResult returns the result journaled for a run proposal, normally
	// the proposed one.
	RunResult(completionID uint32, proposed wire.Result) wire.Result
}

// Scheduler makes every choice of the runtime. Returned indexes refer to the
// pending slice passed in; out of range or repeated ones are ignored.
type Scheduler interface {
	// Plan chooses how attempt n (from 1) runs. keyed is false for
	// stateless services, which never receive state. Whether a state read
	// is served from the start message or with a round trip decides where
	// the handler awaits, so a scheduler that wants a run comparable with
	// [Uninterrupted] keeps State and Partial the same for all attempts.
	Plan(n int, keyed bool) Plan
	// Idle is called when the handler of a bidi attempt waits for input and
	// something is pending: it returns what arrives now, in order, or
	// nothing to close the request body (the handler then suspends).
	Idle(pending []*Pending) []int
	// Store chooses what gets stored between two attempts, in order. After
	// a suspension it must store at least one awaited completion (unless
	// one was stored already); storing none is a Progress violation, as the
	// runtime would never resume the invocation.
	Store(pending []*Pending, suspended bool) []int
	// Crash is called after an attempt that added n journal entries: crash
	// true fails the attempt, keeping only the first keep of them (the
	// transport broke before the runtime stored the rest) and re-invokes,
	// even when the attempt had ended.
	Crash(n int) (keep int, crash bool)
}

// Config describes the simulated invocation.
type Config struct {
	// Handler is the handler under test, erased to bytes.
	Handler invocation.HandlerFunc
	// Name is "Service/handler", for traces.
	Name    string
	Version wire.Version
	// Keyed: a virtual object or workflow handler, which receives state.
	Keyed bool
	Key   string
	// ID is the binary invocation id and DebugID its printable form.
	ID      []byte
	DebugID string
	// Seed is the random seed of the start message (V6+).
	Seed    uint64
	Input   []byte
	Headers []wire.HeaderEntry
	// Journal, when set, is the journal of an invocation already in
	// flight, from its input command on (Input and Headers are then
	// ignored): the simulation continues it, as a runtime resumes an
	// invocation against code deployed since it started.
	Journal []wire.Message
	// State is the object's state when the invocation starts.
	State map[string][]byte
	// Options configure the engine.
	Options replay.Options
	// MaxAttempts bounds the attempts; 0 means 200.
	MaxAttempts int
	// Stall bounds how long an attempt may make no progress; 0 means 20s.
	Stall time.Duration
	// Logger receives the handler's logs; nil discards them.
	Logger *slog.Logger
	// Context is the parent of every attempt's context; nil means
	// context.Background().
	Context context.Context
	// Signals are awakeables and named signals the world sends without
	// waiting to see the handler wait for them (others are sent once a
	// suspension or a V7 AwaitingOn hint names them).
	Signals []wire.NotificationID
	// BeforeAttempt, when set, runs before each attempt (from 1).
	BeforeAttempt func(n int)
	// Executions, when set, counts the run closure executions the handler's
	// own instrumentation observed so far. An attempt that executed more
	// closures than it proposed or failed runs re-executed a journaled run:
	// the engine writes nothing for a closure executed while replaying.
	Executions func() int
	World      World
	Scheduler  Scheduler
}

// Property names a property a handler must have. It is declared once, here:
// package restatetest re-exports it as restatetest.Property, and props
// reports it as it is.
type Property string

// The properties the simulator checks by itself.
const (
	// Determinism: a replay issued a command other than the journaled one
	// (the engine failed the attempt with 570).
	Determinism Property = "replay determinism"
	// ExactlyOnce: a run whose result is journaled executed again.
	ExactlyOnce Property = "exactly-once side effects"
	// Protocol: the engine broke the protocol, or reported a violation.
	Protocol Property = "protocol"
	// Progress: the invocation cannot complete.
	Progress Property = "progress"
)

// Violation is the first property violation of a run.
type Violation struct {
	// Property is the property violated: one of the constants above.
	Property Property
	// Attempt is the attempt that showed it (from 1).
	Attempt int
	// Message says what happened, in the engine's words when the engine
	// reported it.
	Message string
	// EngineError is the engine's ErrorMessage, when the engine reported
	// the violation.
	EngineError *wire.ErrorMessage
}

// String says which property was violated, in which attempt and how.
func (v *Violation) String() string {
	return fmt.Sprintf("%s violated in attempt %d: %s", v.Property, v.Attempt, v.Message)
}

// Result is what a run observed.
type Result struct {
	// Journal is the final journal: commands and notifications.
	Journal []wire.Message
	// Output is the handler's output command, nil when it never completed.
	Output *wire.OutputCommand
	// State is the object's final state.
	State map[string][]byte
	// Attempts is the number of attempts made.
	Attempts int
	// Trace describes every attempt and every choice made, one line each.
	Trace []string
	// Violation is the first property violation, nil when there is none.
	Violation *Violation
	// Proposals counts run proposals per completion id, over all attempts.
	Proposals map[uint32]int
}

// sim is one simulated invocation.
type sim struct {
	cfg     Config
	journal []wire.Message
	// revealed are the awakeables and named signals the handler waited for
	// (from suspensions and AwaitingOn hints): the world completes them.
	revealed []wire.NotificationID
	// awaited is what the last suspension or hint waits for.
	awaited map[wire.NotificationID]bool
	// proposals of the current attempt, not stored yet.
	proposals []proposal
	attempt   int
	trace     []string
	violation *Violation
	runs      map[uint32]int
	// observed counts the runs the current attempt proposed or failed.
	observed int
	// failed is the ErrorMessage of the current attempt, if it failed.
	failed *wire.ErrorMessage
}

// maxFruitless is how many attempts in a row may fail without the journal
// growing before the invocation counts as stuck.
const maxFruitless = 20

func (s *sim) executions() int {
	if s.cfg.Executions == nil {
		return 0
	}
	return s.cfg.Executions()
}

type proposal struct {
	id     uint32
	result wire.Result
	ack    bool
}

// Run runs the invocation until it ends, a property is violated or
// MaxAttempts attempts were made.
func Run(cfg Config) *Result {
	return newSim(defaults(cfg)).finish()
}

func defaults(cfg Config) Config {
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 200
	}
	if cfg.Stall == 0 {
		cfg.Stall = 20 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	return cfg
}

func newSim(cfg Config) *sim {
	s := &sim{cfg: cfg, runs: map[uint32]int{}, revealed: slices.Clone(cfg.Signals)}
	s.journal = []wire.Message{&wire.InputCommand{Headers: cfg.Headers, Value: cfg.Input}}
	if len(cfg.Journal) > 0 {
		s.journal = slices.Clone(cfg.Journal)
	}
	return s
}

func (s *sim) finish() *Result {
	s.run()
	return s.result()
}

func (s *sim) result() *Result {
	cfg := s.cfg
	res := &Result{
		Journal:   s.journal,
		State:     stateOf(cfg.State, s.journal),
		Attempts:  s.attempt,
		Trace:     s.trace,
		Violation: s.violation,
		Proposals: s.runs,
	}
	for _, e := range s.journal {
		if o, ok := e.(*wire.OutputCommand); ok {
			res.Output = o
		}
	}
	return res
}

func (s *sim) tracef(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf(format, args...))
}

func (s *sim) violate(p Property, format string, args ...any) {
	if s.violation == nil {
		s.violation = &Violation{Property: p, Attempt: s.attempt, Message: fmt.Sprintf(format, args...)}
		s.tracef("  VIOLATION (%s): %s", p, s.violation.Message)
	}
}

// ending is how an attempt ended.
type ending uint8

const (
	endNone ending = iota
	endOutput
	endSuspended
	endFailed
)

func (s *sim) run() {
	retries := uint32(0)
	lastLen := -1
	fruitless := 0
	for {
		if s.attempt >= s.cfg.MaxAttempts {
			msg := ""
			if s.failed != nil {
				msg = fmt.Sprintf("; the last attempt failed with [%d] %s", s.failed.Code, s.failed.Message)
			}
			s.violate(Progress, "the invocation did not complete in %d attempts%s", s.cfg.MaxAttempts, msg)
			return
		}
		s.attempt++
		if len(s.journal) == lastLen {
			retries++
		} else {
			retries = 0
		}
		lastLen = len(s.journal)
		if s.cfg.BeforeAttempt != nil {
			s.cfg.BeforeAttempt(s.attempt)
		}
		plan := s.cfg.Scheduler.Plan(s.attempt, s.cfg.Keyed)
		startLen := len(s.journal)
		s.proposals = nil
		s.awaited = nil
		s.observed = 0
		s.failed = nil
		executed := s.executions()
		end := s.runAttempt(plan, retries)
		if s.violation != nil {
			return
		}
		if n := s.executions() - executed; n > s.observed {
			s.violate(ExactlyOnce, "%d side effects executed, but the engine proposed or failed only %d runs: a side effect ran outside a run, or a run whose result is journaled executed again",
				n, s.observed)
			return
		}
		// What the runtime received and did not store yet is stored now,
		// unless the attempt crashes below.
		for _, p := range s.proposals {
			s.storeProposal(p)
		}
		s.proposals = nil
		added := len(s.journal) - startLen
		if keep, crash := s.cfg.Scheduler.Crash(added); crash {
			keep = min(max(keep, 0), added)
			s.journal = s.journal[:startLen+keep]
			s.tracef("crash: the runtime kept %d of the %d journal entries the attempt added", keep, added)
			continue
		}
		switch end {
		case endOutput:
			return
		case endSuspended:
			if !s.storeAfterSuspension() {
				return
			}
		case endFailed:
			if added > 0 {
				fruitless = 0
			} else if fruitless++; fruitless >= maxFruitless && s.failed != nil {
				s.violate(Progress, "the handler failed %d attempts in a row without progress, the last one with [%d] %s",
					fruitless, s.failed.Code, s.failed.Message)
				return
			}
			s.storeChosen(false)
		}
	}
}

// storeAfterSuspension stores what the scheduler chooses, with at least one
// awaited completion unless one arrived already. It reports false when
// nothing the handler waits for can ever arrive.
func (s *sim) storeAfterSuspension() bool {
	pending := s.pending()
	satisfied := false
	for _, e := range s.journal {
		if n, ok := e.(*wire.Notification); ok && s.awaited[n.ID] {
			satisfied = true
		}
	}
	if !satisfied {
		any := false
		for _, p := range pending {
			any = any || p.Awaited
		}
		if !any {
			s.violate(Progress, "the handler suspended waiting for %s, which nothing will ever complete", describeAwaited(s.awaitedList()))
			return false
		}
	}
	picked := s.pick(pending, s.cfg.Scheduler.Store(pending, true))
	for _, p := range picked {
		satisfied = satisfied || p.Awaited
	}
	if !satisfied {
		s.violate(Progress, "the handler suspended waiting for %s, and nothing it waits for arrives", describeAwaited(s.awaitedList()))
		return false
	}
	for _, p := range s.withPrerequisites(picked) {
		s.store(p, "stored")
	}
	return true
}

// withPrerequisites returns picked with what must be stored before each
// one inserted in front of it, without duplicates.
func (s *sim) withPrerequisites(picked []*Pending) []*Pending {
	have := s.known()
	var out []*Pending
	var add func(p *Pending)
	add = func(p *Pending) {
		if p == nil || have[p.ID()] {
			return
		}
		add(p.after)
		have[p.ID()] = true
		out = append(out, p)
	}
	for _, p := range picked {
		add(p)
	}
	return out
}

func (s *sim) awaitedList() []wire.NotificationID {
	return slices.SortedFunc(maps.Keys(s.awaited), func(a, b wire.NotificationID) int {
		return strings.Compare(a.String(), b.String())
	})
}

func (s *sim) storeChosen(suspended bool) {
	pending := s.pending()
	if len(pending) == 0 {
		return
	}
	for _, p := range s.withPrerequisites(s.pick(pending, s.cfg.Scheduler.Store(pending, suspended))) {
		s.store(p, "stored")
	}
}

// pick returns the pending completions at the chosen indexes, in order,
// ignoring invalid and repeated ones.
func (s *sim) pick(pending []*Pending, idx []int) []*Pending {
	seen := make(map[int]bool, len(idx))
	var out []*Pending
	for _, i := range idx {
		if i < 0 || i >= len(pending) || seen[i] {
			continue
		}
		seen[i] = true
		out = append(out, pending[i])
	}
	return out
}

func (s *sim) store(p *Pending, verb string) {
	n := p.Notification
	s.journal = append(s.journal, &n)
	if p.Proposal {
		s.proposals = slices.DeleteFunc(s.proposals, func(q proposal) bool { return q.id == n.ID.Index })
	}
	s.tracef("  %s %s", verb, Describe(&n))
}

func (s *sim) storeProposal(p proposal) {
	n := wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(p.id), Result: s.cfg.World.RunResult(p.id, p.result)}
	s.journal = append(s.journal, &n)
	s.tracef("  stored %s", Describe(&n))
}

// known returns the notification ids in the journal.
func (s *sim) known() map[wire.NotificationID]bool {
	have := make(map[wire.NotificationID]bool)
	for _, e := range s.journal {
		if n, ok := e.(*wire.Notification); ok {
			have[n.ID] = true
		}
	}
	return have
}

// pending computes, from the journal, everything that can be stored next,
// in a stable order: completions of journaled commands in journal order,
// then run proposals of the current attempt, then signals.
func (s *sim) pending() []*Pending {
	have := s.known()
	state := maps.Clone(s.cfg.State)
	if state == nil {
		state = map[string][]byte{}
	}
	var out []*Pending
	add := func(t wire.Type, id wire.NotificationID, r wire.Result) *Pending {
		if have[id] {
			return nil
		}
		have[id] = true // at most one pending item per id
		p := &Pending{Notification: wire.Notification{MessageType: t, ID: id, Result: r}, Awaited: s.awaited[id]}
		out = append(out, p)
		return p
	}
	world := s.cfg.World
	for _, e := range s.journal {
		switch c := e.(type) {
		case *wire.SetStateCommand, *wire.ClearStateCommand, *wire.ClearAllStateCommand:
			applyState(state, c)
		case *wire.GetLazyStateCommand:
			id := wire.CompletionID(c.ResultCompletionID)
			r := wire.VoidResult()
			if v, ok := state[string(c.Key)]; ok {
				r = wire.ValueResult(nonNil(v))
			}
			add(wire.TypeGetLazyStateCompletion, id, r)
		case *wire.GetLazyStateKeysCommand:
			add(wire.TypeGetLazyStateKeysCompletion, wire.CompletionID(c.ResultCompletionID),
				wire.Result{Kind: wire.ResultStateKeys, StateKeys: sortedKeys(state)})
		case *wire.GetPromiseCommand:
			id := wire.CompletionID(c.ResultCompletionID)
			add(wire.TypeGetPromiseCompletion, id, world.Complete(c, id))
		case *wire.PeekPromiseCommand:
			id := wire.CompletionID(c.ResultCompletionID)
			add(wire.TypePeekPromiseCompletion, id, world.Complete(c, id))
		case *wire.CompletePromiseCommand:
			id := wire.CompletionID(c.ResultCompletionID)
			add(wire.TypeCompletePromiseCompletion, id, world.Complete(c, id))
		case *wire.SleepCommand:
			add(wire.TypeSleepCompletion, wire.CompletionID(c.ResultCompletionID), wire.VoidResult())
		case *wire.CallCommand:
			// The runtime sends the callee's invocation id before its
			// result.
			first := add(wire.TypeCallInvocationIDCompletion, wire.CompletionID(c.InvocationIDNotificationIdx), invocationIDResult(c.InvocationIDNotificationIdx))
			id := wire.CompletionID(c.ResultCompletionID)
			if r := add(wire.TypeCallCompletion, id, world.Complete(c, id)); r != nil {
				r.after = first
			}
		case *wire.OneWayCallCommand:
			add(wire.TypeCallInvocationIDCompletion, wire.CompletionID(c.InvocationIDNotificationIdx), invocationIDResult(c.InvocationIDNotificationIdx))
		case *wire.AttachInvocationCommand:
			id := wire.CompletionID(c.ResultCompletionID)
			add(wire.TypeAttachInvocationCompletion, id, world.Complete(c, id))
		case *wire.GetInvocationOutputCommand:
			id := wire.CompletionID(c.ResultCompletionID)
			add(wire.TypeGetInvocationOutputCompletion, id, world.Complete(c, id))
		}
	}
	for _, p := range s.proposals {
		id := wire.CompletionID(p.id)
		if have[id] {
			continue
		}
		have[id] = true
		r := world.RunResult(p.id, p.result)
		out = append(out, &Pending{
			Notification: wire.Notification{MessageType: wire.TypeRunCompletion, ID: id, Result: r},
			Ack:          p.ack && resultEqual(r, p.result),
			Awaited:      s.awaited[id],
			Proposal:     true,
		})
	}
	for _, id := range s.revealed {
		if have[id] {
			continue
		}
		if r, ok := world.Signal(id); ok {
			have[id] = true
			out = append(out, &Pending{Notification: wire.Notification{MessageType: wire.TypeSignalNotification, ID: id, Result: r}, Awaited: s.awaited[id]})
		}
	}
	cancel := wire.SignalID(wire.SignalCancel)
	if world.Cancel() && !have[cancel] {
		out = append(out, &Pending{Notification: wire.Notification{MessageType: wire.TypeSignalNotification, ID: cancel, Result: wire.VoidResult()}, Awaited: s.awaited[cancel]})
	}
	return out
}

// invocationIDResult is the invocation id the runtime gives the callee of
// the call whose invocation-id completion is c.
func invocationIDResult(c uint32) wire.Result {
	return wire.Result{Kind: wire.ResultInvocationID, InvocationID: fmt.Sprintf("inv_1child%04d", c)}
}

// reveal records the awakeables and named signals the handler waits for.
func (s *sim) reveal(ids []wire.NotificationID) {
	if s.awaited == nil {
		s.awaited = map[wire.NotificationID]bool{}
	}
	for _, id := range ids {
		s.awaited[id] = true
		if (id.Kind == wire.IDSignal && id.Index >= 17) || id.Kind == wire.IDSignalName {
			if !slices.Contains(s.revealed, id) {
				s.revealed = append(s.revealed, id)
			}
		}
	}
}

func applyState(state map[string][]byte, cmd wire.Message) {
	switch c := cmd.(type) {
	case *wire.SetStateCommand:
		state[string(c.Key)] = nonNil(c.Value)
	case *wire.ClearStateCommand:
		delete(state, string(c.Key))
	case *wire.ClearAllStateCommand:
		clear(state)
	}
}

// stateOf returns the state after the journal's state commands.
func stateOf(initial map[string][]byte, journal []wire.Message) map[string][]byte {
	state := maps.Clone(initial)
	if state == nil {
		state = map[string][]byte{}
	}
	for _, e := range journal {
		applyState(state, e)
	}
	return state
}

func sortedKeys(state map[string][]byte) [][]byte {
	keys := make([][]byte, 0, len(state))
	for _, k := range slices.Sorted(maps.Keys(state)) {
		keys = append(keys, []byte(k))
	}
	return keys
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func resultEqual(a, b wire.Result) bool {
	if a.Kind != b.Kind || string(a.Value) != string(b.Value) || a.InvocationID != b.InvocationID {
		return false
	}
	if a.Failure.Code != b.Failure.Code || a.Failure.Message != b.Failure.Message || len(a.Failure.Metadata) != len(b.Failure.Metadata) {
		return false
	}
	for i := range a.Failure.Metadata {
		if a.Failure.Metadata[i] != b.Failure.Metadata[i] {
			return false
		}
	}
	return slices.EqualFunc(a.StateKeys, b.StateKeys, func(x, y []byte) bool { return string(x) == string(y) })
}
