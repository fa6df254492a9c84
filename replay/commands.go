package replay

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"slices"

	"github.com/qcodr/restate-sdk-go/wire"
)

// issue writes cmd while processing, or matches it against the next
// journaled command while replaying and returns the journaled one.
func (m *Machine) issue(cmd wire.Message) (wire.Message, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	m.commandIndex++
	if m.state == stateProcessing {
		m.processingFirstEntry = false
		m.write(cmd)
		return nil, nil
	}
	head := m.popCommand()
	if head.Type() != cmd.Type() {
		return nil, m.fail(m.mismatch(head, cmd, nil))
	}
	if diffs := compareCommand(head, cmd); len(diffs) > 0 {
		return nil, m.fail(m.mismatch(head, cmd, diffs))
	}
	return head, nil
}

func (m *Machine) checkFailure(r wire.Result) error {
	if r.Kind == wire.ResultFailure && len(r.Failure.Metadata) > 0 && m.version < wire.V6 {
		return m.fail(unsupported("terminal error metadata", m.version, wire.V6))
	}
	return nil
}

func (m *Machine) checkNonEmpty(what string, s *string) error {
	if s != nil && *s == "" {
		return m.fail(&Error{Code: CodeInternal, Message: what + " must not be empty when set"})
	}
	return nil
}

func (m *Machine) checkScope(scope, limitKey *string) error {
	if err := m.checkNonEmpty("scope", scope); err != nil {
		return err
	}
	if err := m.checkNonEmpty("limit key", limitKey); err != nil {
		return err
	}
	if scope != nil && m.version < wire.V7 {
		return m.fail(unsupported("scope", m.version, wire.V7))
	}
	if limitKey != nil && m.version < wire.V7 {
		return m.fail(unsupported("limit key", m.version, wire.V7))
	}
	if limitKey != nil && scope == nil {
		return m.fail(&Error{Code: CodeInternal, Message: "a limit key needs a scope"})
	}
	return nil
}

// ---------------------------------------------------------------------------
// State

// GetState reads a state value. Served from the eager state when it knows
// the key (the result is ready at once and journaled as GetEagerState),
// otherwise it issues a lazy get whose result arrives as a notification.
// A void result means absent.
func (m *Machine) GetState(key string) (Handle, error) {
	if err := m.checkOpen(); err != nil {
		return 0, err
	}
	c := m.nextCompletion()
	h := m.newHandle(wire.CompletionID(c))
	m.commandIndex++
	if m.state == stateProcessing {
		m.processingFirstEntry = false
		if v, ok := m.eager[key]; ok || !m.partialState {
			cmd := &wire.GetEagerStateCommand{Key: []byte(key), Result: wire.VoidResult()}
			if ok && v.present {
				cmd.Result = wire.ValueResult(v.value)
			}
			m.write(cmd)
			m.setReadyResult(completionKey(c), m.compact(&cmd.Result))
			return h, nil
		}
		m.write(&wire.GetLazyStateCommand{Key: []byte(key), ResultCompletionID: c})
		return h, nil
	}
	head := m.popCommand()
	switch j := head.(type) {
	case *wire.GetEagerStateCommand:
		var d differ
		d.bytes("key", j.Key, []byte(key))
		d.str("name", j.Name, "")
		if len(d.diffs) > 0 {
			return 0, m.fail(m.mismatch(head, &wire.GetEagerStateCommand{Key: []byte(key)}, d.diffs))
		}
		if j.Result.Kind != wire.ResultVoid && j.Result.Kind != wire.ResultValue {
			return 0, m.fail(protocolViolation("journaled GetEagerStateCommand at index %d has no result", m.commandIndex))
		}
		m.setReadyResult(completionKey(c), m.compact(&j.Result))
	case *wire.GetLazyStateCommand:
		var d differ
		d.bytes("key", j.Key, []byte(key))
		d.u32("completion id", j.ResultCompletionID, c)
		d.str("name", j.Name, "")
		if len(d.diffs) > 0 {
			return 0, m.fail(m.mismatch(head, &wire.GetLazyStateCommand{Key: []byte(key), ResultCompletionID: c}, d.diffs))
		}
	default:
		return 0, m.fail(m.mismatch(head, &wire.GetLazyStateCommand{Key: []byte(key), ResultCompletionID: c}, nil))
	}
	return h, nil
}

