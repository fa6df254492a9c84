package sim

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// attempt is the runtime side of one running attempt.
type attempt struct {
	s      *sim
	inv    *invocation.Invocation
	dec    *wire.Decoder
	ended  ending
	closed bool // the request body was closed
}

// startMessage returns the start message fields of an attempt.
func (s *sim) startMessage(plan Plan, retries uint32) *invocation.Start {
	st := &invocation.Start{
		ID:         s.cfg.ID,
		DebugID:    s.cfg.DebugID,
		Key:        s.cfg.Key,
		RetryCount: retries,
		Seed:       s.cfg.Seed,
	}
	if !s.cfg.Keyed {
		return st
	}
	state := stateOf(s.cfg.State, s.journal)
	switch plan.State {
	case EagerState:
		st.Eager = true
	case PartialState:
		maps.DeleteFunc(state, func(k string, _ []byte) bool { return plan.Partial == nil || !plan.Partial(k) })
	case LazyState:
		state = nil
	}
	if len(state) > 0 {
		st.State = state
	}
	return st
}

// runAttempt runs one attempt to its end and returns how it ended.
func (s *sim) runAttempt(plan Plan, retries uint32) ending {
	start := s.startMessage(plan, retries)
	s.tracef("attempt %d: %s, %s, %d journal entries, retry count %d", s.attempt, plan.Mode, describeStateMode(s.cfg.Keyed, plan.State, start), len(s.journal), retries)
	ctx, cancel := context.WithCancel(s.cfg.Context)
	defer cancel()
	a := &attempt{s: s, dec: wire.NewDecoder(0), closed: plan.Mode == RequestResponse}
	a.inv = invocation.New(ctx, invocation.Config{
		Version:    s.cfg.Version,
		Options:    s.cfg.Options,
		Start:      start,
		Journal:    s.journal,
		CloseInput: plan.Mode == RequestResponse,
		Step:       true,
		Logger:     s.cfg.Logger,
	})
	if !a.inv.Ready() {
		err := a.inv.Err()
		a.inv.Reject()
		var out []byte
		for _, ev := range a.inv.Events() {
			out = append(out, ev.Frames...)
		}
		s.violate(Protocol, "the engine rejected the start message and journal: %v %s", err, Describe(firstFrame(out)))
		return endFailed
	}
	a.inv.Start(s.cfg.Handler)

	timer := time.NewTimer(s.cfg.Stall)
	defer timer.Stop()
	for {
		evs := a.inv.Events()
		for _, ev := range evs {
			a.handle(ev)
		}
		if s.violation != nil {
			a.abandon(cancel)
			return endFailed
		}
		if len(evs) > 0 {
			timer.Reset(s.cfg.Stall)
		}
		select {
		case <-a.inv.Queued():
		case <-a.inv.Done():
			for _, ev := range a.inv.Events() {
				if !ev.Idle {
					a.handle(ev)
				}
			}
			if s.violation == nil && a.ended == endNone {
				s.violate(Protocol, "the attempt ended without EndMessage, SuspensionMessage or ErrorMessage")
			}
			return a.ended
		case <-timer.C:
			s.violate(Progress, "the handler made no progress for %s: it blocks on something other than the SDK", s.cfg.Stall)
			a.abandon(cancel)
			return endFailed
		}
	}
}

// abandon stops the handler after a violation, waiting a little for it to
// exit.
func (a *attempt) abandon(cancel context.CancelFunc) {
	a.inv.Detach()
	cancel()
	select {
	case <-a.inv.Done():
	case <-time.After(time.Second):
	}
}

func describeStateMode(keyed bool, mode StateMode, st *invocation.Start) string {
	if !keyed {
		return "no state"
	}
	if mode == PartialState {
		return "partial state " + describeKeys(stringsToBytes(slices.Sorted(maps.Keys(st.State))))
	}
	return mode.String()
}

func stringsToBytes(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i, k := range s {
		out[i] = []byte(k)
	}
	return out
}

func firstFrame(b []byte) wire.Message {
	d := wire.NewDecoder(0)
	d.Write(b)
	f, ok, err := d.Next()
	if !ok || err != nil {
		return nil
	}
	msg, err := f.Decode()
	if err != nil {
		return nil
	}
	return msg
}

func (a *attempt) handle(ev invocation.Event) {
	s := a.s
	if s.violation != nil {
		return
	}
	if ev.Idle {
		a.idle()
		return
	}
	a.dec.Write(ev.Frames)
	for s.violation == nil {
		f, ok, err := a.dec.Next()
		if err != nil {
			s.violate(Protocol, "the engine wrote a malformed frame: %v", err)
			return
		}
		if !ok {
			return
		}
		a.frame(f)
	}
}

// idle decides what a blocked bidi handler receives.
func (a *attempt) idle() {
	s := a.s
	if a.closed || a.ended != endNone {
		return
	}
	pending := s.pending()
	var picked []*Pending
	if len(pending) > 0 {
		picked = s.pick(pending, s.cfg.Scheduler.Idle(pending))
	}
	if len(picked) == 0 {
		s.tracef("  idle: closed the request body")
		a.closed = true
		a.inv.CloseInput()
		return
	}
	var b []byte
	for _, p := range s.withPrerequisites(picked) {
		s.store(p, "sent")
		if p.Ack {
			b = wire.AppendFrame(b, &wire.ProposeRunCompletionAckMessage{CompletionID: p.Notification.ID.Index}, 0)
		} else {
			b = wire.AppendFrame(b, &p.Notification, 0)
		}
	}
	_ = a.inv.Feed(b)
}

