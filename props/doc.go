// Package props checks, from an ordinary go test, that a Restate handler is
// deterministic and durable: it runs the handler against the real replay
// engine in a simulated runtime, under schedules that rapid draws and
// shrinks.
//
// Entry points:
//   - [Check] runs the checks on one handler value of a service, with a
//     rapid generator for its input; [Property] returns the same check as a
//     rapid property, for rapid.Check, rapid.MakeFuzz or your own tests.
//   - The world the handler talks to: [WithCallResults], [WithState],
//     [WithAwakeables], [WithSignal], [WithPromise], [WithFailures],
//     [WithCancellation], [WithTransientFailures].
//   - What is explored: [WithVersions] (V6 and V7 by default, V5 on
//     request), [WithModes] ([Bidi],
//     [RequestResponse]), [WithKey], [WithMaxAttempts], [WithCodec],
//     [WithBeforeAttempt].
//   - Helpers for run closures and the fakes they call: [Effect] counts
//     executions of a side effect (and injects [ErrTransient]); [Draw] lets
//     the world choose what a side effect returns.
//
// Each check is one scenario: an input, a protocol version, how the state
// reaches the handler (in the start message, lazily, or partly), answers
// from the world, and a schedule: completions arrive in any order,
// including the order of racing futures; bidi streams are closed at random
// points so the handler suspends, and request/response attempts replay the
// whole journal; attempts crash after any journal entry, between a run's
// execution and its journaling included, and are retried. Then, for the
// same answers in the same journal order, the handler runs once more
// without interruption. The properties:
//
//  1. Replay determinism: after every suspension, crash or retry the handler
//     re-issues exactly the journaled commands (the engine fails the attempt
//     with code 570 otherwise), and the uninterrupted execution issues the
//     same commands as the journal.
//  2. Exactly-once side effects: a run whose result is in the journal never
//     executes again.
//  3. Outcome equivalence: the output and the final state equal those of the
//     uninterrupted execution.
//  4. Combinator results follow the journaled notification order: a replay
//     picks the same winner of a race, or 1 or 3 fails.
//
// A failure prints the violated property, the first diverging command in
// the words of the engine's journal mismatch error, the schedule attempt by
// attempt and the journal, for the smallest scenario rapid found. rapid
// saves it under testdata/rapid/ and replays it first on the next run; its
// flags apply: -rapid.checks (100 by default), -rapid.seed,
// -rapid.failfile.
//
// Handlers that read the clock, math/rand, the environment, map iteration
// order or goroutine scheduling outside a run are what this catches. Such a
// handler may pass a scenario by luck; more checks make that less likely.
package props
