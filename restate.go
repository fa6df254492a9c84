// Package restate is a typed, generics-first SDK for writing Restate
// services, virtual objects and workflows in Go, on a pure-Go replay engine.
//
// Declare handlers from plain functions, assemble them into services, and
// serve them with package h2c (HTTP/2 and HTTP/1.1) or package lambda:
//
//   - Handlers: [NewHandler] (services), [NewObjectHandler] and
//     [NewSharedHandler] (virtual objects), [NewWorkflowHandler] and
//     [NewWorkflowSharedHandler] (workflows); [NoInput], [NoOutput] and
//     [NoInputOutput] adapt functions without input or output.
//   - Services: [NewService], [NewObject], [NewWorkflow], with options such
//     as [WithDocumentation], [WithInactivityTimeout] or [WithRetryPolicy].
//   - Contexts: [Context], [ObjectSharedContext], [ObjectContext],
//     [WorkflowSharedContext], [WorkflowContext] — the context type decides
//     at compile time what a handler may do.
//   - Durable operations, each returning a [Future]: [Run] and [RunAsync],
//     [Sleep] and [After], typed calls ([Handler.Call], [ObjectHandler.Call],
//     …) and by-name calls ([Remote]), [NewAwakeable], [Promise], [Signal],
//     [AttachInvocation] and [InvocationOutput].
//   - Combinators: [Select], [All], [AllSettled], [Any], [Race],
//     [AsCompleted], [WithTimeout], [Map].
//   - State: [NewStateKey], [StateKey.Get], [StateKey.Set], [ClearAll], [Keys].
//   - Errors: [TerminalError], [Terminal], [RetryAfter], [Pause],
//     [ErrCancelled], [ErrTimeout].
//
// A handler that calls itself cannot refer to its own package-level variable
// in that variable's initializer (Go reports an initialization cycle): give
// it a [Ref] to itself instead (see the example of [Ref]).
//
// Options: every option list of the SDK (handler, service, call, run,
// timer options, and those of packages h2c, lambda, ingress, restatetest
// and props) ignores a nil option, so a list built conditionally may keep
// nil entries. A nil handler is a programming error and panics at
// construction.
//
// Every durable operation is journaled. When Restate re-invokes a handler
// after a failure or a suspension, the handler runs again from the start and
// each operation returns its journaled result instead of executing again;
// the handler must therefore issue the same operations in the same order.
// Use [Run] for anything non-deterministic (I/O, clocks, randomness), or the
// deterministic helpers [Context.Rand] and [UUID].
//
// When an attempt ends before the handler returns (it suspends while
// waiting, or the engine failed it), the operation that found out does not
// return: the handler is unwound with a panic that the SDK recovers, so its
// deferred calls run. A deferred recover in a handler sees that panic too;
// it should re-panic with what it does not recognise, or leave it alone:
// once the attempt is over, every further durable operation unwinds again
// and nothing the handler returns is recorded.
package restate

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
)

// Context is the context of a service handler. It is a context.Context
// (done when the attempt ends or the transport goes away) and gives access
// to every durable operation that needs no key: runs, timers, calls,
// awakeables, signals.
//
// A Context is used by one goroutine at a time, and never inside a run
// closure. Using it inside a run closure, or from another goroutine while
// the handler's goroutine is itself in an operation, fails with
// [ErrMisuse]. A handoff, where the handler's goroutine waits for another
// goroutine that uses the context, works: when the attempt ends inside that
// goroutine (it suspends while the goroutine waits), the goroutine's
// operation returns an error instead of ending it, so that it can hand the
// error back; the handler should return it, and the next attempt replays
// from the journal. restate-server and restatetest agree on this.
type Context interface {
	context.Context
	// Request returns the invocation's metadata.
	Request() *Request
	// Log returns a logger that drops records while the handler replays
	// journaled operations, so each line is written once.
	Log() *slog.Logger
	// Rand returns a random source seeded from the invocation: the same
	// numbers on every replay. Do not use it for secrets.
	Rand() *rand.Rand

	base() *handlerContext
}

// ObjectSharedContext is the context of a shared virtual object handler: it
// can read the object's state, concurrently with other shared handlers.
type ObjectSharedContext interface {
	Context
	// Key returns the object's key.
	Key() string
	readState()
}

// ObjectContext is the context of an exclusive virtual object handler: it
// can read and write the object's state, one invocation per key at a time.
type ObjectContext interface {
	ObjectSharedContext
	writeState()
}

// WorkflowSharedContext is the context of a workflow's shared handlers: it
// can read state and use durable promises.
type WorkflowSharedContext interface {
	ObjectSharedContext
	workflow()
}

// WorkflowContext is the context of a workflow's run handler: it can also
// write state.
type WorkflowContext interface {
	WorkflowSharedContext
	ObjectContext
}

// RunContext is the context of a run closure. It is cancelled when the
// invocation is cancelled while the closure executes, so HTTP and database
// calls made with it abort. It cannot make durable operations.
type RunContext interface {
	context.Context
	// Log returns the invocation's logger.
	Log() *slog.Logger
	// Request returns the invocation's metadata.
	Request() *Request
}

