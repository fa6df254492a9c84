package replay

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qcodr/restate-sdk-go/wire"
)

// Future is a tree of handles the handler waits on: leaves are handles,
// inner nodes combine their children with a combinator. A single handle is a
// Future with one leaf and any combinator.
type Future struct {
	Combinator wire.CombinatorType // CombinatorUnknown behaves as FirstCompleted
	Handles    []Handle
	Children   []Future

	leaf bool // made by Leaf: encoded on the wire as a leaf of the parent
}

// Single returns the future of one handle.
func Single(h Handle) Future {
	return Future{Combinator: wire.CombinatorFirstCompleted, Handles: []Handle{h}}
}

// Leaf returns a child that stands for the handle in h, a slice of one
// (kept as it is, so a caller can pass one it owns without allocating), at
// its place among the children of a future. State evaluates a future's Handles before its
// Children, which decides a first-completed race when several children are
// already complete; a caller that lists a handle after a nested future puts
// it in Children as a Leaf to keep its order. On the wire a Leaf is encoded
// as a leaf of its parent, as if it were in the parent's Handles.
func Leaf(h []Handle) Future {
	return Future{Combinator: wire.CombinatorFirstCompleted, Handles: h[:1:1], leaf: true}
}

// Settled returns a child whose outcome is already known (Succeeded or
// Failed): a part of a tree whose results the caller already took. It has
// no handles, so the engine never waits for it nor sends it to the runtime:
// a settled child either resolves its parent or is pruned from it. Settled
// of Pending is a child that never resolves.
func Settled(s FutureState) Future {
	// An empty combinator has a fixed state: ALL_COMPLETED of nothing has
	// succeeded, FIRST_SUCCEEDED_OR_ALL_FAILED of nothing has failed, and
	// FIRST_COMPLETED of nothing never completes.
	switch s {
	case Succeeded:
		return Future{Combinator: wire.CombinatorAllCompleted}
	case Failed:
		return Future{Combinator: wire.CombinatorFirstSucceededOrAllFailed}
	}
	return Future{Combinator: wire.CombinatorFirstCompleted}
}

// FutureState is the resolution state of a future tree.
type FutureState uint8

// The states of a future.
const (
	Pending FutureState = iota
	Succeeded
	Failed
)

// Status is what Await decided.
type Status uint8

// The outcomes of Await.
const (
	// StatusReady: the future is resolved; read its leaves with Peek/Take.
	StatusReady Status = iota
	// StatusNeedInput: feed more input, then await again (bidi streaming).
	StatusNeedInput
	// StatusExecuteRun: execute the run of AwaitResult.Run, propose its
	// outcome with ProposeRun, then await again.
	StatusExecuteRun
	// StatusWaitingRun: a run the future depends on is executing; await
	// again after proposing its outcome.
	StatusWaitingRun
	// StatusCancelled: the invocation was cancelled. Child calls were sent
	// the cancel signal; the await must fail with a terminal error 409.
	StatusCancelled
)

