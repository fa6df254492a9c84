package replay

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/qcodr/restate-sdk-go/wire"
)

type machineState uint8

const (
	stateWaitingStart machineState = iota
	stateWaitingEntries
	stateReplaying
	stateProcessing
	stateClosed
)

func (s machineState) String() string {
	switch s {
	case stateWaitingStart:
		return "waiting for the start message"
	case stateWaitingEntries:
		return "waiting for the replayed journal"
	case stateReplaying:
		return "replaying"
	case stateProcessing:
		return "processing"
	}
	return "closed"
}

// AwaitingOnPolicy says when a V7 engine sends AwaitingOnMessage hints while
// it waits for input on an open stream.
type AwaitingOnPolicy uint8

// The AwaitingOnMessage policies.
const (
	// AwaitingOnUnlessRunning sends the hint unless a run is executing (default).
	AwaitingOnUnlessRunning AwaitingOnPolicy = iota
	AwaitingOnAlways
	AwaitingOnNever
)

// Options tune the engine. The zero value is the default behaviour, which
// matches the reference core's defaults.
type Options struct {
	// DisableImplicitCancellation turns off the built-in handling of the
	// cancel signal: by default every await also waits for it, and when it
	// arrives the engine cancels the invocation's child calls and the await
	// fails with code 409.
	DisableImplicitCancellation bool
	// CancelOneWayCalls also cancels invocations started with one-way calls
	// when the invocation is cancelled (off by default).
	CancelOneWayCalls bool
	// AwaitingOn is the V7 AwaitingOnMessage policy.
	AwaitingOn AwaitingOnPolicy
	// JournalMismatchBehavior is the V7 error behaviour of journal
	// mismatches (570). On V5/V6 it is always retry.
	JournalMismatchBehavior wire.ErrorBehavior
	// MaxFrameLength bounds frames fed with FeedBytes; 0 means
	// wire.DefaultMaxFrameLength.
	MaxFrameLength uint32
}

// Handle refers to one awaitable notification of the invocation (a
// completion, an awakeable, a named signal). Handles are engine-internal and
// never appear on the wire.
type Handle uint32

// CancelHandle is the handle of the built-in cancel signal.
const CancelHandle Handle = 0

type stateValue struct {
	value   []byte
	present bool
}

type runInfo struct {
	commandIndex uint32
	name         string
	executing    bool
}

type trackedCall struct {
	handle       Handle // invocation id notification
	invocationID string
}

// maxReceivedID bounds the completion ids tracked in Machine.received
// (128 KiB at most); notifications for larger ids are found by scanning.
const maxReceivedID = 1 << 20

// maxSizeHint bounds the capacity reserved from StartMessage.known_entries.
const maxSizeHint = 1 << 14

// idKey is a notification id packed into one integer, which hashes and
// compares much faster than a wire.NotificationID: the IDKind in the high 32
// bits and the completion or signal id in the low ones; for a named signal,
// the index of its name in Machine.names.
type idKey uint64

// cancelKey is the key of the built-in cancel signal.
const cancelKey = idKey(wire.IDSignal)<<32 | idKey(wire.SignalCancel)

func completionKey(c uint32) idKey { return idKey(wire.IDCompletion)<<32 | idKey(c) }

func (k idKey) kind() wire.IDKind { return wire.IDKind(k >> 32) }

// key returns the key of id, interning the name of a named signal.
func (m *Machine) key(id wire.NotificationID) idKey {
	if id.Kind != wire.IDSignalName {
		return idKey(id.Kind)<<32 | idKey(id.Index)
	}
	i, ok := m.nameKeys[id.Name]
	if !ok {
		if m.nameKeys == nil {
			m.nameKeys = make(map[string]uint32)
		}
		i = uint32(len(m.names))
		m.names = append(m.names, id.Name)
		m.nameKeys[id.Name] = i
	}
	return idKey(wire.IDSignalName)<<32 | idKey(i)
}

// id returns the notification id of k.
func (m *Machine) id(k idKey) wire.NotificationID {
	switch k.kind() {
	case wire.IDCompletion:
		return wire.CompletionID(uint32(k))
	case wire.IDSignal:
		return wire.SignalID(uint32(k))
	case wire.IDSignalName:
		return wire.NamedSignalID(m.names[uint32(k)])
	}
	return wire.NotificationID{}
}

// span is a range of Machine.kept.
type span struct{ off, len uint32 }