// Request is the metadata of an invocation.
type Request struct {
	// ID is the invocation id, inv_….
	ID string
	// Key is the object or workflow key; empty for services.
	Key string
	// Headers are the headers the caller sent with the invocation.
	Headers map[string]string
	// Body is the raw input payload.
	Body []byte
	// IdempotencyKey is the key the invocation was called with (protocol
	// V7; empty otherwise).
	IdempotencyKey string
	// Scope and LimitKey of the invocation (protocol V7; empty otherwise).
	Scope, LimitKey string
	// Attempt information: retries since the last journal entry was stored
	// and the time since then (best effort, from the runtime).
	RetryCount              uint32
	SinceLastStoredEntry    time.Duration
	TraceParent, TraceState string
}

// handlerContext is the one implementation of every context interface; the
// wrapper types below decide which interfaces a handler sees.
type handlerContext struct {
	context.Context
	inv     *invocation.Invocation
	req     Request
	logger  atomic.Pointer[slog.Logger] // made on first use, see Log
	rand    *rand.Rand
	seed    uint64
	service string
	handler string
}

func (c *handlerContext) base() *handlerContext { return c }
func (c *handlerContext) Request() *Request     { return &c.req }
func (c *handlerContext) Key() string           { return c.req.Key }

// Log returns the handler's logger. It is made on first use: most handlers
// never log, and formatting its attributes on every invocation showed up in
// endpoint profiles. Any goroutine may call it.
func (c *handlerContext) Log() *slog.Logger {
	if l := c.logger.Load(); l != nil {
		return l
	}
	l := newReplayAwareLogger(c.inv, c.req.ID, c.service, c.handler)
	if !c.logger.CompareAndSwap(nil, l) {
		return c.logger.Load()
	}
	return l
}

func (c *handlerContext) Rand() *rand.Rand {
	if c.rand == nil {
		c.rand = rand.New(rand.NewPCG(c.seed, c.seed^0x9e3779b97f4a7c15))
	}
	return c.rand
}

type serviceContext struct{ *handlerContext }
type objectSharedContext struct{ *handlerContext }
type objectContext struct{ *handlerContext }
type workflowSharedContext struct{ *handlerContext }
type workflowContext struct{ *handlerContext }

func (objectSharedContext) readState()   {}
func (objectContext) readState()         {}
func (objectContext) writeState()        {}
func (workflowSharedContext) readState() {}
func (workflowSharedContext) workflow()  {}
func (workflowContext) readState()       {}
func (workflowContext) writeState()      {}
func (workflowContext) workflow()        {}

var (
	_ Context               = serviceContext{}
	_ ObjectSharedContext   = objectSharedContext{}
	_ ObjectContext         = objectContext{}
	_ WorkflowSharedContext = workflowSharedContext{}
	_ WorkflowContext       = workflowContext{}
)

type runContext struct {
	context.Context
	hc *handlerContext
}

func (r runContext) Log() *slog.Logger { return r.hc.Log() }
func (r runContext) Request() *Request { return &r.hc.req }

func newHandlerContext(inv *invocation.Invocation, in *replay.Input, service, handler string) *handlerContext {
	c := &handlerContext{Context: inv.Context(), inv: inv, seed: in.RandomSeed, service: service, handler: handler}
	traceParent, traceState := inv.Trace()
	c.req = Request{
		ID:                   in.InvocationID,
		Key:                  in.Key,
		Body:                 in.Value,
		RetryCount:           in.RetryCountSinceLastStoredEntry,
		SinceLastStoredEntry: time.Duration(in.DurationSinceLastStoredEntry) * time.Millisecond,
		TraceParent:          traceParent,
		TraceState:           traceState,
	}
	if len(in.Headers) > 0 {
		c.req.Headers = make(map[string]string, len(in.Headers))
		for _, h := range in.Headers {
			c.req.Headers[h.Key] = h.Value
		}
	}
	if in.IdempotencyKey != nil {
		c.req.IdempotencyKey = *in.IdempotencyKey
	}
	if in.Scope != nil {
		c.req.Scope = *in.Scope
	}
	if in.LimitKey != nil {
		c.req.LimitKey = *in.LimitKey
	}
	return c
}