func (s *sim) commandCount() int {
	n := 0
	for _, e := range s.journal {
		if e.Type().IsCommand() {
			n++
		}
	}
	return n
}

// frame processes one frame the engine wrote, as the runtime would.
func (a *attempt) frame(f wire.Frame) {
	s := a.s
	msg, err := f.Decode()
	if err != nil {
		s.violate(Protocol, "the engine wrote a malformed %s: %v", f.Header.Type, err)
		return
	}
	if a.ended != endNone {
		s.violate(Protocol, "the engine wrote %s after the attempt's terminal message", f.Header.Type)
		return
	}
	v := s.cfg.Version
	switch m := msg.(type) {
	case *wire.ProposeRunCompletionMessage:
		s.proposal(m, f.Header.RequestedAck())
	case *wire.SuspensionMessage:
		ids := awaitedOf(m)
		switch {
		case len(ids) == 0:
			s.violate(Protocol, "empty SuspensionMessage")
		case v >= wire.V7 && (m.AwaitingOn == nil || len(m.WaitingCompletions)+len(m.WaitingSignals)+len(m.WaitingNamedSignals) > 0):
			s.violate(Protocol, "a %s suspension must use awaiting_on only", v)
		case v < wire.V7 && m.AwaitingOn != nil:
			s.violate(Protocol, "a %s suspension must not use awaiting_on", v)
		}
		s.reveal(ids)
		s.tracef("  handler suspended awaiting %s", describeAwaited(ids))
		a.ended = endSuspended
	case *wire.ErrorMessage:
		a.ended = endFailed
		s.failed = m
		s.tracef("  attempt failed: [%d] %s", m.Code, m.Message)
		switch uint16(m.Code) {
		case replay.CodeJournalMismatch:
			s.violate(Determinism, "%s", m.Message)
			s.violation.EngineError = m
		case replay.CodeProtocolViolation, replay.CodeUnsupportedFeature:
			s.violate(Protocol, "the engine failed the attempt with [%d] %s", m.Code, m.Message)
			s.violation.EngineError = m
		}
		if m.RelatedCommandType != nil && wire.Type(*m.RelatedCommandType) == wire.TypeRunCommand {
			s.observed++
		}
		if m.Behavior != wire.BehaviorRetry && v < wire.V7 {
			s.violate(Protocol, "a %s ErrorMessage must not set a behavior", v)
		}
	case *wire.EndMessage:
		if !slices.ContainsFunc(s.journal, func(e wire.Message) bool { return e.Type() == wire.TypeOutputCommand }) {
			s.violate(Protocol, "EndMessage without an output command")
		}
		s.tracef("  handler ended")
		a.ended = endOutput
	case *wire.AwaitingOnMessage:
		if v < wire.V7 {
			s.violate(Protocol, "AwaitingOnMessage is not part of %s", v)
			return
		}
		if m.AwaitingOn != nil {
			s.reveal(flattenFuture(m.AwaitingOn, nil))
		}
	default:
		t := msg.Type()
		if !t.IsCommand() || t == wire.TypeInputCommand {
			s.violate(Protocol, "the engine wrote an unexpected %s", t)
			return
		}
		s.tracef("  handler wrote command %d: %s", s.commandCount(), Describe(msg))
		s.journal = append(s.journal, msg)
	}
}

// proposal handles a run proposal: a proposal for a run whose result is
// already journaled means the run executed again.
func (s *sim) proposal(m *wire.ProposeRunCompletionMessage, ack bool) {
	id := m.ResultCompletionID
	s.runs[id]++
	s.observed++
	s.tracef("  handler proposed run %d = %s", id, describeResult(m.Result))
	if want := s.cfg.Version >= wire.V7; ack != want {
		s.violate(Protocol, "the REQUESTED_ACK flag of a %s run proposal is %v", s.cfg.Version, ack)
		return
	}
	for _, e := range s.journal {
		if n, ok := e.(*wire.Notification); ok && n.ID == wire.CompletionID(id) {
			s.violate(ExactlyOnce, "run completion %d is journaled (%s), yet the run executed again and proposed %s",
				id, Describe(n), describeResult(m.Result))
			return
		}
	}
	if slices.ContainsFunc(s.proposals, func(p proposal) bool { return p.id == id }) {
		s.violate(ExactlyOnce, "run %d executed twice in one attempt", id)
		return
	}
	if !slices.ContainsFunc(s.journal, func(e wire.Message) bool {
		r, ok := e.(*wire.RunCommand)
		return ok && r.ResultCompletionID == id
	}) {
		s.violate(Protocol, "run proposal for completion %d, which no journaled run command has", id)
		return
	}
	if m.Result.Kind != wire.ResultValue && m.Result.Kind != wire.ResultFailure {
		s.violate(Protocol, "run proposal for completion %d without a value or failure", id)
		return
	}
	s.proposals = append(s.proposals, proposal{id: id, result: m.Result, ack: ack})
}