// keep copies b to the end of m.kept and returns where it is. It fails
// when m.kept would outgrow the offsets of a span.
func (m *Machine) keep(b []byte) (span, bool) {
	off := len(m.kept)
	if uint64(off)+uint64(len(b)) > math.MaxUint32 {
		return span{}, false
	}
	m.growKept(len(b))
	// Reslicing m.kept in place stores only its length: an append would
	// store its pointer too, with a write barrier while the GC marks.
	m.kept = m.kept[:off+len(b)]
	copy(m.kept[off:], b)
	return span{uint32(off), uint32(len(b))}, true
}

// growKept makes room for n more bytes in m.kept, doubling its capacity:
// append grows large slices by only a quarter, which would allocate many
// times the bytes kept.
func (m *Machine) growKept(n int) {
	if n <= cap(m.kept)-len(m.kept) {
		return
	}
	grown := make([]byte, len(m.kept), max(2*cap(m.kept), len(m.kept)+n, m.keptHint, 256))
	copy(grown, m.kept)
	m.kept = grown
}

// keepBytes copies b to the end of m.kept and returns the copy.
func (m *Machine) keepBytes(b []byte) []byte {
	off := len(m.kept)
	m.growKept(len(b))
	m.kept = m.kept[:off+len(b)] // see keep
	copy(m.kept[off:], b)
	return m.kept[off:len(m.kept):len(m.kept)]
}

// bytes returns the bytes of s, non-nil.
func (m *Machine) bytes(s span) []byte {
	if s.len == 0 {
		return noBytes
	}
	end := s.off + s.len
	return m.kept[s.off:end:end]
}

// noBytes is the content of an empty value: non-nil, as decoded.
var noBytes = []byte{}

// result is the result of a notification (or of a command that completes
// at once), compact for the kinds most results have: a void result, or a
// value result whose content is in Machine.kept. Other results are kept
// whole in Machine.full. A result holds no pointer, so the queue holding
// them costs the garbage collector nothing to scan.
type result struct {
	kind  wire.ResultKind
	full  uint32 // index+1 of the result in Machine.full; 0 for a compact one
	value span   // the content of a compact value result
}

// whole returns the result keeping r, which the engine keeps.
func (m *Machine) whole(r *wire.Result) result {
	m.full = append(m.full, r)
	return result{kind: r.Kind, full: uint32(len(m.full))}
}

// compactValue returns the value result holding a copy of v.
func (m *Machine) compactValue(v []byte) result {
	s, ok := m.keep(v)
	if !ok {
		return m.whole(&wire.Result{Kind: wire.ResultValue, Value: bytes.Clone(v)})
	}
	return result{kind: wire.ResultValue, value: s}
}

// compact returns the result holding r: compact, with a copy of the value,
// when r is a void result or a value result (with a non-nil value) with
// nothing else set; otherwise r kept whole.
func (m *Machine) compact(r *wire.Result) result {
	plain := r.Failure.Code == 0 && r.Failure.Message == "" && r.Failure.Metadata == nil &&
		r.InvocationID == "" && r.StateKeys == nil
	switch {
	case plain && r.Kind == wire.ResultVoid && r.Value == nil:
		return result{kind: wire.ResultVoid}
	case plain && r.Kind == wire.ResultValue && r.Value != nil:
		return m.compactValue(r.Value)
	}
	return m.whole(r)
}

// get returns the wire form of r.
func (m *Machine) get(r *result) wire.Result {
	switch {
	case r.full != 0:
		return *m.full[r.full-1]
	case r.kind == wire.ResultValue:
		return wire.Result{Kind: wire.ResultValue, Value: m.bytes(r.value)}
	}
	return wire.Result{Kind: r.kind}
}

// getInto stores the wire form of r in *out, like *out = m.get(r) but
// without building a copy first.
func (m *Machine) getInto(r *result, out *wire.Result) {
	switch {
	case r.full != 0:
		*out = *m.full[r.full-1]
	case r.kind == wire.ResultValue:
		*out = wire.Result{Kind: wire.ResultValue, Value: m.bytes(r.value)}
	default:
		*out = wire.Result{Kind: r.kind}
	}
}

// queued is a notification not applied yet.
type queued struct {
	key idKey
	res result
}

