package invocation

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// The attempt driver lives in this package rather than in one of its own:
// the hooks a transport or a test runtime sets (Waiting, Input) are unexported state of the Invocation, given once in a
// Config, and a separate package would have to export them again.

// Config is everything one attempt needs. [New] builds the engine from it,
// feeds it the start message and the journal, and wraps it in an
// Invocation; nothing is set on the Invocation afterwards.
type Config struct {
	// Version is the negotiated protocol version.
	Version wire.Version
	// Options configures the engine.
	Options replay.Options
	// Start, when set, holds the fields of the start message, which New
	// builds and feeds, followed by Journal. A transport that reads the
	// start frame from a request body leaves it nil and feeds what it
	// reads with [Invocation.Feed] until [Invocation.Ready].
	Start *Start
	// Journal holds the journal entries after the start message, starting
	// with the input command; used only with Start.
	Journal []wire.Message
	// Body is fed after Start and Journal: a request body read whole.
	Body []byte
	// CloseInput ends the input after Start, Journal and Body: every wait
	// the journal does not answer suspends (request/response mode).
	CloseInput bool

	// Output receives the engine's frames (see [Output]). Unused when
	// Step is set.
	Output Output
	// Step makes the attempt step-driven, for a simulator or an in-process
	// test runtime: the frames the engine writes and, while the input is
	// open, each time the handler blocks waiting for input are queued as
	// Events, which the runtime takes with [Invocation.Events]. Wake, when
	// set, is called after each event is queued, with the invocation's
	// lock held: it must not call back into the invocation.
	Step bool
	Wake func()

	// Logger is the base logger of the handler's replay-aware logger; nil
	// means slog.Default().
	Logger *slog.Logger
	// Clock, when set, is the clock the SDK reads for the times it journals
	// (timers' due times, delayed sends, restate.Now); nil means time.Now.
	// A test runtime with a virtual clock sets it. It is called from the
	// handler's goroutine and from run closures, without the lock.
	Clock func() time.Time
	// TraceParent and TraceState are the W3C trace context of the attempt,
	// from the transport's request headers.
	TraceParent, TraceState string

	// Waiting, when set, is called each time the handler blocks waiting for
	// input, after its output was flushed, with the lock held: it must not
	// call back into the invocation.
	Waiting func()
	// Input, when set, reads the attempt's input stream; see [Input].
	Input Input
	// PullInput makes the handler read its input itself, with Input.Pull on
	// its own goroutine, while it waits for input and Input.Start has not
	// been called. A handler parked on a notification then needs no
	// goroutine besides its own. Without it, the first wait calls
	// Input.Start.
	PullInput bool
}

// Input is a transport's reader of an attempt's input stream. One value
// gives all three methods, so that a transport pays for one object, not a
// closure per hook. The invocation calls them with its lock held, except
// Pull; none may call back into the invocation.
type Input interface {
	// Start is called once, the first time the attempt needs its input
	// stream read by a goroutine other than the handler's: when the handler
	// first blocks waiting for input without PullInput, or a run closure
	// starts (so that a cancellation can reach it). A transport starts its
	// body reader there, so that a handler that never waits costs no
	// reader at all.
	Start()
	// Pull reads once, blocking, passes what it read to feed, which
	// returns the engine's error for bad frames, and returns the read's
	// error (the input then ends). It is called without the lock, on the
	// handler's goroutine (see Config.PullInput).
	Pull(feed func([]byte) error) error
	// Interrupt makes a blocked Pull return at once. It is called only
	// while a Pull is in progress, when the input is closed or the
	// invocation detached from another goroutine.
	Interrupt()
}

// Start holds the fields of an attempt's start message. [StartMessage]
// builds the message; the fields a protocol version does not have are left
// out.
type Start struct {
	ID      []byte // binary invocation id
	DebugID string // printable invocation id
	Key     string // object or workflow key
	// RetryCount and SinceLastStored say how often and for how long the
	// invocation was retried since its last stored journal entry.
	RetryCount      uint32
	SinceLastStored time.Duration
	Seed            uint64 // V6 and later
	IdempotencyKey  string // V7 and later, when not empty
	// State is the state sent with the start message, in key order; Eager
	// says it is the whole state, so that a read of a key not in it needs no
	// lazy get.
	State map[string][]byte
	Eager bool
}

// StartMessage builds the start message of an attempt of version v with
// known journal entries. It is the one place a start message is made.
func StartMessage(v wire.Version, s *Start, known int) *wire.StartMessage {
	st := &wire.StartMessage{
		ID:                             s.ID,
		DebugID:                        s.DebugID,
		KnownEntries:                   uint32(known),
		Key:                            s.Key,
		RetryCountSinceLastStoredEntry: s.RetryCount,
		DurationSinceLastStoredEntry:   uint64(max(s.SinceLastStored, 0).Milliseconds()),
		PartialState:                   !s.Eager,
	}
	if v >= wire.V6 {
		st.RandomSeed = s.Seed
	}
	if v >= wire.V7 && s.IdempotencyKey != "" {
		st.IdempotencyKey = wire.String(s.IdempotencyKey)
	}
	for _, k := range slices.Sorted(maps.Keys(s.State)) {
		v := s.State[k]
		if v == nil {
			v = []byte{}
		}
		st.StateMap = append(st.StateMap, wire.StateEntry{Key: []byte(k), Value: v})
	}
	return st
}

