// Package agreement checks that package restatetest behaves like
// restate-server: its tests run the same scenarios, through the same
// *ingress.Client and *ingress.Admin code, against a real restate-server
// (started with internal/restateserver, as the examples' end-to-end tests
// do) and against a restatetest environment, and compare what a client
// observes: results, terminal failures, ingress errors, send statuses,
// stored state and the invocations' final statuses.
//
// The package has no code of its own: it exists for its tests, which need
// the restate-server installed by `make deps` (they fail, never skip, when
// it cannot start).
package agreement