// readySet maps the ids of the applied notifications (and of the commands
// that completed at once) to their results. A result is referred to by its
// position: in Machine.queue, where a notification stays after it was
// applied, or, with refExtra set, in Machine.extra. Completion ids, which
// the engine hands out densely from 1, index a slice; other ids are in a
// map.
type readySet struct {
	dense []uint32         // completion id -> ref+1; 0 when not ready; len == cap
	other map[idKey]uint32 // other ids -> ref+1
}

// refExtra marks a reference into Machine.extra.
const refExtra = 1 << 31

// maxDenseSlack bounds how far past the completion ids the handler used a
// notification's id may grow the dense slice; larger ids go to the map.
const maxDenseSlack = 1024

// readyRef returns the reference of k's result.
func (m *Machine) readyRef(k idKey) (uint32, bool) {
	if k.kind() == wire.IDCompletion && uint64(uint32(k)) < uint64(len(m.ready.dense)) {
		r := m.ready.dense[uint32(k)]
		return r - 1, r != 0
	}
	r, ok := m.ready.other[k]
	return r - 1, ok
}

// readyResult returns k's result if it is ready.
func (m *Machine) readyResult(k idKey) (*result, bool) {
	ref, ok := m.readyRef(k)
	if !ok {
		return nil, false
	}
	return m.resultAt(ref), true
}

func (m *Machine) resultAt(ref uint32) *result {
	if ref&refExtra != 0 {
		return &m.extra[ref&^refExtra]
	}
	return &m.queue[ref].res
}

// setReady makes the result at ref the result of k.
func (m *Machine) setReady(k idKey, ref uint32) {
	if ref&refExtra != 0 {
		m.extraRefs++
	} else {
		m.queueRefs++
	}
	var old uint32
	if k.kind() == wire.IDCompletion {
		c := uint32(k)
		if uint64(c) >= uint64(len(m.ready.dense)) && uint64(c) < 2*uint64(m.nextCompletionID)+maxDenseSlack {
			grown := make([]uint32, max(2*len(m.ready.dense), int(c)+1, 64))
			copy(grown, m.ready.dense)
			m.ready.dense = grown
		}
		if uint64(c) < uint64(len(m.ready.dense)) {
			old, m.ready.dense[c] = m.ready.dense[c], ref+1
			m.release(old)
			return
		}
	}
	if m.ready.other == nil {
		m.ready.other = make(map[idKey]uint32)
	}
	old = m.ready.other[k]
	m.ready.other[k] = ref + 1
	m.release(old)
}

// setReadyResult makes r, which does not come from the queue, the result
// of k.
func (m *Machine) setReadyResult(k idKey, r result) {
	m.extra = append(m.extra, r)
	m.setReady(k, uint32(len(m.extra)-1)|refExtra)
}

// deleteReady forgets k's result.
func (m *Machine) deleteReady(k idKey) {
	if k.kind() == wire.IDCompletion && uint64(uint32(k)) < uint64(len(m.ready.dense)) {
		p := &m.ready.dense[uint32(k)]
		old := *p
		*p = 0
		m.release(old)
		return
	}
	if old, ok := m.ready.other[k]; ok {
		delete(m.ready.other, k)
		m.release(old)
	}
}

// release drops a reference (ref+1, or 0 for none) to a result, and the
// results no longer referred to once none is.
func (m *Machine) release(old uint32) {
	if old == 0 {
		return
	}
	if (old-1)&refExtra != 0 {
		if m.extraRefs--; m.extraRefs == 0 {
			m.extra = m.extra[:0]
			m.resetKept()
		}
		return
	}
	m.queueRefs--
	m.resetQueue()
}

// resetQueue empties the queue once every notification in it was applied
// and none of their results is ready any more.
func (m *Machine) resetQueue() {
	if m.queueRefs == 0 && m.queueHead == len(m.queue) && len(m.queue) > 0 {
		if cap(m.queue) >= minRecycled {
			// Nothing refers to the queue's array any more: the next
			// attempt can have it.
			recycle(&queues, m.queue)
			m.queue = nil
		} else {
			m.queue = m.queue[:0]
		}
		m.queueHead = 0
		m.resetKept()
	}
}

// The arrays of the replayed journal and of the queue, which a replay
// sizes for its whole journal, are recycled once the attempt no longer
// needs them (the journal after the replay, the queue once it is empty),
// so that the next attempt's replay does not allocate them again: they
// were most of the bytes an attempt allocated. Neither holds a pointer.
var (
	journals sync.Pool // *[]journaled, empty
	queues   sync.Pool // *[]queued, empty
)

