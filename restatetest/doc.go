// Package restatetest is an in-process Restate runtime for ordinary go test
// code: it runs the services a deployment serves, through the real replay
// engine and the real protocol messages, with journals, state, timers and
// a virtual clock in memory. No server, no Docker, no mocks.
//
//	env := restatetest.New(t, []restate.ServiceDefinition{counter.Counter})
//	n, err := restatetest.Call(ctx, env, counter.Add.Target("alice"), 5)
//
// Entry points:
//
//   - [New] makes an [Env] for one test; [Start] makes one outside a test
//     (TestMain, programs) and [Env.Close] stops it. Options:
//     [WithManualClock], [WithAlwaysReplay], [WithBidiStreams],
//     [WithLazyState], [WithProtocolVersion], [WithRetryPolicy],
//     [WithLogger], [WithAttemptTimeout], [WithViolationHandler],
//     [WithSeed].
//   - The client mirrors package ingress: [Call] invokes a handler and
//     waits; [Send] starts an invocation ([WithDelay] on the virtual clock)
//     and returns an [Invocation]; [Submit] starts a workflow;
//     [WithIdempotencyKey] and [WithHeaders] as through the ingress.
//     [ByID], [ByIdempotencyKey] and [ByWorkflow] find an invocation again
//     to [Invocation.Attach] to it or read its [Invocation.Output].
//     [ResolveAwakeable], [RejectAwakeable], [ResolveSignal] and
//     [RejectSignal] complete what handlers wait for;
//     [Env.CancelInvocation] and [Env.KillInvocation] act as the admin API.
//   - The ingress and admin HTTP APIs of restate-server, served in
//     process: [Env.IngressClient] and [Env.AdminClient] return the
//     *ingress.Client and *ingress.Admin of package ingress, so tests
//     written against a real server run here unchanged;
//     [Env.IngressHandler] and [Env.AdminHandler] serve the same APIs on
//     any listener.
//   - The clock: [Env.Now], [Env.Advance], [Env.Settle].
//   - A real restate-server for the same tests: [StartServer] returns a
//     [Server] whose [Server.IngressClient] and [Server.AdminClient] are
//     the types [Env.IngressClient] and [Env.AdminClient] return.
//   - Inspection and seeding: [Env.State], [Env.SetState],
//     [Env.ClearState], [LookupState], [PutState], [Env.Journal],
//     [Env.Invocation], [Env.Invocations], [Env.Violations].
//   - Failure injection: [WithFailureAt] crashes an attempt before a chosen
//     journal index; [WithAlwaysReplay] replays the whole journal after
//     every entry, so non-determinism fails the test as a [Violation].
//
// # What is modelled
//
// Each invocation has an id (inv_…), a binary id (awakeable ids encode it)
// and a journal of commands and notifications, stored as restate-server
// stores them. Attempts are request/response by default: the start message
// carries the journal and the eager state, every await the journal cannot
// resolve suspends, and the runtime invokes the handler again with the
// longer journal when something it waits for arrives. Virtual objects and
// workflows keep state per key, applied as SetState, ClearState and
// ClearAllState commands are stored; exclusive handlers (and a workflow's
// run) take the key's lock and queue behind each other, shared handlers do
// not. A workflow runs once per key; its durable promises live per key.
// Calls and one-way sends start invocations in process (the callee's id
// arrives first, then its result or terminal failure); idempotency keys
// deduplicate per target; attach and get-output work by id, idempotency
// key and workflow key. Awakeables and named signals are routed by
// invocation id. Cancellation delivers the cancel signal; kill ends the
// invocation and, recursively, what it called or sent to, with 409
// "killed". Failed attempts are retried with restate-server's default
// retry policy (or the service's) on the virtual clock, then paused.
// Completed invocations are forgotten after their retention (one day by
// default) on the virtual clock.
//
// At most one handler executes at a time: the order in which invocations
// run depends only on the order of requests and timers. The virtual clock
// is the wall clock plus the jumps [Env.Advance] and waiting clients make.
// Unless [WithManualClock], it jumps while a [Call] or an
// [Invocation.Attach] waits and nothing can run, and equally while a
// request through [Env.IngressClient] or [Env.IngressHandler] waits for a
// result (a call or an attach), to the next timer that
// makes an invocation progress (a sleep, a delayed send, a retry, a stream
// closing for inactivity), never to the end of a retention. Handlers read
// the virtual clock: the times the SDK journals (timers, delayed sends,
// restate.Now) are on it, and a timer of d moves it by at least d (due
// times are whole milliseconds, rounded up).
//
// # Differences from restate-server
//
// The tests of internal/agreement run the same client code against both
// and compare what it observes. Known differences:
//
//   - Clients waiting for a paused invocation fail with [ErrPaused] (the
//     HTTP ingress answers 500) instead of waiting for an operator; there
//     is no resume. Journal mismatches (570) and protocol violations (571)
//     pause at once and report a [Violation] instead of being retried.
//   - Attempts are request/response unless [WithBidiStreams]; the server
//     streams. Either way results are the same, but the statuses of
//     invocations in flight differ (suspended here, running there while
//     the stream is open), and so does the number of attempts.
//   - Suspensions of protocol V7 resume as soon as any awaited
//     notification arrives, as on V5/V6.
//   - restate.Now, timers and delayed sends read the virtual clock (see
//     [Env.Now]); time.Now in a run reads the wall clock.
//   - The scheduler runs one handler at a time, until it waits: shared
//     handlers of an object interleave with each other and with a
//     suspended exclusive handler, as they may on the server, but never
//     run in parallel.
//   - Handlers see only the headers set with [WithHeaders] (or sent to
//     [Env.IngressHandler]), content-type and x-restate-ingress-path.
//   - Not modelled: scopes, limit keys and concurrency limits,
//     deployments and versions, resuming and purging by an operator, the
//     admin API beyond cancel, kill, registration, service
//     metadata and a subset of SQL over the sys_invocation and state
//     tables, request identity, Kafka.
package restatetest