// GetStateKeys lists the state keys, eagerly when the whole state is known.
// The result is a state-keys result with the keys sorted.
func (m *Machine) GetStateKeys() (Handle, error) {
	if err := m.checkOpen(); err != nil {
		return 0, err
	}
	c := m.nextCompletion()
	h := m.newHandle(wire.CompletionID(c))
	m.commandIndex++
	if m.state == stateProcessing {
		m.processingFirstEntry = false
		if !m.partialState {
			keys := make([][]byte, 0, len(m.eager))
			for k, v := range m.eager {
				if v.present {
					keys = append(keys, []byte(k))
				}
			}
			slices.SortFunc(keys, bytes.Compare)
			m.write(&wire.GetEagerStateKeysCommand{Keys: keys})
			m.setReadyResult(completionKey(c), m.whole(&wire.Result{Kind: wire.ResultStateKeys, StateKeys: keys}))
			return h, nil
		}
		m.write(&wire.GetLazyStateKeysCommand{ResultCompletionID: c})
		return h, nil
	}
	head := m.popCommand()
	switch j := head.(type) {
	case *wire.GetEagerStateKeysCommand:
		if j.Name != "" {
			return 0, m.fail(m.mismatch(head, &wire.GetEagerStateKeysCommand{}, []string{"name differs"}))
		}
		m.setReadyResult(completionKey(c), m.whole(&wire.Result{Kind: wire.ResultStateKeys, StateKeys: j.Keys}))
	case *wire.GetLazyStateKeysCommand:
		var d differ
		d.u32("completion id", j.ResultCompletionID, c)
		d.str("name", j.Name, "")
		if len(d.diffs) > 0 {
			return 0, m.fail(m.mismatch(head, &wire.GetLazyStateKeysCommand{ResultCompletionID: c}, d.diffs))
		}
	default:
		return 0, m.fail(m.mismatch(head, &wire.GetLazyStateKeysCommand{ResultCompletionID: c}, nil))
	}
	return h, nil
}

// SetState writes a state value.
func (m *Machine) SetState(key string, value []byte) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	m.eager[key] = stateValue{value: value, present: true}
	_, err := m.issue(&wire.SetStateCommand{Key: []byte(key), Value: value})
	return err
}

// ClearState removes a state value.
func (m *Machine) ClearState(key string) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	m.eager[key] = stateValue{}
	_, err := m.issue(&wire.ClearStateCommand{Key: []byte(key)})
	return err
}

// ClearAllState removes every state value; afterwards the engine knows the
// whole (empty) state.
func (m *Machine) ClearAllState() error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	clear(m.eager)
	m.partialState = false
	_, err := m.issue(&wire.ClearAllStateCommand{})
	return err
}

// ---------------------------------------------------------------------------
// Timers, promises, runs

// Sleep starts a durable timer that fires at wakeUpTime (absolute
// milliseconds since the Unix epoch). On replay only the name is compared.
func (m *Machine) Sleep(wakeUpTime uint64, name string) (Handle, error) {
	return m.completable(&wire.SleepCommand{WakeUpTime: wakeUpTime, Name: name}, func(c uint32, cmd wire.Message) {
		cmd.(*wire.SleepCommand).ResultCompletionID = c
	})
}

// completable allocates one completion id, lets set put it into the command,
// and issues it.
func (m *Machine) completable(cmd wire.Message, set func(uint32, wire.Message)) (Handle, error) {
	if err := m.checkOpen(); err != nil {
		return 0, err
	}
	c := m.nextCompletion()
	set(c, cmd)
	if _, err := m.issue(cmd); err != nil {
		return 0, err
	}
	return m.newHandle(wire.CompletionID(c)), nil
}

// GetPromise awaits the workflow's durable promise key.
func (m *Machine) GetPromise(key string) (Handle, error) {
	return m.completable(&wire.GetPromiseCommand{Key: key}, func(c uint32, cmd wire.Message) {
		cmd.(*wire.GetPromiseCommand).ResultCompletionID = c
	})
}

// PeekPromise reads the durable promise key without waiting: a void result
// means not completed yet.
func (m *Machine) PeekPromise(key string) (Handle, error) {
	return m.completable(&wire.PeekPromiseCommand{Key: key}, func(c uint32, cmd wire.Message) {
		cmd.(*wire.PeekPromiseCommand).ResultCompletionID = c
	})
}