// minRecycled is the capacity from which a journal or queue array is
// recycled.
const minRecycled = 64

func recycle[T any](p *sync.Pool, s []T) {
	s = s[:0]
	p.Put(&s)
}

// reuse returns an empty slice with room for n elements, recycled if the
// pool has one large enough.
func reuse[T any](p *sync.Pool, n int) []T {
	if n >= minRecycled {
		if s, ok := p.Get().(*[]T); ok && cap(*s) >= n {
			return (*s)[:0]
		}
	}
	return make([]T, 0, n)
}

// keptReuseMax is the capacity of Machine.kept up to which it is appended
// to after nothing refers to it any more, rather than replaced.
const keptReuseMax = 64 << 10

// resetKept drops what only results and the journal referred to, once no
// result and no undecoded command is left. Bytes in m.kept are never
// overwritten, as results given to the handler and decoded messages alias
// them: a large m.kept is replaced, a small one grows on.
func (m *Machine) resetKept() {
	if len(m.queue) > 0 || m.extraRefs > 0 || m.journalHead < len(m.journal) {
		return
	}
	clear(m.full)
	m.full = m.full[:0]
	if cap(m.kept) > keptReuseMax {
		m.kept = nil
	}
}

// Machine is the journal and replay state machine of one invocation attempt.
// It is not safe for concurrent use; the caller serialises all calls.
type Machine struct {
	version wire.Version
	opts    Options
	state   machineState
	err     error // terminal error once closed by failure or suspension

	start        wire.StartMessage
	seed         uint64
	receivedJrnl uint32
	inputClosed  bool

	journal     []journaled // replayed commands not consumed yet, from head
	journalHead int
	// queue holds the notifications in arrival order: before queueHead the
	// applied ones, kept while the ready set refers to them (queueRefs),
	// from queueHead those not applied yet.
	queue     []queued
	queueHead int
	queueRefs int
	ready     readySet
	extra     []result // results of commands that completed at once, see readySet
	extraRefs int

	handles          []idKey           // Handle -> notification
	names            []string          // the names of named signals, see idKey
	nameKeys         map[string]uint32 // index in names by name
	nextCompletionID uint32
	nextSignalID     uint32
	commandIndex     int64

	processingFirstEntry bool
	runs                 map[Handle]*runInfo
	received             []uint64               // bit set of the completion ids received, see completionKnown
	taken                []uint64               // bit set of the handles whose result was taken (see ErrTaken)
	proposedRuns         map[uint32]wire.Result // V7: proposals awaiting their ack
	lastAwaitingOn       []byte                 // V7: payload of the last AwaitingOnMessage, if it was the last frame
	awaitingScratch      []byte
	tracked              []trackedCall

	eager        map[string]stateValue
	partialState bool
	patches      map[string]struct{} // the patch ids decided in this attempt, see Patch

	in   []byte // a frame split across FeedBytes chunks, buffered
	kept []byte // the bytes kept from the input, see span
	// keptHint is the capacity m.kept starts with: a quarter of the first
	// chunk of input.
	keptHint int
	full     []*wire.Result // results kept whole, see result
	msgs     []wire.Message // decoded journaled commands, see journaled
	out      []byte
}

// New returns an engine for an attempt that negotiated version v.
func New(v wire.Version, opts Options) *Machine {
	return &Machine{
		version:          v,
		opts:             opts,
		handles:          []idKey{cancelKey},
		nextCompletionID: 1,
		nextSignalID:     17,
		commandIndex:     -1,
		runs:             make(map[Handle]*runInfo),
	}
}

// Version returns the negotiated protocol version.
func (m *Machine) Version() wire.Version { return m.version }

// Ready reports whether the start message and the whole replayed journal
// arrived, so the handler can run.
func (m *Machine) Ready() bool {
	return m.state == stateReplaying || m.state == stateProcessing
}

// Replaying reports whether the handler is re-issuing journaled commands.
// User-visible side effects such as logs should be dropped while it is true.
func (m *Machine) Replaying() bool { return m.state == stateReplaying }

// Closed reports whether the attempt is over (ended, suspended or failed).
func (m *Machine) Closed() bool { return m.state == stateClosed }

// Err returns the error that closed the attempt: ErrSuspended, an *Error, or
// ErrClosed after a normal end. It is nil while the attempt is open.
func (m *Machine) Err() error { return m.err }

// CommandIndex returns the index of the last command replayed or written
// (the input command is 0; -1 before the input was taken).
func (m *Machine) CommandIndex() int64 { return m.commandIndex }

