package restatetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/internal/sim"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Property names what a [Violation] breaks.
type Property = sim.Property

// The properties the environment checks on every attempt.
const (
	// Determinism: on replay the handler issued a command other than the
	// journaled one; the engine failed the attempt with code 570.
	Determinism = sim.Determinism
	// Protocol: the engine reported a protocol violation (571) or wrote
	// something the runtime does not accept.
	Protocol = sim.Protocol
	// Progress: a handler blocked outside the SDK for longer than the
	// attempt timeout.
	Progress = sim.Progress
)

// Violation is a bug the environment found in a handler (or in the SDK):
// by default it fails the test; see [WithViolationHandler]. The
// invocation is paused, so clients waiting for it fail with [ErrPaused]
// instead of retrying forever.
type Violation struct {
	Property Property
	// InvocationID and Target name the invocation (Service/handler or
	// Service/key/handler); Attempt counts its attempts from 1.
	InvocationID string
	Target       string
	Attempt      int
	// Message says what happened, in the engine's words when the engine
	// reported it.
	Message string
	// Journal is the invocation's journal when it happened.
	Journal Journal
}

// String describes the violation and prints the journal, one entry per
// line: the text the default handler fails the test with.
func (v Violation) String() string {
	return fmt.Sprintf("restatetest: %s violated by %s (%s), attempt %d: %s\njournal:\n%s",
		v.Property, v.InvocationID, v.Target, v.Attempt, v.Message, v.Journal)
}

func (e *Env) violation(r *record, p Property, msg string) Violation {
	return Violation{Property: p, InvocationID: r.id, Target: r.target(), Attempt: r.attempts, Message: msg, Journal: journalOf(r)}
}

// Entry is one journal entry: a command the handler wrote, or a
// notification the runtime stored (a completion or a signal).
type Entry struct {
	// Index is the entry's position in the journal, from 0 (the input);
	// [WithFailureAt] takes it.
	Index int
	// Command is true for commands, false for notifications.
	Command bool
	// Type is the protocol message type, such as "SetStateCommand".
	Type string
	// Name is the name given with restate.WithName, if any.
	Name string
	// Text describes the entry the way the engine's error messages do,
	// for example `set state "count" = "5"` or `run "charge" [completion 2]`.
	Text string
	// Message is the entry itself.
	Message wire.Message
}

// Journal is the journal of an invocation, in order.
type Journal []Entry

// String prints one entry per line: its index, whether it is a command or
// a notification, and its description.
func (j Journal) String() string {
	var b strings.Builder
	for _, e := range j {
		kind := "notification"
		if e.Command {
			kind = "command"
		}
		fmt.Fprintf(&b, "%3d %-12s %s\n", e.Index, kind, e.Text)
	}
	return b.String()
}

func journalOf(r *record) Journal {
	j := make(Journal, len(r.journal))
	for i, m := range r.journal {
		j[i] = Entry{Index: i, Command: m.Type().IsCommand(), Type: m.Type().String(), Name: commandName(m), Text: sim.Describe(m), Message: m}
	}
	return j
}

func commandName(m wire.Message) string {
	switch c := m.(type) {
	case *wire.RunCommand:
		return c.Name
	case *wire.SleepCommand:
		return c.Name
	case *wire.CallCommand:
		return c.Name
	case *wire.OneWayCallCommand:
		return c.Name
	case *wire.SendSignalCommand:
		return c.EntryName
	case *wire.AttachInvocationCommand:
		return c.Name
	case *wire.GetInvocationOutputCommand:
		return c.Name
	case *wire.CompleteAwakeableCommand:
		return c.Name
	case *wire.GetPromiseCommand:
		return c.Name
	case *wire.PeekPromiseCommand:
		return c.Name
	case *wire.CompletePromiseCommand:
		return c.Name
	}
	return ""
}

// Journal returns the journal of the invocation id, as it is now. It fails
// with an [*ingress.Error] with status 404 for an unknown id.
func (e *Env) Journal(invocationID string) (Journal, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.records[invocationID]
	if r == nil {
		return nil, notFound(invocationID)
	}
	return journalOf(r), nil
}

func notFound(id string) error {
	return &ingress.Error{StatusCode: 404, Message: fmt.Sprintf("invocation %s not found", id)}
}

// InvocationInfo describes one invocation.
type InvocationInfo struct {
	ID string
	// Target is Service/handler or Service/key/handler.
	Target                string
	Service, Key, Handler string
	// IdempotencyKey is the key the invocation was started with, if any.
	IdempotencyKey string
	// Status is scheduled, pending (waiting for its key's lock), ready,
	// running, suspended, backing-off, paused or completed.
	Status string
	// CallerID is the invocation that called or sent this one; "" when a
	// client started it.
	CallerID string
	// Attempts counts the attempts so far.
	Attempts int
	// LastFailure is the last failure of an attempt, "[code] message".
	LastFailure string
	// Awaiting describes what a suspended invocation waits for. With
	// WithBidiStreams an invocation whose stream is open reports nothing
	// here until the stream's inactivity timeout (one minute on the
	// virtual clock by default) makes it suspend.
	Awaiting []string
	// Awakeables are the ids of the awakeables a suspended invocation
	// waits for: resolve them with [ResolveAwakeable].
	Awakeables []string
	// Signals are the named signals a suspended invocation waits for.
	Signals []string
	// Result is the output once completed: a value or a failure.
	Result *wire.Result
	// CreatedAt and CompletedAt are on the virtual clock.
	CreatedAt, CompletedAt time.Time
}

