package sim

import (
	"slices"
	"strings"

	"github.com/qcodr/restate-sdk-go/wire"
)

// Uninterrupted runs the invocation of cfg again without interruptions,
// against the answers recorded in journal: one bidi attempt (more only if
// the handler fails with a retryable error) that receives the state as
// state says, and the notifications of journal in their journal order,
// each as soon as the handler has written the command it completes and
// waits for input. Run proposals are answered with the journaled results,
// so a run whose closure returns something else now (a clock reading)
// still gets what the journal recorded.
//
// Pass the State and Partial every attempt of the journal's run used: they
// decide which state reads await a round trip, and so where the handler
// observes what arrived (a cancellation, the winner of a race). For a
// deterministic handler and a correct engine the result then has the same
// commands, output and state as journal. When the handler waits for
// something the journal does not complete at that point, the result has a
// Progress violation.
func Uninterrupted(cfg Config, journal []wire.Message, state Plan) *Result {
	w := &journalWorld{results: map[wire.NotificationID]wire.Result{}}
	sched := &orderedScheduler{plan: Plan{Mode: Bidi, State: state.State, Partial: state.Partial}}
	cfg.Signals = nil
	for _, e := range journal {
		n, ok := e.(*wire.Notification)
		if !ok {
			continue
		}
		if n.MessageType == wire.TypeSignalNotification {
			if n.ID == wire.SignalID(wire.SignalCancel) {
				w.cancel = true
			} else {
				cfg.Signals = append(cfg.Signals, n.ID)
			}
		}
		w.results[n.ID] = n.Result
		sched.order = append(sched.order, n.ID)
	}
	cfg.World = w
	cfg.Scheduler = sched
	cfg.BeforeAttempt = nil
	s := newSim(defaults(cfg))
	sched.sim = s
	return s.finish()
}

// journalWorld answers with the results of a journal.
type journalWorld struct {
	results map[wire.NotificationID]wire.Result
	cancel  bool
}

func (w *journalWorld) Complete(_ wire.Message, id wire.NotificationID) wire.Result {
	if r, ok := w.results[id]; ok {
		return r
	}
	return wire.VoidResult()
}

func (w *journalWorld) Signal(id wire.NotificationID) (wire.Result, bool) {
	r, ok := w.results[id]
	return r, ok
}

func (w *journalWorld) Cancel() bool { return w.cancel }

func (w *journalWorld) RunResult(c uint32, proposed wire.Result) wire.Result {
	if r, ok := w.results[wire.CompletionID(c)]; ok {
		return r
	}
	return proposed
}

// orderedScheduler delivers notifications in a fixed order, each as soon as
// it is pending, and never crashes or closes a stream while it can deliver.
type orderedScheduler struct {
	sim   *sim
	plan  Plan
	order []wire.NotificationID
	next  int
}

func (s *orderedScheduler) Plan(int, bool) Plan { return s.plan }

func (s *orderedScheduler) Idle(pending []*Pending) []int { return s.deliver(pending) }

func (s *orderedScheduler) Store(pending []*Pending, _ bool) []int { return s.deliver(pending) }

func (s *orderedScheduler) Crash(int) (int, bool) { return 0, false }

func (s *orderedScheduler) deliver(pending []*Pending) []int {
	var out []int
	known := s.sim.known()
	for s.next < len(s.order) {
		if known[s.order[s.next]] {
			// Stored already: a run proposal the runtime stored when its
			// attempt ended.
			s.next++
			continue
		}
		i := indexOf(pending, s.order[s.next])
		if i < 0 {
			break
		}
		out = append(out, i)
		s.next++
	}
	return out
}

func indexOf(pending []*Pending, id wire.NotificationID) int {
	for i, p := range pending {
		if p.ID() == id {
			return i
		}
	}
	return -1
}

// Replay runs one request/response attempt against a complete journal, with
// the state as plan says: a deterministic handler re-issues every journaled
// command, its output included, and ends. The result's Violation says how
// it diverged otherwise.
func Replay(cfg Config, journal []wire.Message, plan Plan) *Result {
	cfg.Scheduler = &orderedScheduler{plan: Plan{Mode: RequestResponse, State: plan.State, Partial: plan.Partial}}
	cfg.BeforeAttempt = nil
	s := newSim(defaults(cfg))
	s.journal = slices.Clone(journal)
	s.attempt = 1
	executed := s.executions()
	end := s.runAttempt(s.cfg.Scheduler.Plan(1, cfg.Keyed), 0)
	if n := s.executions() - executed; s.violation == nil && n > s.observed {
		s.violate(ExactlyOnce, "%d side effects executed while replaying a journal that holds every run's result: a side effect ran outside a run, or a journaled run executed again", n)
	}
	if s.violation == nil && end != endOutput {
		s.violate(Determinism, "a replay of the complete journal did not end: %s", strings.Join(s.trace[len(s.trace)-1:], ""))
	}
	return s.result()
}