// TakeOutput returns the frames written since the last call. The returned
// slice is valid until the next call of any Machine method.
func (m *Machine) TakeOutput() []byte {
	b := m.out
	m.out = m.out[:0]
	return b
}

// HasOutput reports whether frames are waiting in the output.
func (m *Machine) HasOutput() bool { return len(m.out) > 0 }

// InputClosed reports whether CloseInput was called.
func (m *Machine) InputClosed() bool { return m.inputClosed }

func (m *Machine) write(msg wire.Message) {
	m.out = wire.AppendFrame(m.out, msg, 0)
	m.lastAwaitingOn = m.lastAwaitingOn[:0] // a new frame makes the next hint news
}

// fail closes the attempt with err (an *Error), writing an ErrorMessage
// unless the attempt was already closed. It returns err.
func (m *Machine) fail(e *Error) error {
	if m.state == stateClosed {
		if m.err != nil {
			return m.err
		}
		return e
	}
	if e.Code == CodeJournalMismatch {
		if m.version >= wire.V7 {
			e.Behavior = m.opts.JournalMismatchBehavior
		} else {
			e.Behavior = wire.BehaviorRetry
		}
	}
	m.write(e.message())
	m.state = stateClosed
	m.err = e
	return e
}

// Fail ends the attempt with a retryable failure (or, on V7, with the
// failure's behaviour), writing an ErrorMessage. Asking for a behaviour other
// than retry on V5/V6 fails with code 573 instead.
func (m *Machine) Fail(e *Error) error {
	if m.state == stateClosed {
		return m.closedErr()
	}
	if e.Behavior != wire.BehaviorRetry && m.version < wire.V7 {
		return m.fail(unsupported("pausing or failing an invocation from the SDK", m.version, wire.V7))
	}
	return m.fail(e)
}

func (m *Machine) closedErr() error {
	if m.err != nil {
		return m.err
	}
	return ErrClosed
}

// ---------------------------------------------------------------------------
// Input side

// FeedBytes decodes frames from a chunk of the request body and feeds them.
// Chunks may split frames anywhere. It returns the error that closed the
// attempt, if feeding caused one.
func (m *Machine) FeedBytes(p []byte) error {
	if m.state == stateClosed {
		return nil // nothing more is read after the attempt ended
	}
	// Frames are decoded where they are, in p or, for a frame split
	// across chunks, in m.in; the engine copies what it keeps to m.kept.
	if m.keptHint == 0 {
		m.keptHint = min(len(p)/4, 1<<20)
	}
	for len(m.in) > 0 && len(p) > 0 {
		need := wire.HeaderSize
		if len(m.in) >= wire.HeaderSize {
			h, _ := wire.DecodeHeader(m.in)
			need += int(h.Length)
		}
		take := min(need-len(m.in), len(p))
		m.in = append(m.in, p[:take]...)
		p = p[take:]
		h, size, err := m.nextFrame(m.in)
		if err != nil {
			return err
		}
		if size > 0 {
			err := m.feedFrame(h, m.in[wire.HeaderSize:size:size])
			m.in = m.in[:0]
			if err != nil {
				return err
			}
		}
	}
	for {
		h, size, err := m.nextFrame(p)
		if err != nil {
			return err
		}
		if size == 0 {
			break
		}
		if err := m.feedFrame(h, p[wire.HeaderSize:size:size]); err != nil {
			return err
		}
		p = p[size:]
	}
	m.in = append(m.in, p...)
	return nil
}

// nextFrame returns the header and the size of the frame at the start of
// b, or a size of 0 when b does not hold all of it yet.
func (m *Machine) nextFrame(b []byte) (wire.Header, int, error) {
	if len(b) < wire.HeaderSize {
		return wire.Header{}, 0, nil
	}
	limit := m.opts.MaxFrameLength
	if limit == 0 {
		limit = wire.DefaultMaxFrameLength
	}
	h, _ := wire.DecodeHeader(b)
	if h.Length > limit {
		m.in = nil
		return h, 0, m.feedError(protocolViolation("malformed frame from the runtime: %s frame of %d bytes exceeds the limit of %d bytes",
			h.Type, h.Length, limit))
	}
	size := wire.HeaderSize + int(h.Length)
	if len(b) < size {
		return h, 0, nil
	}
	return h, size, nil
}

