package props

import (
	"fmt"

	"github.com/qcodr/restate-sdk-go/internal/sim"
	"github.com/qcodr/restate-sdk-go/wire"
	"pgregory.net/rapid"
)

// world answers the simulated runtime with values drawn from rapid, each
// drawn once and remembered, so that rollbacks and the uninterrupted
// reference execution get the same answers.
type world struct {
	t       *rapid.T
	cfg     *config
	answers map[wire.NotificationID]wire.Result
	// promises remembers each promise's value, shared by gets and peeks.
	promises map[string]wire.Result
	cancel   bool
}

func newWorld(t *rapid.T, cfg *config) *world {
	w := &world{t: t, cfg: cfg, answers: map[wire.NotificationID]wire.Result{}, promises: map[string]wire.Result{}}
	if cfg.cancellation {
		w.cancel = rapid.IntRange(0, 2).Draw(t, "cancel the invocation") == 2
	}
	return w
}

func (w *world) Complete(cmd wire.Message, id wire.NotificationID) wire.Result {
	if r, ok := w.answers[id]; ok {
		return r
	}
	r := w.complete(cmd, id)
	w.answers[id] = r
	return r
}

// failure draws whether the world fails this answer, when WithFailures
// allows it.
func (w *world) failure(label string) (wire.Result, bool) {
	if !w.cfg.failures || rapid.IntRange(0, 3).Draw(w.t, "fail "+label) < 3 {
		return wire.Result{}, false
	}
	return wire.FailureResult(500, "props: the world failed "+label), true
}

func (w *world) value(gen valueGen, label string) wire.Result {
	if gen == nil {
		return wire.ValueResult([]byte{})
	}
	return wire.ValueResult(gen(w.t, label))
}

func (w *world) complete(cmd wire.Message, id wire.NotificationID) wire.Result {
	switch c := cmd.(type) {
	case *wire.CallCommand:
		label := fmt.Sprintf("call %s/%s (%s)", c.ServiceName, c.HandlerName, id)
		if f, ok := w.failure(label); ok {
			return f
		}
		return w.value(w.cfg.calls[c.ServiceName+"/"+c.HandlerName], label)
	case *wire.AttachInvocationCommand:
		return w.invocationResult(c.Target, id, false)
	case *wire.GetInvocationOutputCommand:
		return w.invocationResult(c.Target, id, true)
	case *wire.GetPromiseCommand:
		return w.promise(c.Key)
	case *wire.PeekPromiseCommand:
		if rapid.IntRange(0, 1).Draw(w.t, fmt.Sprintf("promise %q resolved at peek (%s)", c.Key, id)) == 0 {
			return wire.VoidResult()
		}
		return w.promise(c.Key)
	case *wire.CompletePromiseCommand:
		if f, ok := w.failure(fmt.Sprintf("completing promise %q (%s)", c.Key, id)); ok {
			f.Failure.Code = 409
			return f
		}
		return wire.VoidResult()
	}
	return wire.VoidResult()
}

func (w *world) promise(key string) wire.Result {
	if r, ok := w.promises[key]; ok {
		return r
	}
	label := fmt.Sprintf("promise %q", key)
	r, failed := w.failure(label)
	if !failed {
		r = w.value(w.cfg.promises[key], label)
	}
	w.promises[key] = r
	return r
}

func (w *world) invocationResult(t wire.InvocationTarget, id wire.NotificationID, maybe bool) wire.Result {
	var gen valueGen
	label := "invocation " + t.InvocationID
	switch t.Kind {
	case wire.TargetWorkflow:
		label = "workflow " + t.Workflow.WorkflowName + "/" + t.Workflow.WorkflowKey
	case wire.TargetIdempotentRequest:
		r := t.IdempotentRequest
		gen = w.cfg.calls[r.ServiceName+"/"+r.HandlerName]
		label = r.ServiceName + "/" + r.HandlerName + " " + r.IdempotencyKey
	}
	label += " (" + id.String() + ")"
	if maybe && rapid.IntRange(0, 1).Draw(w.t, "completed: "+label) == 0 {
		return wire.VoidResult()
	}
	if f, ok := w.failure(label); ok {
		return f
	}
	return w.value(gen, label)
}

