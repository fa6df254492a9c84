package suite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

// registerTimeout bounds the registration retries (the Kotlin deployer
// retries discovery for 20 s).
const registerTimeout = 20 * time.Second

// h2cAttempts is how many registrations over HTTP/2 prior knowledge are
// tried before falling back to use_http_11.
const h2cAttempts = 3

// maxConcurrentTests bounds the concurrent tests of one class.
const maxConcurrentTests = 8

// Result is the outcome of one test.
type Result struct {
	Class    string
	Test     string
	Err      error
	Duration time.Duration
}

// FullName is "Class/test", the string -run filters match.
func (r Result) FullName() string { return r.Class + "/" + r.Test }

// RunOptions configures [RunClass].
type RunOptions struct {
	// ServicesBin is the test-services executable.
	ServicesBin string
	// Binaries are the Restate binaries; zero means [restateserver.Install].
	Binaries restateserver.Binaries
	// Config is the runtime configuration.
	Config Config
	// Mode is ModeBidi or ModeRequestResponse (PROTOCOL_MODE).
	Mode string
	// Filter selects tests by full name ("Class/test"); nil selects all.
	Filter func(fullName string) bool
	// Logf receives diagnostics (may be nil).
	Logf func(format string, args ...any)
	// OnResult, when set, is called as each test finishes (serially).
	OnResult func(Result)
}

// ClassReport is the outcome of [RunClass].
type ClassReport struct {
	Class   string
	Results []Result
	// RuntimeLogs and ServiceLogs are the tails of the process outputs,
	// captured at the end of the class.
	RuntimeLogs string
	ServiceLogs string
	// Transport is "h2c" or "http1.1", how the deployment was registered.
	Transport string
	Duration  time.Duration
}

// Failed reports whether any test of the class failed.
func (r ClassReport) Failed() bool {
	for _, res := range r.Results {
		if res.Err != nil {
			return true
		}
	}
	return false
}

// SelectedTests returns the tests of c that filter accepts.
func SelectedTests(c *Class, filter func(string) bool) []Test {
	var out []Test
	for _, t := range c.Tests {
		if filter == nil || filter(c.Name+"/"+t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// RunClass sets up a fresh environment for c (restate-server with the
// configuration's and the class's environment, the test-services process,
// the deployment registration), runs the selected tests and tears the
// environment down. Concurrent tests run in parallel with each other, the
// others one at a time. If the setup fails every selected test fails with
// the setup error.
func RunClass(ctx context.Context, c *Class, opts RunOptions) ClassReport {
	start := time.Now()
	report := ClassReport{Class: c.Name}
	tests := SelectedTests(c, opts.Filter)
	if len(tests) == 0 {
		return report
	}
	logf := func(format string, args ...any) {
		if opts.Logf != nil {
			opts.Logf("[%s] "+format, append([]any{c.Name}, args...)...)
		}
	}
	var mu sync.Mutex
	record := func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		report.Results = append(report.Results, r)
		if opts.OnResult != nil {
			opts.OnResult(r)
		}
	}

	env, teardown, err := setupClass(ctx, c, opts, logf)
	if env != nil {
		report.Transport = env.transport
	}
	if err != nil {
		for _, t := range tests {
			record(Result{Class: c.Name, Test: t.Name, Err: fmt.Errorf("class setup: %w", err)})
		}
	} else {
		var concurrent, sequential []Test
		for _, t := range tests {
			if t.Concurrent {
				concurrent = append(concurrent, t)
			} else {
				sequential = append(sequential, t)
			}
		}
		sem := make(chan struct{}, maxConcurrentTests)
		var wg sync.WaitGroup
		for _, t := range concurrent {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				record(runTest(ctx, c.Name, t, &env.Env))
			})
		}
		wg.Wait()
		for _, t := range sequential {
			record(runTest(ctx, c.Name, t, &env.Env))
		}
	}
	if teardown != nil {
		report.RuntimeLogs, report.ServiceLogs = teardown()
	}
	report.Duration = time.Since(start)
	return report
}

// classEnv is an Env plus harness bookkeeping.
type classEnv struct {
	Env
	transport string
}