// FeedFrame decodes one frame and feeds it. The decoded message may alias
// f.Payload, which the caller must not modify afterwards. (Today the
// engine copies what it keeps.)
func (m *Machine) FeedFrame(f wire.Frame) error {
	return m.feedFrame(f.Header, f.Payload)
}

func (m *Machine) feedFrame(h wire.Header, payload []byte) error {
	if m.state == stateClosed {
		return nil // late messages after the end of the attempt are ignored
	}
	// payload is the caller's: whatever the engine keeps is copied to
	// m.kept, decoded messages included.
	switch {
	case isNotification(h.Type):
		// Kept compact: the id, the result's kind and a value's content.
		id, kind, value, err := wire.ScanNotification(h.Type, payload)
		if err != nil {
			return m.malformed(h.Type, err)
		}
		var res result
		switch kind {
		case wire.ResultVoid:
			res = result{kind: kind}
		case wire.ResultValue:
			res = m.compactValue(value)
		default:
			n := wire.Notification{MessageType: h.Type}
			if err := n.DecodePayload(m.keepBytes(payload)); err != nil {
				return m.malformed(h.Type, err)
			}
			res = m.whole(&n.Result)
		}
		return m.feedNotification(h.Type, id, res)
	case h.Type == wire.TypeRunCommand:
		// Kept undecoded: see journaled.
		c, name, err := wire.ScanRunCommand(payload)
		if err != nil {
			return m.malformed(h.Type, err)
		}
		if s, ok := m.keep(name); ok {
			return m.feedCommand(h.Type, journaled{name: s, c: c})
		}
	}
	msg, err := wire.Decode(h.Type, m.keepBytes(payload))
	if err != nil {
		var unknown *wire.UnknownTypeError
		if errors.As(err, &unknown) {
			return m.feedError(protocolViolation("unexpected message type %s from the runtime", h.Type))
		}
		return m.malformed(h.Type, err)
	}
	if h.Type == wire.TypeProposeRunCompletionAck && m.version < wire.V7 {
		return m.feedError(protocolViolation("ProposeRunCompletionAckMessage is not part of protocol %s", m.version))
	}
	return m.Feed(msg)
}

func (m *Machine) malformed(t wire.Type, err error) error {
	return m.feedError(protocolViolation("malformed %s from the runtime: %v", t, err))
}

// isNotification reports whether t is a notification type of V5–V7 (a
// switch: wire.Type.Known is a map lookup).
func isNotification(t wire.Type) bool {
	switch t {
	case wire.TypeGetLazyStateCompletion, wire.TypeGetLazyStateKeysCompletion,
		wire.TypeGetPromiseCompletion, wire.TypePeekPromiseCompletion,
		wire.TypeCompletePromiseCompletion, wire.TypeSleepCompletion,
		wire.TypeCallCompletion, wire.TypeCallInvocationIDCompletion,
		wire.TypeRunCompletion, wire.TypeAttachInvocationCompletion,
		wire.TypeGetInvocationOutputCompletion, wire.TypeSignalNotification:
		return true
	}
	return false
}

func (m *Machine) feedError(e *Error) error {
	if m.state == stateClosed {
		return nil // nothing more is read after the attempt ended
	}
	return m.fail(e)
}

// Feed applies one message received from the runtime. The engine keeps
// msg: the caller must not modify it afterwards.
func (m *Machine) Feed(msg wire.Message) error {
	if m.state == stateClosed {
		return nil // late messages after the end of the attempt are ignored
	}
	switch msg := msg.(type) {
	case *wire.StartMessage:
		if m.state != stateWaitingStart {
			return m.fail(protocolViolation("received a second StartMessage"))
		}
		return m.onStart(msg)
	case *wire.Notification:
		return m.feedNotification(msg.MessageType, msg.ID, m.compact(&msg.Result))
	case *wire.ProposeRunCompletionAckMessage:
		if m.state != stateProcessing {
			return m.fail(protocolViolation("received ProposeRunCompletionAckMessage while %s", m.state))
		}
		res, ok := m.proposedRuns[msg.CompletionID]
		if !ok {
			return m.fail(protocolViolation("ProposeRunCompletionAckMessage for completion %d, which has no pending proposal", msg.CompletionID))
		}
		delete(m.proposedRuns, msg.CompletionID)
		m.queue = append(m.queue, queued{key: completionKey(msg.CompletionID), res: m.compact(&res)})
		m.markReceived(msg.CompletionID)
		return nil
	case *wire.CommandAckMessage:
		return nil // never requested; harmless
	}
	t := msg.Type()
	if t.IsCommand() {
		m.msgs = append(m.msgs, msg)
		return m.feedCommand(t, journaled{msg: uint32(len(m.msgs))})
	}
	return m.fail(protocolViolation("unexpected %s from the runtime", t))
}