func (s Status) String() string {
	switch s {
	case StatusReady:
		return "ready"
	case StatusNeedInput:
		return "need input"
	case StatusExecuteRun:
		return "execute run"
	case StatusWaitingRun:
		return "waiting for a run"
	case StatusCancelled:
		return "cancelled"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// AwaitResult is the answer of Await.
type AwaitResult struct {
	Status Status
	Run    Handle // with StatusExecuteRun
}

func (m *Machine) leafState(h Handle) FutureState { return m.keyState(m.handles[h]) }

func (m *Machine) keyState(k idKey) FutureState {
	r, ok := m.readyResult(k)
	switch {
	case !ok:
		return Pending
	case r.kind == wire.ResultFailure:
		return Failed
	}
	return Succeeded
}

// State evaluates a future against the notifications applied so far, without
// applying more.
func (m *Machine) State(f *Future) FutureState {
	switch f.Combinator {
	case wire.CombinatorAllCompleted:
		for _, h := range f.Handles {
			if m.leafState(h) == Pending {
				return Pending
			}
		}
		for i := range f.Children {
			if m.State(&f.Children[i]) == Pending {
				return Pending
			}
		}
		return Succeeded
	case wire.CombinatorFirstSucceededOrAllFailed:
		pending := false
		for _, h := range f.Handles {
			switch m.leafState(h) {
			case Succeeded:
				return Succeeded
			case Pending:
				pending = true
			}
		}
		for i := range f.Children {
			switch m.State(&f.Children[i]) {
			case Succeeded:
				return Succeeded
			case Pending:
				pending = true
			}
		}
		if pending {
			return Pending
		}
		return Failed
	case wire.CombinatorAllSucceededOrFirstFailed:
		pending := false
		for _, h := range f.Handles {
			switch m.leafState(h) {
			case Failed:
				return Failed
			case Pending:
				pending = true
			}
		}
		for i := range f.Children {
			switch m.State(&f.Children[i]) {
			case Failed:
				return Failed
			case Pending:
				pending = true
			}
		}
		if pending {
			return Pending
		}
		return Succeeded
	}
	// First completed (and unknown): the first completed child, leaves first.
	for _, h := range f.Handles {
		if s := m.leafState(h); s != Pending {
			return s
		}
	}
	for i := range f.Children {
		if s := m.State(&f.Children[i]); s != Pending {
			return s
		}
	}
	return Pending
}

// resolve applies queued notifications one at a time, in arrival order, until
// f resolves or the queue is empty. Applying only as many as needed keeps
// races deterministic: a replay sees the notifications in the order the
// original execution saw them.
func (m *Machine) resolve(f *Future, withCancel bool) bool {
	if len(f.Children) == 0 && len(f.Handles) > flatResolveMin {
		return m.resolveFlat(f, withCancel)
	}
	return m.resolveTree(f, withCancel)
}

// resolveTree is resolve for any future: it evaluates the whole tree after
// each notification.
func (m *Machine) resolveTree(f *Future, withCancel bool) bool {
	for {
		if m.State(f) != Pending || (withCancel && m.leafState(CancelHandle) != Pending) {
			return true
		}
		if _, ok := m.applyNext(); !ok {
			return false
		}
	}
}

// applyNext moves the head of the queue into the ready set.
func (m *Machine) applyNext() (*queued, bool) {
	if m.queueHead == len(m.queue) {
		m.resetQueue()
		return nil, false
	}
	if seededBug && m.queueHead+1 < len(m.queue) {
		m.queue[m.queueHead], m.queue[m.queueHead+1] = m.queue[m.queueHead+1], m.queue[m.queueHead]
	}
	i := m.queueHead
	m.queueHead++
	m.setReady(m.queue[i].key, uint32(i))
	return &m.queue[i], true
}

// flatResolveMin is the number of handles from which resolve evaluates a
// future without children incrementally.
const flatResolveMin = 8

// resolveFlat is resolve for a future without children: re-evaluating all
// of its leaves after each notification made awaiting all of N handles
// O(N²). It counts the leaves per state instead and updates the counts
// when a notification for one of them is applied, which decides exactly as
// State does.
func (m *Machine) resolveFlat(f *Future, withCancel bool) bool {
	var counts [3]int // leaves by FutureState
	// Occurrences of each notification among the leaves.
	occurrences := make(map[idKey]int, len(f.Handles))
	for _, h := range f.Handles {
		counts[m.leafState(h)]++
		occurrences[m.handles[h]]++
	}
	resolved := func() bool {
		switch f.Combinator {
		case wire.CombinatorAllCompleted:
			return counts[Pending] == 0
		case wire.CombinatorFirstSucceededOrAllFailed:
			return counts[Succeeded] > 0 || counts[Pending] == 0
		case wire.CombinatorAllSucceededOrFirstFailed:
			return counts[Failed] > 0 || counts[Pending] == 0
		}
		return counts[Pending] < len(f.Handles)
	}
	for {
		if resolved() || (withCancel && m.leafState(CancelHandle) != Pending) {
			return true
		}
		if m.queueHead == len(m.queue) {
			m.applyNext() // resets the queue
			return false
		}
		key := m.queue[m.queueHead].key
		k := occurrences[key]
		if k == 0 {
			m.applyNext()
			continue
		}
		before := m.keyState(key)
		n, _ := m.applyNext()
		after := Succeeded
		if n.res.kind == wire.ResultFailure {
			after = Failed
		}
		counts[before] -= k
		counts[after] += k
	}
}

// Await makes progress on f. See Status for what to do with each outcome.
// It fails with ErrSuspended once the engine suspended (request/response or
// input closed), and with a 570 *Error when the await cannot be satisfied
// while replaying.
func (m *Machine) Await(f Future) (AwaitResult, error) {
	if err := m.checkOpen(); err != nil {
		return AwaitResult{}, err
	}
	if m.takenIn(&f) {
		return AwaitResult{}, ErrTaken
	}
	if m.opts.DisableImplicitCancellation {
		return m.progress(&f, false)
	}
	res, err := m.progress(&f, true)
	if err != nil || res.Status != StatusReady || m.leafState(CancelHandle) == Pending {
		return res, err
	}
	// Cancelled: learn the invocation id of every child call, cancel them,
	// then consume the cancel signal so that later awaits proceed.
	for i := range m.tracked {
		t := &m.tracked[i]
		if t.invocationID != "" {
			continue
		}
		single := Single(t.handle)
		res, err := m.progress(&single, false)
		if err != nil || res.Status != StatusReady {
			return res, err
		}
		r, _ := m.readyResult(m.handles[t.handle])
		t.invocationID = m.get(r).InvocationID
	}
	tracked := m.tracked
	m.tracked = nil
	for _, t := range tracked {
		if err := m.CancelInvocation(t.invocationID); err != nil {
			return AwaitResult{}, err
		}
	}
	m.deleteReady(m.handles[CancelHandle])
	return AwaitResult{Status: StatusCancelled}, nil
}

func (m *Machine) progress(f *Future, withCancel bool) (AwaitResult, error) {
	if m.resolve(f, withCancel) {
		return AwaitResult{Status: StatusReady}, nil
	}
	if m.state == stateReplaying {
		return AwaitResult{}, m.fail(m.unreplayableAwait(f))
	}
	if h, ok := m.runToExecute(f); ok {
		m.runs[h].executing = true
		return AwaitResult{Status: StatusExecuteRun, Run: h}, nil
	}
	runExecuting := m.runExecuting(f)
	if m.inputClosed {
		if runExecuting {
			return AwaitResult{Status: StatusWaitingRun}, nil
		}
		return AwaitResult{}, m.suspend(f, withCancel)
	}
	if m.version >= wire.V7 {
		send := false
		switch m.opts.AwaitingOn {
		case AwaitingOnAlways:
			send = true
		case AwaitingOnUnlessRunning:
			send = !m.anyRunExecuting()
		}
		if send {
			tree := m.pruned(f, withCancel)
			msg := &wire.AwaitingOnMessage{AwaitingOn: &tree}
			// Waking up without progress (a notification the future does not
			// need arrived) must not repeat the hint that was the last frame.
			payload := msg.AppendPayload(m.awaitingScratch[:0])
			if !bytes.Equal(payload, m.lastAwaitingOn) {
				m.write(msg)
				m.lastAwaitingOn = append(m.lastAwaitingOn[:0], payload...)
			}
			m.awaitingScratch = payload
		}
	}
	if runExecuting {
		return AwaitResult{Status: StatusWaitingRun}, nil
	}
	return AwaitResult{Status: StatusNeedInput}, nil
}

func (m *Machine) forEachHandle(f *Future, fn func(Handle) bool) bool {
	for _, h := range f.Handles {
		if fn(h) {
			return true
		}
	}
	for i := range f.Children {
		if m.forEachHandle(&f.Children[i], fn) {
			return true
		}
	}
	return false
}

func (m *Machine) runToExecute(f *Future) (Handle, bool) {
	var found Handle
	ok := m.forEachHandle(f, func(h Handle) bool {
		if r := m.runs[h]; r != nil && !r.executing && m.leafState(h) == Pending {
			found = h
			return true
		}
		return false
	})
	return found, ok
}

func (m *Machine) runExecuting(f *Future) bool {
	return m.forEachHandle(f, func(h Handle) bool {
		r := m.runs[h]
		return r != nil && r.executing
	})
}

func (m *Machine) anyRunExecuting() bool {
	for _, r := range m.runs {
		if r.executing {
			return true
		}
	}
	return false
}

// pruned converts f (plus the cancel signal when withCancel) to the wire
// tree, leaving out children that are already resolved.
func (m *Machine) pruned(f *Future, withCancel bool) wire.Future {
	tree := m.toWire(f)
	if !withCancel {
		return tree
	}
	outer := wire.Future{CombinatorType: wire.CombinatorFirstCompleted}
	if len(f.Children) == 0 && len(f.Handles) == 1 {
		// A lone handle is inlined next to the cancel signal. A combinator
		// stays nested even when pruning left it one child, as in the
		// reference core.
		outer.WaitingCompletions = tree.WaitingCompletions
		outer.WaitingSignals = tree.WaitingSignals
		outer.WaitingNamedSignals = tree.WaitingNamedSignals
	} else {
		outer.NestedFutures = []wire.Future{tree}
	}
	outer.WaitingSignals = append(outer.WaitingSignals, wire.SignalCancel)
	return outer
}

func (m *Machine) toWire(f *Future) wire.Future {
	comb := f.Combinator
	if comb == wire.CombinatorUnknown {
		comb = wire.CombinatorFirstCompleted
	}
	out := wire.Future{CombinatorType: comb}
	keep := func(s FutureState) bool {
		switch comb {
		case wire.CombinatorAllCompleted:
			return s == Pending
		case wire.CombinatorFirstSucceededOrAllFailed:
			return s != Failed
		case wire.CombinatorAllSucceededOrFirstFailed:
			return s != Succeeded
		}
		return true
	}
	leaf := func(h Handle) {
		if !keep(m.leafState(h)) {
			return
		}
		id := m.id(m.handles[h])
		switch id.Kind {
		case wire.IDCompletion:
			out.WaitingCompletions = append(out.WaitingCompletions, id.Index)
		case wire.IDSignal:
			out.WaitingSignals = append(out.WaitingSignals, id.Index)
		case wire.IDSignalName:
			out.WaitingNamedSignals = append(out.WaitingNamedSignals, id.Name)
		}
	}
	for _, h := range f.Handles {
		leaf(h)
	}
	for i := range f.Children {
		c := &f.Children[i]
		if c.leaf {
			leaf(c.Handles[0])
			continue
		}
		if !keep(m.State(c)) {
			continue
		}
		out.NestedFutures = append(out.NestedFutures, m.toWire(c))
	}
	return out
}

func flatten(f *wire.Future, s *wire.SuspensionMessage) {
	s.WaitingCompletions = append(s.WaitingCompletions, f.WaitingCompletions...)
	s.WaitingSignals = append(s.WaitingSignals, f.WaitingSignals...)
	s.WaitingNamedSignals = append(s.WaitingNamedSignals, f.WaitingNamedSignals...)
	for i := range f.NestedFutures {
		flatten(&f.NestedFutures[i], s)
	}
}

func (m *Machine) suspend(f *Future, withCancel bool) error {
	tree := m.pruned(f, withCancel)
	var s wire.SuspensionMessage
	flatten(&tree, &s)
	if len(s.WaitingCompletions)+len(s.WaitingSignals)+len(s.WaitingNamedSignals) == 0 {
		// The runtime rejects an empty suspension, V7 tree included.
		return m.fail(&Error{Code: CodeInternal, Message: "cannot suspend on an empty set of awaited notifications"})
	}
	if m.version >= wire.V7 {
		s = wire.SuspensionMessage{AwaitingOn: &tree}
	}
	m.write(&s)
	m.state = stateClosed
	m.err = ErrSuspended
	return ErrSuspended
}

func (m *Machine) unreplayableAwait(f *Future) *Error {
	var ids []string
	var run *runInfo
	m.forEachHandle(f, func(h Handle) bool {
		if m.leafState(h) != Pending {
			return false
		}
		id := m.id(m.handles[h])
		desc := id.String()
		if id.Kind == wire.IDSignal && id.Index >= 17 {
			desc = "awakeable " + AwakeableID(m.start.ID, id.Index)
		}
		if r := m.runs[h]; r != nil {
			run = r
			desc = fmt.Sprintf("run %q (command %d)", r.name, r.commandIndex)
		}
		ids = append(ids, desc)
		return false
	})
	e := &Error{
		Code: CodeJournalMismatch,
		Message: fmt.Sprintf("journal mismatch after index %d: the handler awaits %s, which the journal never completed, "+
			"but the journal holds more commands after this point; the handler code is not deterministic or changed while this invocation was in flight",
			m.commandIndex, strings.Join(ids, ", ")),
	}
	if run != nil {
		idx := run.commandIndex
		e.RelatedIndex, e.RelatedName, e.RelatedType = &idx, run.name, wire.TypeRunCommand
	}
	return e
}

// Peek returns the result of a handle if its notification was applied.
func (m *Machine) Peek(h Handle) (wire.Result, bool) {
	r, ok := m.readyResult(m.handles[h])
	if !ok {
		return wire.Result{}, false
	}
	return m.get(r), true
}

// Take returns the result of a handle and forgets it. A handle can be taken
// once; the caller keeps the result.
func (m *Machine) Take(h Handle) (wire.Result, bool) {
	k := m.handles[h]
	p, ok := m.readyResult(k)
	if !ok {
		return wire.Result{}, false
	}
	r := m.get(p)
	m.deleteReady(k)
	if h != CancelHandle {
		m.markTaken(h)
	}
	// Remember the invocation id of a tracked call for its cancellation.
	// tracked is in handle order (handles only grow), so this is a binary
	// search rather than a scan per Take.
	if i, found := slices.BinarySearchFunc(m.tracked, h, func(t trackedCall, h Handle) int {
		return cmp.Compare(t.handle, h)
	}); found {
		m.tracked[i].invocationID = r.InvocationID
	}
	return r, true
}

// markTaken records that h's result was taken.
func (m *Machine) markTaken(h Handle) {
	w := int(h / 64)
	if w >= len(m.taken) {
		m.taken = append(m.taken, make([]uint64, w+1-len(m.taken))...)
	}
	m.taken[w] |= 1 << (uint(h) % 64)
}

// takenIn reports whether a handle of f had its result taken.
func (m *Machine) takenIn(f *Future) bool {
	if len(m.taken) == 0 {
		return false
	}
	for _, h := range f.Handles {
		if w := int(h / 64); w < len(m.taken) && m.taken[w]&(1<<(uint(h)%64)) != 0 {
			return true
		}
	}
	for i := range f.Children {
		if m.takenIn(&f.Children[i]) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Run outcomes

// OnMaxAttempts says what happens when a run's retry policy is exhausted.
type OnMaxAttempts uint8

// The outcomes of an exhausted retry policy.
const (
	// FailOnMaxAttempts turns the last retryable failure into a terminal one.
	FailOnMaxAttempts OnMaxAttempts = iota
	// PauseOnMaxAttempts pauses the invocation (V7 only).
	PauseOnMaxAttempts
)

// RetryPolicy bounds the retries of a run. The zero value retries forever
// and leaves the delay to the runtime's invocation retry policy.
type RetryPolicy struct {
	// InitialInterval is the delay before the first retry; 0 leaves the
	// delay to the runtime.
	InitialInterval time.Duration
	// Factor multiplies the delay after each retry (exponential backoff);
	// values ≤ 1 keep it fixed.
	Factor float64
	// MaxInterval caps the delay; 0 = no cap.
	MaxInterval time.Duration
	// MaxAttempts is the number of executions after which the run gives up;
	// 0 = unbounded.
	MaxAttempts uint32
	// MaxDuration is the time spent retrying after which the run gives up;
	// 0 = unbounded.
	MaxDuration time.Duration
	// OnMax says what giving up means.
	OnMax OnMaxAttempts
}

// RunOutcome is the result of executing a run closure.
type RunOutcome struct {
	// Result is a value or a terminal failure; ResultNone means the closure
	// failed with a retryable error described by Retryable.
	Result    wire.Result
	Retryable *Error
	// Duration is how long this execution took (for MaxDuration).
	Duration time.Duration
}

// ProposeRun reports the outcome of an executed run. Values and terminal
// failures are proposed to the runtime; the run's handle completes only when
// the runtime's notification (or, on V7, its ack) arrives, never directly
// from the closure. A retryable failure ends the attempt with an
// ErrorMessage carrying the retry delay, or, once the policy is exhausted,
// becomes a terminal failure (or a pause on V7).
func (m *Machine) ProposeRun(h Handle, out RunOutcome, policy RetryPolicy) error {
	if m.state != stateProcessing {
		if m.state == stateClosed {
			return m.closedErr()
		}
		return nil
	}
	run := m.runs[h]
	if run == nil {
		return m.fail(&Error{Code: CodeInternal, Message: fmt.Sprintf("run handle %d has no pending execution", h)})
	}
	if policy.OnMax == PauseOnMaxAttempts && m.version < wire.V7 {
		return m.fail(unsupported("pausing on max attempts", m.version, wire.V7))
	}
	if err := m.checkFailure(out.Result); err != nil {
		return err
	}
	delete(m.runs, h)
	result := out.Result
	if result.Kind == wire.ResultNone {
		e := out.Retryable
		if e == nil {
			e = &Error{Code: CodeInternal, Message: "run failed"}
		}
		var attempts uint32
		var elapsed time.Duration
		if m.processingFirstEntry {
			attempts = m.start.RetryCountSinceLastStoredEntry
			if attempts > 0 {
				elapsed = time.Duration(m.start.DurationSinceLastStoredEntry) * time.Millisecond
			}
		}
		attempts++
		elapsed += out.Duration
		idx := run.commandIndex
		related := func(e *Error) *Error {
			e.RelatedIndex, e.RelatedName, e.RelatedType = &idx, run.name, wire.TypeRunCommand
			return e
		}
		exhausted := (policy.MaxAttempts > 0 && policy.MaxAttempts <= attempts) ||
			(policy.MaxDuration > 0 && policy.MaxDuration <= elapsed)
		switch {
		case !exhausted:
			retry := *e
			retry.NextRetryDelay = policy.delay(attempts)
			return m.fail(related(&retry))
		case policy.OnMax == PauseOnMaxAttempts:
			pause := *e
			pause.Behavior = wire.BehaviorPause
			return m.fail(related(&pause))
		}
		result = wire.FailureResult(uint32(e.Code), e.Message)
	}
	c := uint32(m.handles[h])
	flags := uint16(0)
	if m.version >= wire.V7 {
		flags = wire.FlagRequestedAck
		if m.proposedRuns == nil {
			m.proposedRuns = make(map[uint32]wire.Result)
		}
		m.proposedRuns[c] = result
	}
	m.out = wire.AppendFrame(m.out, &wire.ProposeRunCompletionMessage{ResultCompletionID: c, Result: result}, flags)
	m.lastAwaitingOn = m.lastAwaitingOn[:0]
	return nil
}

func (p RetryPolicy) delay(attempt uint32) time.Duration {
	if p.InitialInterval <= 0 {
		return 0
	}
	d := float64(p.InitialInterval)
	if p.Factor > 1 {
		for i := uint32(1); i < attempt; i++ {
			d *= p.Factor
			if p.MaxInterval > 0 && d >= float64(p.MaxInterval) {
				return p.MaxInterval
			}
			if d > float64(365*24*time.Hour) {
				d = float64(365 * 24 * time.Hour)
				break
			}
		}
	}
	out := time.Duration(d)
	if p.MaxInterval > 0 && out > p.MaxInterval {
		out = p.MaxInterval
	}
	return out
}