// Engine returns the engine of an attempt configured by cfg, fed with its
// start message, journal and body, its input closed if cfg says so. It
// reports the engine's error when the engine refused them or is not ready
// to run the handler. Only the engine fields of cfg are used: a caller
// that drives the engine itself (a journal comparison) needs no
// Invocation.
func Engine(cfg *Config) (*replay.Machine, error) {
	m := replay.New(cfg.Version, cfg.Options)
	var err error
	if cfg.Start != nil {
		body := wire.AppendFrame(nil, StartMessage(cfg.Version, cfg.Start, len(cfg.Journal)), 0)
		for _, e := range cfg.Journal {
			body = wire.AppendFrame(body, e, 0)
		}
		err = m.FeedBytes(body)
	}
	if err == nil && len(cfg.Body) > 0 {
		err = m.FeedBytes(cfg.Body)
	}
	if cfg.CloseInput {
		if cerr := m.CloseInput(); err == nil {
			err = cerr
		}
	}
	if err == nil && cfg.Start != nil && !m.Ready() {
		err = m.Err()
		if err == nil {
			err = &replay.Error{Code: replay.CodeProtocolViolation, Message: "the start message and journal do not make the engine ready"}
		}
	}
	return m, err
}

// New returns the invocation of one attempt configured by cfg. ctx is the
// transport's context: when it ends, waits stop and the handler exits.
// When cfg carries no start message, the transport feeds the one it reads
// with Feed; either way, the handler may run once Ready reports true, and
// otherwise Reject writes why the engine refused the attempt.
func New(ctx context.Context, cfg Config) *Invocation {
	m, _ := Engine(&cfg)
	return wrap(ctx, m, &cfg)
}

func wrap(ctx context.Context, m *replay.Machine, cfg *Config) *Invocation {
	inv := &Invocation{
		m:           m,
		out:         cfg.Output,
		ctx:         ctx,
		wake:        make(chan struct{}, 1),
		done:        make(chan struct{}),
		traceParent: cfg.TraceParent,
		traceState:  cfg.TraceState,
		logger:      cfg.Logger,
		clock:       cfg.Clock,
		waiting:     cfg.Waiting,
		input:       cfg.Input,
		pullInput:   cfg.PullInput && cfg.Input != nil,
	}
	if cfg.Step {
		q := &queue{ch: make(chan struct{}, 1), wake: cfg.Wake}
		inv.queue = q
		inv.out = q
		if !m.InputClosed() {
			inv.waiting = q.idle
		}
	}
	return inv
}

// Ready reports whether the engine has the start message and the whole
// replayed journal, so that the handler can run.
func (inv *Invocation) Ready() bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.m.Ready()
}

// Closed reports whether the attempt is over (ended, suspended or failed).
func (inv *Invocation) Closed() bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.m.Closed()
}

// Err returns the engine's error that closed the attempt, if any.
func (inv *Invocation) Err() error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.m.Err()
}

// Reject ends an attempt whose handler cannot run (Ready is false): it
// writes what the engine wrote, an ErrorMessage saying why, through the
// output, and closes Done.
func (inv *Invocation) Reject() {
	inv.mu.Lock()
	if inv.m.HasOutput() {
		b := inv.m.TakeOutput()
		if err := inv.out.Write(b); err != nil {
			inv.writeErr = err
		}
	}
	inv.mu.Unlock()
	close(inv.done)
}

// Logger returns the base logger of the attempt; nil means slog.Default().
func (inv *Invocation) Logger() *slog.Logger { return inv.logger }

// Trace returns the W3C trace context of the attempt.
func (inv *Invocation) Trace() (parent, state string) { return inv.traceParent, inv.traceState }

// Events takes the events queued since the last call of a step-driven
// attempt (see Config.Step). The frames are copies.
func (inv *Invocation) Events() []Event { return inv.queue.take() }

// HasEvents reports whether a step-driven attempt has events queued.
func (inv *Invocation) HasEvents() bool { return inv.queue.has() }

// Queued receives a value after events were queued in a step-driven
// attempt; one value may stand for several events.
func (inv *Invocation) Queued() <-chan struct{} { return inv.queue.ch }

// queue passes events from the handler goroutine to a step-driven runtime
// without ever blocking the handler, which holds the invocation's lock
// meanwhile.
type queue struct {
	mu   sync.Mutex
	evs  []Event
	ch   chan struct{}
	wake func()
}

func (q *queue) push(e Event) {
	q.mu.Lock()
	q.evs = append(q.evs, e)
	q.mu.Unlock()
	select {
	case q.ch <- struct{}{}:
	default:
	}
	if q.wake != nil {
		q.wake()
	}
}

// Write queues a copy of the frames.
func (q *queue) Write(b []byte) error {
	q.push(Event{Frames: slices.Clone(b)})
	return nil
}

func (q *queue) idle() { q.push(Event{Idle: true}) }

func (q *queue) take() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.evs
	q.evs = nil
	return evs
}

func (q *queue) has() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.evs) > 0
}