// feedNotification queues a notification of type t.
func (m *Machine) feedNotification(t wire.Type, id wire.NotificationID, res result) error {
	if m.state == stateWaitingStart {
		return m.fail(protocolViolation("received %s before the StartMessage", t))
	}
	if id.Kind == wire.IDNone || res.kind == wire.ResultNone {
		return m.fail(protocolViolation("%s without id or result", t))
	}
	m.queue = append(m.queue, queued{key: m.key(id), res: res})
	if id.Kind == wire.IDCompletion {
		m.markReceived(id.Index)
	}
	return m.countJournalEntry()
}

// feedCommand appends a replayed command of type t to the journal.
func (m *Machine) feedCommand(t wire.Type, j journaled) error {
	if m.state != stateWaitingEntries {
		return m.fail(protocolViolation("received %s after the replayed journal; commands are only expected while replaying entries", t))
	}
	m.journal = append(m.journal, j)
	return m.countJournalEntry()
}

// journaled is a replayed command. A run command, the most frequent one, is
// kept undecoded, as its completion id and its name in Machine.kept, and
// decoded only when the handler's command does not match it; other
// commands are decoded, in Machine.msgs.
type journaled struct {
	msg  uint32 // index+1 of the command in Machine.msgs; 0 for an undecoded run command
	c    uint32
	name span
}

// isRun reports whether j is a run command with completion id c and the
// given name.
func (m *Machine) isRun(j *journaled, c uint32, name string) bool {
	if j.msg == 0 {
		return j.c == c && string(m.bytes(j.name)) == name
	}
	r, ok := m.msgs[j.msg-1].(*wire.RunCommand)
	return ok && r.ResultCompletionID == c && r.Name == name
}

// command returns the decoded command j.
func (m *Machine) command(j journaled) wire.Message {
	if j.msg == 0 {
		return &wire.RunCommand{ResultCompletionID: j.c, Name: string(m.bytes(j.name))}
	}
	return m.msgs[j.msg-1]
}

func (m *Machine) countJournalEntry() error {
	if m.state != stateWaitingEntries {
		return nil
	}
	m.receivedJrnl++
	if m.receivedJrnl == m.start.KnownEntries {
		if len(m.journal) == 0 {
			// The handler would have no input command to take.
			return m.fail(protocolViolation("the replayed journal (%d entries) has no input command, which must be its first command", m.receivedJrnl))
		}
		m.state = stateReplaying
	}
	return nil
}

func (m *Machine) onStart(s *wire.StartMessage) error {
	m.start = *s
	if m.version < wire.V7 {
		m.start.Scope, m.start.LimitKey, m.start.IdempotencyKey = nil, nil, nil
	}
	if m.version >= wire.V6 {
		m.seed = s.RandomSeed
	} else {
		sum := sha256.Sum256(s.ID)
		m.seed = binary.BigEndian.Uint64(sum[:8])
	}
	// Size the journal, the queue and the handles for the replay: commands
	// and notifications share known_entries, so each gets about half. The
	// runtime controls known_entries, so the hint is bounded.
	hint := int(min(s.KnownEntries/2+1, maxSizeHint))
	m.journal = reuse[journaled](&journals, hint)
	m.queue = reuse[queued](&queues, hint)
	m.handles = slices.Grow(m.handles, hint)
	m.ready.dense = make([]uint32, hint+1)
	m.partialState = s.PartialState
	m.eager = make(map[string]stateValue, len(s.StateMap))
	for _, e := range s.StateMap {
		m.eager[string(e.Key)] = stateValue{value: e.Value, present: true}
	}
	if s.KnownEntries == 0 {
		return m.fail(protocolViolation("StartMessage.known_entries is 0; the journal always holds at least the input command"))
	}
	m.state = stateWaitingEntries
	return nil
}

