// Package workload names the services every benchmark endpoint serves, so
// that this SDK's endpoint, sdk-go's endpoint, the transport floor and the
// load generator agree on them without depending on each other.
//
// Every endpoint serves the same five workloads, with JSON payloads:
//
//   - Greeter/greet: a service handler, string → "Hello <name>!".
//   - Counter/add: an exclusive virtual object handler that reads the state
//     key "count" (int64, missing = 0), adds its input and stores and returns
//     the sum.
//   - Runner/runs: a service handler that does n runs (its input), each
//     returning 1, and returns their sum.
//   - Reader/gets: an exclusive virtual object handler that reads the state
//     key "s" (int64) n times (its input) and returns the sum.
//   - Waiter/wait: a service handler that creates one awakeable (string) and
//     returns its value.
//
// Endpoints prefix every service name with the -prefix flag (see [Name]),
// so that two endpoints can be registered with one restate-server.
package workload

// Service and handler names, before the prefix.
const (
	Greeter      = "Greeter"
	GreeterGreet = "greet"
	Counter      = "Counter"
	CounterAdd   = "add"
	Runner       = "Runner"
	RunnerRuns   = "runs"
	Reader       = "Reader"
	ReaderGets   = "gets"
	Waiter       = "Waiter"
	WaiterWait   = "wait"
)

// State keys.
const (
	CountKey = "count"
	ReadKey  = "s"
)

// Name returns the service name svc as served by an endpoint started with
// -prefix prefix.
func Name(prefix, svc string) string { return prefix + svc }

// GreetText returns the greeting for name, the output of Greeter/greet.
func GreetText(name string) string { return "Hello " + name + "!" }