// setupClass starts the runtime and the services and registers the
// deployment. The returned teardown (non-nil whenever something was
// started) stops everything and returns the log tails.
func setupClass(ctx context.Context, c *Class, opts RunOptions, logf func(string, ...any)) (*classEnv, func() (string, string), error) {
	bins := opts.Binaries
	if bins.Server == "" {
		var err error
		if bins, err = restateserver.Install(ctx); err != nil {
			return nil, nil, err
		}
	}
	workDir, err := os.MkdirTemp("", "conformance-"+c.Name+"-")
	if err != nil {
		return nil, nil, err
	}
	runtimeEnv := map[string]string{}
	maps.Copy(runtimeEnv, opts.Config.Env)
	maps.Copy(runtimeEnv, c.RuntimeEnv)
	if c.Prepare != nil {
		extra, err := c.Prepare(workDir)
		if err != nil {
			os.RemoveAll(workDir)
			return nil, nil, fmt.Errorf("prepare: %w", err)
		}
		maps.Copy(runtimeEnv, extra)
	}

	rt, err := startRuntime(ctx, bins, opts.Config.Nodes, runtimeEnv)
	if err != nil {
		os.RemoveAll(workDir)
		return nil, nil, err
	}
	srv := rt.first()
	logf("%s up, partitions ready: ingress %s, admin %s, env %v", rt, srv.IngressURL(), srv.AdminURL(), runtimeEnv)

	var svc *ServiceProcess
	teardown := func() (string, string) {
		var svcLogs string
		if svc != nil {
			svc.Kill()
			svcLogs = svc.Logs()
		}
		rtLogs, err := rt.close()
		if err != nil {
			logf("closing %s: %v", rt, err)
		}
		os.RemoveAll(workDir)
		return rtLogs, svcLogs
	}

	svcEnv := map[string]string{
		"SERVICES":      strings.Join(c.Services, ","),
		"PROTOCOL_MODE": opts.Mode,
		"RESTATE_URI":   srv.IngressURL() + "/",
	}
	maps.Copy(svcEnv, c.ServiceEnv)
	svc, err = StartServiceProcess(ctx, opts.ServicesBin, svcEnv, nil)
	if err != nil {
		return nil, teardown, err
	}
	logf("test-services up at %s (SERVICES=%s, PROTOCOL_MODE=%s)", svc.URL(), svcEnv["SERVICES"], opts.Mode)

	transport, err := registerDeployment(ctx, rt, svc.URL(), logf)
	if err != nil {
		return nil, teardown, err
	}
	env := &classEnv{
		Env: Env{
			Ingress:  NewIngress(srv.IngressURL()),
			Runtime:  srv,
			Cluster:  rt.cluster,
			Services: svc,
			Binaries: bins,
			Config:   opts.Config,
			Mode:     opts.Mode,
			logf:     logf,
		},
		transport: transport,
	}
	return env, teardown, nil
}

// runtime is the restate-server of a class: one server, or the nodes of a
// cluster.
type runtime struct {
	server  *restateserver.Server
	cluster *restateserver.Cluster
}

// startRuntime starts one server when nodes is at most 1, else a cluster of
// that many nodes (replicated loglet, replication 2), and waits until its
// partitions are led.
func startRuntime(ctx context.Context, bins restateserver.Binaries, nodes int, env map[string]string) (*runtime, error) {
	if nodes <= 1 {
		srv, err := restateserver.Start(ctx, restateserver.Options{Binaries: bins, Env: env})
		if err != nil {
			return nil, err
		}
		return &runtime{server: srv}, nil
	}
	c, err := restateserver.StartCluster(ctx, restateserver.ClusterOptions{Binaries: bins, Nodes: nodes, Env: env})
	if err != nil {
		return nil, err
	}
	return &runtime{cluster: c}, nil
}

// first is the node the tests talk to, as the official suite's tests talk
// to its first container: ingress, admin API and restatectl.
func (r *runtime) first() *restateserver.Server {
	if r.cluster != nil {
		return r.cluster.Node(0)
	}
	return r.server
}

// String names the runtime in diagnostics.
func (r *runtime) String() string {
	if r.cluster != nil {
		return fmt.Sprintf("restate cluster of %d nodes", len(r.cluster.Nodes()))
	}
	return "restate-server"
}

// register registers the deployment; on a cluster it returns once every
// node serves it ([restateserver.Cluster.Register]).
func (r *runtime) register(ctx context.Context, uri string, opts restateserver.RegisterOptions) (restateserver.RegisterResult, error) {
	if r.cluster != nil {
		return r.cluster.Register(ctx, uri, opts)
	}
	return r.server.Register(ctx, uri, opts)
}

// close kills the runtime and returns the tail of its output (of every
// node, for a cluster).
func (r *runtime) close() (string, error) {
	if r.cluster != nil {
		for _, n := range r.cluster.Nodes() {
			n.Kill()
		}
		logs := r.cluster.Logs()
		return logs, r.cluster.Close()
	}
	r.server.Kill()
	logs := r.server.Logs()
	return logs, r.server.Close()
}

// registerDeployment registers the endpoint, first over HTTP/2 prior
// knowledge and, if discovery keeps failing, with use_http_11. It retries
// for up to registerTimeout and returns the transport used.
func registerDeployment(ctx context.Context, rt *runtime, uri string, logf func(string, ...any)) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	var lastErr error
	for attempt := 1; ; attempt++ {
		useHTTP11 := attempt > h2cAttempts
		res, err := rt.register(ctx, uri, restateserver.RegisterOptions{UseHTTP11: useHTTP11})
		if err == nil {
			transport := "h2c"
			if useHTTP11 {
				transport = "http1.1"
				logf("WARNING: discovery over h2c failed (%v); registered with use_http_11", lastErr)
			}
			logf("registered %s as %s over %s: %v", uri, res.ID, transport, res.Services)
			return transport, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("register deployment %s: %w", uri, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runTest runs one test with its timeout, turning panics into failures. A
// test that does not return within its timeout plus a grace period is
// reported as failed and abandoned (the class teardown unblocks it).
func runTest(ctx context.Context, class string, t Test, env *Env) Result {
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = DefaultTestTimeout
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		done <- t.Run(tctx, env)
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout + 5*time.Second):
		err = fmt.Errorf("test did not return within its %s timeout", timeout)
	}
	if err != nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return Result{Class: class, Test: t.Name, Err: err, Duration: time.Since(start)}
}