// CloseInput tells the engine the request body ended. Before the replayed
// journal is complete this is a protocol violation; afterwards every await
// that cannot be resolved from what arrived suspends the invocation.
func (m *Machine) CloseInput() error {
	m.inputClosed = true
	switch m.state {
	case stateWaitingStart, stateWaitingEntries:
		return m.fail(protocolViolation("input closed while %s (received %d of %d entries)", m.state, m.receivedJrnl, m.start.KnownEntries))
	case stateClosed:
		return nil
	}
	if len(m.in) > 0 {
		return m.fail(protocolViolation("input closed in the middle of a frame (%d bytes of an incomplete frame)", len(m.in)))
	}
	return nil
}

// ---------------------------------------------------------------------------
// Start information

// Input is what the handler receives: its input bytes and the invocation's
// identity.
type Input struct {
	InvocationID   string // printable id, inv_…
	ID             []byte // binary id
	Key            string // object or workflow key; empty for services
	Headers        []wire.HeaderEntry
	Value          []byte
	RandomSeed     uint64
	Scope          *string // V7
	LimitKey       *string // V7
	IdempotencyKey *string // V7
	// Attempt information from the StartMessage.
	RetryCountSinceLastStoredEntry uint32
	DurationSinceLastStoredEntry   uint64 // ms
}

// Input consumes the journal's input command. It must be the handler's first
// operation.
func (m *Machine) Input() (Input, error) {
	if err := m.checkOpen(); err != nil {
		return Input{}, err
	}
	if m.commandIndex >= 0 || m.state != stateReplaying {
		return Input{}, m.fail(&Error{Code: CodeInternal, Message: "the input was already taken"})
	}
	m.commandIndex++
	head := m.popCommand()
	in, ok := head.(*wire.InputCommand)
	if !ok {
		return Input{}, m.fail(m.mismatch(head, &wire.InputCommand{}, nil))
	}
	return Input{
		InvocationID:                   m.start.DebugID,
		ID:                             m.start.ID,
		Key:                            m.start.Key,
		Headers:                        in.Headers,
		Value:                          in.Value,
		RandomSeed:                     m.seed,
		Scope:                          m.start.Scope,
		LimitKey:                       m.start.LimitKey,
		IdempotencyKey:                 m.start.IdempotencyKey,
		RetryCountSinceLastStoredEntry: m.start.RetryCountSinceLastStoredEntry,
		DurationSinceLastStoredEntry:   m.start.DurationSinceLastStoredEntry,
	}, nil
}

func (m *Machine) checkOpen() error {
	switch m.state {
	case stateClosed:
		return m.closedErr()
	case stateWaitingStart, stateWaitingEntries:
		return fmt.Errorf("replay: the handler ran before the journal was replayed (%s)", m.state)
	}
	return nil
}

// peekJournal returns the next journaled command while replaying, nil
// otherwise.
func (m *Machine) peekJournal() *journaled {
	if m.state != stateReplaying {
		return nil
	}
	return &m.journal[m.journalHead]
}

// popJournal removes the head of the replayed journal and switches to
// processing when it was the last command.
func (m *Machine) popJournal() {
	if head := m.journal[m.journalHead]; head.msg != 0 {
		m.msgs[head.msg-1] = nil
	}
	m.journalHead++
	if m.journalHead == len(m.journal) {
		if cap(m.journal) >= minRecycled {
			recycle(&journals, m.journal)
		}
		m.journal, m.journalHead, m.msgs = nil, 0, nil
		m.state = stateProcessing
		m.processingFirstEntry = true
	}
}

// popCommand removes the head of the replayed journal and returns it
// decoded.
func (m *Machine) popCommand() wire.Message {
	head := m.command(m.journal[m.journalHead])
	m.popJournal()
	return head
}

func (m *Machine) newHandle(id wire.NotificationID) Handle {
	m.handles = append(m.handles, m.key(id))
	return Handle(len(m.handles) - 1)
}

func (m *Machine) newCompletionHandle(c uint32) Handle {
	m.handles = append(m.handles, completionKey(c))
	return Handle(len(m.handles) - 1)
}

func (m *Machine) nextCompletion() uint32 {
	c := m.nextCompletionID
	m.nextCompletionID++
	return c
}

// NotificationID returns the notification a handle waits for.
func (m *Machine) NotificationID(h Handle) wire.NotificationID { return m.id(m.handles[h]) }

// CancelRequested reports whether the cancel signal arrived (applied or
// still queued). Transports use it to cancel the context of a run closure
// that is executing; it does not change what awaits see.
func (m *Machine) CancelRequested() bool {
	if m.opts.DisableImplicitCancellation {
		return false
	}
	return m.knownNotification(cancelKey)
}