// CompletePromise resolves (a value result) or rejects (a failure result)
// the durable promise key. Its handle completes with void when accepted and
// with a failure when the promise was already completed.
func (m *Machine) CompletePromise(key string, completion wire.Result) (Handle, error) {
	if err := m.checkOpen(); err != nil {
		return 0, err
	}
	if err := m.checkFailure(completion); err != nil {
		return 0, err
	}
	return m.completable(&wire.CompletePromiseCommand{Key: key, Completion: completion}, func(c uint32, cmd wire.Message) {
		cmd.(*wire.CompletePromiseCommand).ResultCompletionID = c
	})
}

// Run journals a side effect named name. When its result is already known
// (journaled by an earlier attempt) the closure must not execute again and
// needsExecution is false; otherwise the engine asks for its execution from
// Await with StatusExecuteRun, and the caller reports the outcome with
// ProposeRun.
func (m *Machine) Run(name string) (h Handle, needsExecution bool, err error) {
	if err := m.checkOpen(); err != nil {
		return 0, false, err
	}
	c := m.nextCompletion()
	if j := m.peekJournal(); j != nil && m.isRun(j, c, name) {
		// Replaying a matching run: skip building the command, which
		// issue would allocate (and decode the journaled one).
		m.commandIndex++
		m.popJournal()
	} else if _, err := m.issue(&wire.RunCommand{ResultCompletionID: c, Name: name}); err != nil {
		return 0, false, err
	}
	h = m.newCompletionHandle(c)
	if m.completionKnown(c) {
		return h, false, nil
	}
	m.runs[h] = &runInfo{commandIndex: uint32(m.commandIndex), name: name}
	return h, true, nil
}

// RunAwaited is the answer of RunAwait.
type RunAwaited struct {
	// Handle is the run's handle, as Run returns it.
	Handle Handle
	// NeedsExecution is Run's: the journal does not hold the run's result,
	// and RunAwait neither awaited nor took it.
	NeedsExecution bool
	// Status is the await's when the run did not need execution; with
	// StatusReady, the run's result was taken into RunAwait's res.
	Status Status
}

// RunAwait is Run(name) and, when the run does not need execution (its
// result is in the journal), Await(Single(h)) and, when that is ready,
// Take(h), which it stores in *res: the same calls, with the same
// outcomes, commands and errors, in one call. An error is that of the
// first call that failed; the await and the take only happen when the run
// needs no execution. *res is only written with StatusReady.
//
// Awaiting a run whose result arrived is cheaper here than through Await:
// the run's handle was created by this call, so nothing took it yet, and
// unless the cancel signal was applied meanwhile, the await is only the
// application of the queued notifications up to the run's.
func (m *Machine) RunAwait(name string, res *wire.Result) (RunAwaited, error) {
	h, needs, err := m.Run(name)
	if err != nil || needs {
		return RunAwaited{Handle: h, NeedsExecution: needs}, err
	}
	k := m.handles[h]
	withCancel := !m.opts.DisableImplicitCancellation
	// resolveTree for Single(h): apply queued notifications until h's or,
	// with implicit cancellation, the cancel signal's is applied.
	for {
		if _, ok := m.readyRef(k); ok {
			break
		}
		if withCancel {
			if _, ok := m.readyRef(cancelKey); ok {
				break
			}
		}
		if _, ok := m.applyNext(); !ok {
			break
		}
	}
	if ref, ok := m.readyRef(k); ok {
		if _, cancelled := m.readyRef(cancelKey); !withCancel || !cancelled {
			// Await would report StatusReady without more ado; Take.
			m.getInto(m.resultAt(ref), res)
			m.deleteReady(k)
			m.markTaken(h)
			return RunAwaited{Handle: h, Status: StatusReady}, nil
		}
	}
	// The cancel signal was applied (or, were the journal inconsistent,
	// the run's result is missing): the general await decides.
	ar, err := m.Await(Single(h))
	if err != nil {
		return RunAwaited{Handle: h}, err
	}
	if ar.Status == StatusReady {
		*res, _ = m.Take(h)
	}
	return RunAwaited{Handle: h, Status: ar.Status}, nil
}

// completionKnown reports whether a notification for completion c was
// applied or is queued, like knownNotification, but in constant time for
// the ids the received set covers. For a run's completion id the two agree:
// such a notification only reaches the ready set through the queue, and
// nothing can take it before the run exists.
func (m *Machine) completionKnown(c uint32) bool {
	if c < maxReceivedID {
		w := int(c / 64)
		return w < len(m.received) && m.received[w]&(1<<(c%64)) != 0
	}
	return m.knownNotification(completionKey(c))
}