func (w *world) Signal(id wire.NotificationID) (wire.Result, bool) {
	if r, ok := w.answers[id]; ok {
		return r, true
	}
	var gen valueGen
	label := "awakeable " + id.String()
	if id.Kind == wire.IDSignalName {
		gen = w.cfg.signals[id.Name]
		label = "signal " + id.String()
	} else {
		gen = w.cfg.awakeables
	}
	r, failed := w.failure(label)
	if !failed {
		r = w.value(gen, label)
	}
	w.answers[id] = r
	return r, true
}

func (w *world) Cancel() bool { return w.cancel }

func (w *world) RunResult(_ uint32, proposed wire.Result) wire.Result { return proposed }

// choices hands out the schedule's choices, each a labelled rapid draw that
// shrinks towards 0, the plain execution: the first allowed mode, the
// complete state, completions in the order they became possible, no
// suspension, no crash.
type choices struct {
	t *rapid.T
}

// pick returns a choice in [0, n).
func (c *choices) pick(n int, label string) int {
	if n <= 1 {
		return 0
	}
	return rapid.IntRange(0, n-1).Draw(c.t, label)
}

// chance returns true with about one chance in n.
func (c *choices) chance(n int, label string) bool {
	return rapid.IntRange(0, n-1).Draw(c.t, label) == n-1
}

// scheduler makes the simulated runtime's choices.
type scheduler struct {
	cfg     *config
	sc      *scenario
	c       *choices
	crashes int
	// state is the scenario's state plan: the same for every attempt, so
	// that state reads await at the same points in every execution.
	state *sim.Plan
}

// statePlan chooses, once per scenario, how attempts receive the state:
// complete, not at all, or only some keys (each key chosen once).
func (s *scheduler) statePlan() sim.Plan {
	if s.state != nil {
		return *s.state
	}
	p := sim.Plan{State: sim.StateMode(s.c.pick(3, "state mode"))}
	sent := map[string]bool{}
	p.Partial = func(key string) bool {
		v, ok := sent[key]
		if !ok {
			v = !s.c.chance(2, "start message lacks state "+key)
			sent[key] = v
		}
		return v
	}
	s.state = &p
	return p
}

func (s *scheduler) Plan(n int, keyed bool) sim.Plan {
	s.sc.check()
	var p sim.Plan
	if keyed {
		p = s.statePlan()
	}
	if s.cfg.modes[s.c.pick(len(s.cfg.modes), fmt.Sprintf("attempt %d mode", n))] == RequestResponse {
		p.Mode = sim.RequestResponse
	} else {
		p.Mode = sim.Bidi
	}
	return p
}

// Idle closes the stream (the handler suspends) once in a while, and
// otherwise sends some of what is pending, in a chosen order.
func (s *scheduler) Idle(pending []*sim.Pending) []int {
	s.sc.check()
	if s.c.chance(8, "suspend") {
		return nil
	}
	return s.some(pending, 1, "send")
}

// Store stores some of what is pending, and after a suspension at least one
// completion the handler waits for.
func (s *scheduler) Store(pending []*sim.Pending, suspended bool) []int {
	s.sc.check()
	picked := s.some(pending, 0, "store")
	if !suspended {
		return picked
	}
	for _, i := range picked {
		if pending[i].Awaited {
			return picked
		}
	}
	var awaited []int
	for i, p := range pending {
		if p.Awaited {
			awaited = append(awaited, i)
		}
	}
	if len(awaited) == 0 {
		return picked
	}
	return append(picked, awaited[s.c.pick(len(awaited), "store awaited")])
}

// some chooses how many pending completions arrive (at least least) and
// which ones, in order: each choice picks among those not picked yet, so
// all zeros means the order in which they became possible.
func (s *scheduler) some(pending []*sim.Pending, least int, label string) []int {
	if len(pending) == 0 {
		return nil
	}
	n := least + s.c.pick(len(pending)-least+1, label+" count")
	rest := make([]int, len(pending))
	for i := range rest {
		rest[i] = i
	}
	out := make([]int, 0, n)
	for range n {
		j := s.c.pick(len(rest), label)
		out = append(out, rest[j])
		rest = append(rest[:j], rest[j+1:]...)
	}
	return out
}

// Crash fails an attempt now and then, keeping a prefix of what it added:
// between a run's execution and its journaling, between a command and the
// next, or after the output was stored.
func (s *scheduler) Crash(n int) (int, bool) {
	s.sc.check()
	if s.crashes >= s.cfg.maxCrashes || !s.c.chance(6, "crash") {
		return 0, false
	}
	s.crashes++
	return s.c.pick(n+1, "entries kept"), true
}