func (e *Env) info(r *record) InvocationInfo {
	in := InvocationInfo{
		ID: r.id, Target: r.target(), Service: r.svc.Name, Key: r.key, Handler: r.h.Name, IdempotencyKey: r.idem,
		Status: r.status.String(), Attempts: r.attempts, LastFailure: r.lastFailure, CreatedAt: r.createdAt,
	}
	if r.caller != nil {
		in.CallerID = r.caller.id
	}
	if r.status == statusCompleted {
		res := r.result
		in.Result = &res
		in.CompletedAt = r.completedAt
	}
	if r.status == statusSuspended {
		ids := slices.SortedFunc(maps.Keys(r.awaited), func(a, b wire.NotificationID) int {
			if a.Kind != b.Kind {
				return int(a.Kind) - int(b.Kind)
			}
			if a.Index != b.Index {
				return int(a.Index) - int(b.Index)
			}
			return strings.Compare(a.Name, b.Name)
		})
		for _, id := range ids {
			switch {
			case id.Kind == wire.IDSignal && id.Index == wire.SignalCancel:
				continue // every await also waits for cancellation
			case id.Kind == wire.IDSignal && id.Index >= 17:
				aw := replay.AwakeableID(r.bin, id.Index)
				in.Awakeables = append(in.Awakeables, aw)
				in.Awaiting = append(in.Awaiting, "awakeable "+aw)
			case id.Kind == wire.IDSignalName:
				in.Signals = append(in.Signals, id.Name)
				in.Awaiting = append(in.Awaiting, fmt.Sprintf("signal %q", id.Name))
			default:
				in.Awaiting = append(in.Awaiting, describeCompletion(r, id))
			}
		}
	}
	return in
}

// describeCompletion names the command a completion id belongs to.
func describeCompletion(r *record, id wire.NotificationID) string {
	for _, m := range r.journal {
		var ids []uint32
		switch c := m.(type) {
		case *wire.SleepCommand:
			ids = []uint32{c.ResultCompletionID}
		case *wire.CallCommand:
			ids = []uint32{c.InvocationIDNotificationIdx, c.ResultCompletionID}
		case *wire.OneWayCallCommand:
			ids = []uint32{c.InvocationIDNotificationIdx}
		case *wire.RunCommand:
			ids = []uint32{c.ResultCompletionID}
		case *wire.GetPromiseCommand:
			ids = []uint32{c.ResultCompletionID}
		case *wire.PeekPromiseCommand:
			ids = []uint32{c.ResultCompletionID}
		case *wire.CompletePromiseCommand:
			ids = []uint32{c.ResultCompletionID}
		case *wire.AttachInvocationCommand:
			ids = []uint32{c.ResultCompletionID}
		case *wire.GetInvocationOutputCommand:
			ids = []uint32{c.ResultCompletionID}
		case *wire.GetLazyStateCommand:
			ids = []uint32{c.ResultCompletionID}
		case *wire.GetLazyStateKeysCommand:
			ids = []uint32{c.ResultCompletionID}
		}
		if slices.Contains(ids, id.Index) {
			return sim.Describe(m)
		}
	}
	return id.String()
}

// Invocation returns what the environment knows about the invocation id.
func (e *Env) Invocation(id string) (InvocationInfo, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.records[id]
	if r == nil {
		return InvocationInfo{}, false
	}
	return e.info(r), true
}

// Invocations returns every invocation, in the order they were created,
// except those forgotten after their retention expired.
func (e *Env) Invocations() []InvocationInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []InvocationInfo
	for _, r := range e.order {
		if !r.purged {
			out = append(out, e.info(r))
		}
	}
	return out
}

// State returns a copy of the stored state of the virtual object or
// workflow service with key: what its exclusive handlers journaled so far
// (state changes apply as the commands are stored, as on restate-server)
// and what the test seeded.
func (e *Env) State(service, key string) map[string][]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string][]byte{}
	if o := e.objects[objectKey{service, key}]; o != nil {
		for k, v := range o.state {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

// SetState stores value under name in the state of service with key, as
// an operator editing the state would; the next attempt of a handler on
// that key sees it.
func (e *Env) SetState(service, key, name string, value []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.object(service, key).state[name] = append([]byte{}, value...)
}

// ClearState removes name from the state of service with key.
func (e *Env) ClearState(service, key, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o := e.objects[objectKey{service, key}]; o != nil {
		delete(o.state, name)
	}
}

// LookupState decodes the state value name of service with key, with JSON
// or the codec given (the one of the restate.StateKey that writes it), and
// reports whether there is one.
func LookupState[T any](env *Env, service, key, name string, codec ...restate.Codec) (T, bool, error) {
	var v T
	env.mu.Lock()
	var b []byte
	ok := false
	if o := env.objects[objectKey{service, key}]; o != nil {
		b, ok = o.state[name]
		b = slices.Clone(b)
	}
	env.mu.Unlock()
	if !ok {
		return v, false, nil
	}
	if err := codecOf(codec).Unmarshal(b, &v); err != nil {
		return v, true, fmt.Errorf("restatetest: state %q of %s/%s does not decode into %T: %w", name, service, key, v, err)
	}
	return v, true, nil
}

// PutState encodes value with JSON (or the codec given) and stores it
// under name in the state of service with key, like [Env.SetState].
func PutState[T any](env *Env, service, key, name string, value T, codec ...restate.Codec) error {
	b, err := codecOf(codec).Marshal(value)
	if err != nil {
		return fmt.Errorf("restatetest: cannot encode state %q: %w", name, err)
	}
	env.SetState(service, key, name, b)
	return nil
}

func codecOf(c []restate.Codec) restate.Codec {
	if len(c) > 0 && c[0] != nil {
		return c[0]
	}
	return restate.JSON
}
