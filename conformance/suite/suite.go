package suite

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

// DefaultTestTimeout is the per-test timeout when [Test.Timeout] is zero:
// the Kotlin suite's junit default (junit-platform.properties).
const DefaultTestTimeout = 30 * time.Second

// Protocol modes of the test-services process (PROTOCOL_MODE).
const (
	ModeBidi            = "bidi"
	ModeRequestResponse = "request-response"
)

// Modes lists the valid protocol modes.
func Modes() []string { return []string{ModeBidi, ModeRequestResponse} }

// Env is what a scenario gets: clients and process controls of its class's
// environment. It is shared by the tests of a class.
type Env struct {
	// Ingress calls the runtime's ingress.
	Ingress *Ingress
	// Runtime is the restate-server: admin helpers (Query, CancelInvocation,
	// KillInvocation, AdminURL) and process controls (Kill, Stop, Restart).
	// In a multi-node configuration it is the cluster's first node, which
	// Ingress calls too.
	Runtime *restateserver.Server
	// Cluster is the cluster of a multi-node configuration ([Config.Nodes]
	// above 1), nil otherwise.
	Cluster *restateserver.Cluster
	// Services is the test-services process (KillAndRestart,
	// TerminateAndRestart).
	Services *ServiceProcess
	// Binaries are the installed Restate binaries (restatectl for
	// partition_state queries).
	Binaries restateserver.Binaries
	// Config and Mode identify the configuration being run.
	Config Config
	Mode   string

	logf func(format string, args ...any)
}

// Logf writes a diagnostic line (shown with -v).
func (e *Env) Logf(format string, args ...any) {
	if e.logf != nil {
		e.logf(format, args...)
	}
}

// Test is one scenario (a Kotlin test method, or one expansion of a
// parametrized one).
type Test struct {
	// Name is the method name, with the parameter appended after a slash for
	// parametrized tests, e.g. "cancelFromContext/CALL".
	Name string
	// Concurrent marks tests annotated @Execution(CONCURRENT): they run in
	// parallel with the other concurrent tests of the class.
	Concurrent bool
	// Timeout bounds the test; zero means [DefaultTestTimeout].
	Timeout time.Duration
	// Run executes the scenario; a non-nil error fails the test.
	Run func(ctx context.Context, env *Env) error
}

// Class is a Kotlin test class: tests sharing one runtime and one
// test-services deployment.
type Class struct {
	Name string
	// Services are the test-services to bind (SERVICES).
	Services []string
	// RuntimeEnv is added to the configuration's runtime environment.
	RuntimeEnv map[string]string
	// ServiceEnv is added to the test-services environment.
	ServiceEnv map[string]string
	// Prepare, when set, runs before the runtime starts, with a scratch
	// directory of the class; it returns more runtime environment.
	Prepare func(dir string) (map[string]string, error)
	// Tests are the class's scenarios.
	Tests []Test
}

// Config is a runtime configuration: a Kotlin TestSuite.
type Config struct {
	Name string
	// Official is the name of the TestSuite in the official suite
	// (restatedev/e2e); [ConfigByName] accepts it too.
	Official string
	// Nodes is the number of restate-server nodes; 0 or 1 is a single
	// server, more is a cluster (replicated loglet, replication 2), as the
	// official suite deploys its three-node suites.
	Nodes int
	// Env is the runtime environment of every class of the configuration.
	Env map[string]string
	// Classes are the names of the classes the configuration runs.
	Classes []string
}

// Class names.
const (
	CallOrdering                     = "CallOrdering"
	Cancellation                     = "Cancellation"
	Combinators                      = "Combinators"
	IngressClass                     = "Ingress"
	KillInvocation                   = "KillInvocation"
	KillRuntime                      = "KillRuntime"
	NonDeterminismErrors             = "NonDeterminismErrors"
	ProxyRequestSigning              = "ProxyRequestSigning"
	RunFlush                         = "RunFlush"
	RunRetry                         = "RunRetry"
	ServiceToServiceCommunication    = "ServiceToServiceCommunication"
	ServiceToServiceScopeConcurrency = "ServiceToServiceScopeConcurrency"
	Signals                          = "Signals"
	Sleep                            = "Sleep"
	SleepWithFailures                = "SleepWithFailures"
	State                            = "State"
	StopRuntime                      = "StopRuntime"
	UserErrors                       = "UserErrors"
	WorkflowAPI                      = "WorkflowAPI"
)

// Runtime environment variables used by the configurations.
const (
	envInactivityTimeout = "RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT"
	envDisableEagerState = "RESTATE_WORKER__INVOKER__DISABLE_EAGER_STATE"
	envNumPartitions     = "RESTATE_DEFAULT_NUM_PARTITIONS"
	envThreadPoolSize    = "RESTATE_DEFAULT_THREAD_POOL_SIZE"
	envTimersInMemory    = "RESTATE_WORKER__NUM_TIMERS_IN_MEMORY_LIMIT"
	envProtocolV7        = "RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7"
)