// UUID returns a random (version 4) UUID drawn from the context's
// deterministic random source: the same on every replay.
func UUID(ctx Context) string {
	r := ctx.Rand()
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ---------------------------------------------------------------------------
// Service definitions

// ServiceDefinition is a service, virtual object or workflow ready to be
// served by a transport. It is implemented by [*Service], [*Object] and
// [*Workflow].
type ServiceDefinition interface {
	// Name is the service name used in URLs and calls.
	Name() string
	// Definition returns the descriptor the transports of this module
	// serve. Its type is internal.
	Definition() *endpoint.Service
}

// ServiceItem is a handler or an option of [NewService]: *Handler values and
// service options.
type ServiceItem interface{ serviceItem() }

// ObjectItem is a handler or an option of [NewObject]: *ObjectHandler and
// *SharedHandler values and service options.
type ObjectItem interface{ objectItem() }

// WorkflowItem is a shared handler or an option of [NewWorkflow]:
// *WorkflowSharedHandler values and service options.
type WorkflowItem interface{ workflowItem() }

// Service is a stateless service.
type Service struct{ def endpoint.Service }

// Object is a virtual object: keyed state with exclusive and shared handlers.
type Object struct{ def endpoint.Service }

// Workflow is a workflow: a run handler executed once per key, shared
// handlers, state and durable promises.
type Workflow struct{ def endpoint.Service }

// Name returns the service name.
func (s *Service) Name() string { return s.def.Name }

// Definition implements ServiceDefinition.
func (s *Service) Definition() *endpoint.Service { return &s.def }

// Name returns the object's service name.
func (o *Object) Name() string { return o.def.Name }

// Definition implements ServiceDefinition.
func (o *Object) Definition() *endpoint.Service { return &o.def }

// Name returns the workflow's service name.
func (w *Workflow) Name() string { return w.def.Name }

// Definition implements ServiceDefinition.
func (w *Workflow) Definition() *endpoint.Service { return &w.def }

var (
	serviceNameRe = regexp.MustCompile(`^([a-zA-Z]|_[a-zA-Z0-9])[a-zA-Z0-9._-]*$`)
	handlerNameRe = regexp.MustCompile(`^([a-zA-Z]|_[a-zA-Z0-9])[a-zA-Z0-9_]*$`)
)

func checkServiceName(kind, name string) {
	if !serviceNameRe.MatchString(name) {
		panic(fmt.Sprintf("restate: %s name %q is not valid: it must match %s", kind, name, serviceNameRe))
	}
}

// binder is implemented by every handler type: it binds the handler to the
// service it is assembled into and returns its descriptor.
type binder interface {
	bind(service string, kind endpoint.ServiceKind) *endpoint.Handler
	isNil() bool // a nil *Handler (or other handler pointer) in the interface
}

func assemble(kind endpoint.ServiceKind, name string, items []any) endpoint.Service {
	checkServiceName(map[endpoint.ServiceKind]string{
		endpoint.KindService: "service", endpoint.KindVirtualObject: "virtual object", endpoint.KindWorkflow: "workflow",
	}[kind], name)
	def := endpoint.Service{Name: name, Kind: kind}
	for _, it := range items {
		switch v := it.(type) {
		case nil:
			// An untyped nil is a nil option (a nil handler pointer is
			// typed and fails below): ignored, as every nil option is.
			continue
		case binder:
			if v.isNil() {
				panic(fmt.Sprintf("restate: %s: nil %T handler (a handler variable used before it was assigned?)", name, it))
			}
			h := v.bind(name, kind)
			if def.Handler(h.Name) != nil {
				panic(fmt.Sprintf("restate: %s: duplicate handler name %q", name, h.Name))
			}
			def.Handlers = append(def.Handlers, h)
		case Option:
			v.applyService(&def.Options)
		default:
			panic(fmt.Sprintf("restate: %s: unexpected item %T", name, it))
		}
	}
	slices.SortFunc(def.Handlers, func(a, b *endpoint.Handler) int { return strings.Compare(a.Name, b.Name) })
	if r := def.Options.WorkflowCompletionRetention; r != nil {
		// The manifest carries the workflow retention on the workflow's run
		// handler only; restate-server rejects it on a service.
		if kind != endpoint.KindWorkflow {
			panic(fmt.Sprintf("restate: %s: WithWorkflowRetention applies to workflows only", name))
		}
		def.Options.WorkflowCompletionRetention = nil
		for _, h := range def.Handlers {
			if h.Kind == endpoint.HandlerWorkflow && h.Options.WorkflowCompletionRetention == nil {
				h.Options.WorkflowCompletionRetention = r
			}
		}
	}
	return def
}

// NewService assembles a stateless service from handlers made with
// [NewHandler] and service options. It panics on an invalid name, a nil or
// duplicate handler, or a handler that already belongs to another service.
func NewService(name string, items ...ServiceItem) *Service {
	return &Service{def: assemble(endpoint.KindService, name, anySlice(items))}
}

// NewObject assembles a virtual object from handlers made with
// [NewObjectHandler] and [NewSharedHandler] and service options. It panics
// like [NewService].
func NewObject(name string, items ...ObjectItem) *Object {
	return &Object{def: assemble(endpoint.KindVirtualObject, name, anySlice(items))}
}

// WorkflowRun is the run handler of a workflow, made with
// [NewWorkflowHandler].
type WorkflowRun interface {
	binder
	workflowRun()
}

// NewWorkflow assembles a workflow from its run handler, shared handlers made
// with [NewWorkflowSharedHandler], and service options. It panics like
// [NewService].
func NewWorkflow(name string, run WorkflowRun, items ...WorkflowItem) *Workflow {
	all := append([]any{run}, anySlice(items)...)
	return &Workflow{def: assemble(endpoint.KindWorkflow, name, all)}
}

func anySlice[S ~[]E, E any](s S) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