// markReceived records that a notification for completion c arrived.
func (m *Machine) markReceived(c uint32) {
	if c >= maxReceivedID {
		return
	}
	w := int(c / 64)
	if w >= len(m.received) {
		m.received = append(m.received, make([]uint64, w+1-len(m.received))...)
	}
	m.received[w] |= 1 << (c % 64)
}

// knownNotification reports whether a notification for id was applied or is
// queued. Only Run may look into the queue: it decides whether a closure
// executes, not which await resolves.
func (m *Machine) knownNotification(k idKey) bool {
	if _, ok := m.readyRef(k); ok {
		return true
	}
	for i := range m.queue[m.queueHead:] {
		if m.queue[m.queueHead+i].key == k {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Calls and invocations

// CallTarget is the target and options of a call or a one-way call.
type CallTarget struct {
	Service        string
	Handler        string
	Key            string // object or workflow key; empty for services
	IdempotencyKey *string
	Scope          *string // V7
	LimitKey       *string // V7
	Headers        []wire.HeaderEntry
	Name           string // the command name shown in the journal
}

func (m *Machine) checkTarget(t *CallTarget) error {
	if err := m.checkNonEmpty("idempotency key", t.IdempotencyKey); err != nil {
		return err
	}
	return m.checkScope(t.Scope, t.LimitKey)
}

// Call invokes a handler and returns two handles: the callee's invocation id
// (completes with an invocation id result) and its result.
func (m *Machine) Call(t CallTarget, parameter []byte) (invocationID, result Handle, err error) {
	if err := m.checkOpen(); err != nil {
		return 0, 0, err
	}
	if err := m.checkTarget(&t); err != nil {
		return 0, 0, err
	}
	idC := m.nextCompletion()
	resC := m.nextCompletion()
	if _, err := m.issue(&wire.CallCommand{
		ServiceName:                 t.Service,
		HandlerName:                 t.Handler,
		Parameter:                   nonNil(parameter),
		Headers:                     t.Headers,
		Key:                         t.Key,
		IdempotencyKey:              t.IdempotencyKey,
		Scope:                       t.Scope,
		LimitKey:                    t.LimitKey,
		InvocationIDNotificationIdx: idC,
		ResultCompletionID:          resC,
		Name:                        t.Name,
	}); err != nil {
		return 0, 0, err
	}
	invocationID = m.newHandle(wire.CompletionID(idC))
	result = m.newHandle(wire.CompletionID(resC))
	if !m.opts.DisableImplicitCancellation {
		m.tracked = append(m.tracked, trackedCall{handle: invocationID})
	}
	return invocationID, result, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Send starts an invocation without waiting for its result, at invokeTime
// (absolute ms since the epoch; 0 = now). The handle completes with the
// callee's invocation id.
func (m *Machine) Send(t CallTarget, parameter []byte, invokeTime uint64) (invocationID Handle, err error) {
	if err := m.checkOpen(); err != nil {
		return 0, err
	}
	if err := m.checkTarget(&t); err != nil {
		return 0, err
	}
	c := m.nextCompletion()
	if _, err := m.issue(&wire.OneWayCallCommand{
		ServiceName:                 t.Service,
		HandlerName:                 t.Handler,
		Parameter:                   nonNil(parameter),
		InvokeTime:                  invokeTime,
		Headers:                     t.Headers,
		Key:                         t.Key,
		IdempotencyKey:              t.IdempotencyKey,
		Scope:                       t.Scope,
		LimitKey:                    t.LimitKey,
		InvocationIDNotificationIdx: c,
		Name:                        t.Name,
	}); err != nil {
		return 0, err
	}
	invocationID = m.newHandle(wire.CompletionID(c))
	if !m.opts.DisableImplicitCancellation && m.opts.CancelOneWayCalls {
		m.tracked = append(m.tracked, trackedCall{handle: invocationID})
	}
	return invocationID, nil
}

// CancelInvocation sends the cancel signal to another invocation.
func (m *Machine) CancelInvocation(invocationID string) error {
	_, err := m.issue(&wire.SendSignalCommand{
		TargetInvocationID: invocationID,
		Idx:                wire.SignalCancel,
		Result:             wire.VoidResult(),
	})
	return err
}

// SendSignal resolves (value result) or rejects (failure result) the named
// signal of another invocation.
func (m *Machine) SendSignal(invocationID, name string, result wire.Result) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	if err := m.checkFailure(result); err != nil {
		return err
	}
	if name == "" {
		// The command would name no signal at all (index 0, unknown).
		return m.fail(&Error{Code: CodeInternal, Message: "the name of a signal to send must not be empty"})
	}
	_, err := m.issue(&wire.SendSignalCommand{TargetInvocationID: invocationID, SignalName: name, Result: result})
	return err
}

func (m *Machine) checkInvocationTarget(t wire.InvocationTarget) error {
	switch t.Kind {
	case wire.TargetWorkflow:
		return m.checkScope(t.Workflow.Scope, nil)
	case wire.TargetIdempotentRequest:
		return m.checkScope(t.IdempotentRequest.Scope, nil)
	}
	return nil
}

// Attach awaits the result of another invocation.
func (m *Machine) Attach(t wire.InvocationTarget) (Handle, error) {
	if err := m.checkOpen(); err != nil {
		return 0, err
	}
	if err := m.checkInvocationTarget(t); err != nil {
		return 0, err
	}
	return m.completable(&wire.AttachInvocationCommand{Target: t}, func(c uint32, cmd wire.Message) {
		cmd.(*wire.AttachInvocationCommand).ResultCompletionID = c
	})
}

// GetInvocationOutput reads the result of another invocation: void when it
// has not completed yet.
func (m *Machine) GetInvocationOutput(t wire.InvocationTarget) (Handle, error) {
	if err := m.checkOpen(); err != nil {
		return 0, err
	}
	if err := m.checkInvocationTarget(t); err != nil {
		return 0, err
	}
	return m.completable(&wire.GetInvocationOutputCommand{Target: t}, func(c uint32, cmd wire.Message) {
		cmd.(*wire.GetInvocationOutputCommand).ResultCompletionID = c
	})
}

// ---------------------------------------------------------------------------
// Awakeables and signals

// Awakeable creates an awakeable: no command is written; the handle waits
// for the signal whose id the returned awakeable id encodes.
func (m *Machine) Awakeable() (Handle, string, error) {
	if err := m.checkOpen(); err != nil {
		return 0, "", err
	}
	s := m.nextSignalID
	m.nextSignalID++
	return m.newHandle(wire.SignalID(s)), AwakeableID(m.start.ID, s), nil
}

// AwakeableID returns the id of awakeable signal s of the invocation whose
// binary id is invocationID: "sign_1" followed by unpadded base64url of the
// id and the big-endian signal id.
func AwakeableID(invocationID []byte, s uint32) string {
	raw := make([]byte, 0, len(invocationID)+4)
	raw = append(raw, invocationID...)
	raw = binary.BigEndian.AppendUint32(raw, s)
	return "sign_1" + base64.RawURLEncoding.EncodeToString(raw)
}

// CompleteAwakeable resolves (value result) or rejects (failure result) an
// awakeable by id.
func (m *Machine) CompleteAwakeable(id string, result wire.Result) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	if err := m.checkFailure(result); err != nil {
		return err
	}
	_, err := m.issue(&wire.CompleteAwakeableCommand{AwakeableID: id, Result: result})
	return err
}

// Signal returns a handle waiting for the named signal of this invocation.
// No command is written.
func (m *Machine) Signal(name string) (Handle, error) {
	if err := m.checkOpen(); err != nil {
		return 0, err
	}
	return m.newHandle(wire.NamedSignalID(name)), nil
}

// ---------------------------------------------------------------------------
// Output

// Output writes the handler's result: a value, or a terminal failure.
func (m *Machine) Output(result wire.Result) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	if err := m.checkFailure(result); err != nil {
		return err
	}
	_, err := m.issue(&wire.OutputCommand{Result: result})
	return err
}

// End ends the attempt after the output was written. Ending while journaled
// commands remain to be replayed is a journal mismatch.
func (m *Machine) End() error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	if m.state == stateReplaying {
		m.commandIndex++
		return m.fail(m.mismatch(m.command(m.journal[m.journalHead]), nil, nil))
	}
	m.write(&wire.EndMessage{})
	m.state = stateClosed
	m.err = ErrClosed
	return nil
}