// defaultClasses is TestSuites.DEFAULT_SUITE without Custom (which only runs
// commands from a user-supplied file and has no scenario of its own).
var defaultClasses = []string{
	CallOrdering, Cancellation, Combinators, IngressClass, KillInvocation, KillRuntime,
	ProxyRequestSigning, RunRetry, ServiceToServiceCommunication, ServiceToServiceScopeConcurrency,
	Sleep, SleepWithFailures, State, StopRuntime, UserErrors, WorkflowAPI, Signals,
}

// Configurations returns the runtime configurations, ported from the Kotlin
// TestSuites, plus "v7", the default classes with protocol v7 enabled.
func Configurations() []Config {
	return []Config{
		{Name: "default", Official: "default", Env: map[string]string{}, Classes: slices.Clone(defaultClasses)},
		{Name: "v7", Env: map[string]string{envProtocolV7: "true"}, Classes: slices.Clone(defaultClasses)},
		{
			// The default classes without those that kill or stop the whole
			// runtime (KillRuntime, StopRuntime), Custom and
			// ServiceToServiceScopeConcurrency, as upstream.
			Name:     "three-nodes",
			Official: "threeNodes",
			Nodes:    3,
			Env:      map[string]string{envNumPartitions: "4"},
			Classes: []string{
				CallOrdering, Cancellation, Combinators, IngressClass, KillInvocation,
				ProxyRequestSigning, RunRetry, ServiceToServiceCommunication, Sleep, SleepWithFailures,
				State, UserErrors, WorkflowAPI, Signals,
			},
		},
		{
			Name:     "three-nodes-always-suspending",
			Official: "threeNodesAlwaysSuspending",
			Nodes:    3,
			Env:      map[string]string{envInactivityTimeout: "0s", envNumPartitions: "4"},
			Classes: []string{
				Cancellation, Combinators, RunFlush, RunRetry, ServiceToServiceCommunication, Sleep,
				SleepWithFailures, State, UserErrors, WorkflowAPI, Signals,
			},
		},
		{
			Name:     "always-suspending",
			Official: "alwaysSuspending",
			Env:      map[string]string{envInactivityTimeout: "0s"},
			Classes: []string{
				Cancellation, Combinators, KillRuntime, NonDeterminismErrors, RunFlush, RunRetry,
				ServiceToServiceCommunication, Sleep, SleepWithFailures, State, StopRuntime,
				UserErrors, WorkflowAPI, Signals,
			},
		},
		{
			Name:     "single-partition",
			Official: "singleThreadSinglePartition",
			Env:      map[string]string{envNumPartitions: "1", envThreadPoolSize: "1"},
			Classes: []string{
				CallOrdering, Cancellation, Combinators, IngressClass, KillInvocation, KillRuntime,
				ProxyRequestSigning, RunRetry, ServiceToServiceCommunication, Sleep, SleepWithFailures,
				State, StopRuntime, UserErrors, WorkflowAPI, Signals,
			},
		},
		{Name: "lazy-state", Official: "lazyState", Env: map[string]string{envDisableEagerState: "true"}, Classes: []string{State}},
		{
			Name:     "lazy-state-always-suspending",
			Official: "lazyStateAlwaysSuspending",
			Env:      map[string]string{envDisableEagerState: "true", envInactivityTimeout: "0s"},
			Classes:  []string{State},
		},
		{Name: "persisted-timers", Official: "persistedTimers", Env: map[string]string{envTimersInMemory: "1"}, Classes: []string{Sleep}},
	}
}

// ConfigByName returns the configuration with the given name, ours or the
// official suite's (threeNodes is three-nodes).
func ConfigByName(name string) (Config, bool) {
	for _, c := range Configurations() {
		if c.Name == name || (c.Official != "" && c.Official == name) {
			return c, true
		}
	}
	return Config{}, false
}

// classConstructors builds every class; see Classes.
var classConstructors = []func() *Class{
	callOrderingClass, cancellationClass, combinatorsClass, ingressClass, killInvocationClass,
	killRuntimeClass, nonDeterminismErrorsClass, proxyRequestSigningClass, runFlushClass,
	runRetryClass, serviceToServiceCommunicationClass, serviceToServiceScopeConcurrencyClass,
	signalsClass, sleepClass, sleepWithFailuresClass, stateClass, stopRuntimeClass,
	userErrorsClass, workflowAPIClass,
}

var (
	classesOnce sync.Once
	classIndex  map[string]*Class
)

// Classes returns every ported class, sorted by name.
func Classes() []*Class {
	classesOnce.Do(func() {
		classIndex = map[string]*Class{}
		for _, mk := range classConstructors {
			c := mk()
			if _, dup := classIndex[c.Name]; dup {
				panic(fmt.Sprintf("suite: duplicate class %s", c.Name))
			}
			classIndex[c.Name] = c
		}
	})
	names := slices.Sorted(maps.Keys(classIndex))
	out := make([]*Class, len(names))
	for i, n := range names {
		out[i] = classIndex[n]
	}
	return out
}

// ClassByName returns the class with the given name.
func ClassByName(name string) (*Class, bool) {
	Classes()
	c, ok := classIndex[name]
	return c, ok
}
