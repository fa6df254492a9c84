// Package e2e runs the end-to-end tests of the examples against a real
// restate-server: [Main] starts one server per test binary, serves the
// example's services on a loopback port with package h2c, registers them,
// and hands the tests an [Env] with a typed ingress client.
//
// With RESTATE_E2E_BACKEND=restatetest the same tests run against
// package restatetest instead, the in-process Restate, through its
// in-process ingress and admin APIs: `make test` runs both, as a check that
// the two agree.
//
// The server is installed from npm on first use (see
// internal/restateserver). When it cannot be installed or started the tests
// fail; they never skip.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// Env is what the tests of one example use.
type Env struct {
	Client *ingress.Client
	Admin  *ingress.Admin
	// AdminURL is the base URL of the admin API.
	AdminURL string
	// EndpointURL is where the example's services are served.
	EndpointURL string
	// Backend is "restate-server" or "restatetest".
	Backend string
}

// BackendEnv selects the backend of the tests: restate-server (the default)
// or restatetest.
const BackendEnv = "RESTATE_E2E_BACKEND"

// Query runs a SQL query against the runtime's introspection tables (for
// example state, sys_invocation) through the admin API.
func (e *Env) Query(ctx context.Context, sql string) ([]map[string]any, error) {
	body, err := json.Marshal(map[string]string{"query": sql})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.AdminURL+"/query", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("query: %s: %s", resp.Status, b)
	}
	var out struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	return out.Rows, nil
}

// Options tunes [Main].
type Options struct {
	// ServerEnv holds extra environment variables for restate-server.
	ServerEnv map[string]string
	// Serve holds extra options for the h2c endpoint.
	Serve []h2c.Option
}

// Main starts restate-server, serves services, registers them, runs the
// tests and exits the process with their status. env is filled in before
// the tests run. On failure it prints the end of the server's log.
func Main(m *testing.M, env *Env, opts Options, services ...restate.ServiceDefinition) {
	code, err := run(m, env, opts, services)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(m *testing.M, env *Env, opts Options, services []restate.ServiceDefinition) (int, error) {
	if os.Getenv(BackendEnv) == "restatetest" {
		return runInProcess(m, env, opts, services)
	}
	useRepoCache()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := restateserver.Start(ctx, restateserver.Options{Env: serverEnv(opts.ServerEnv)})
	if err != nil {
		return 1, fmt.Errorf("cannot start restate-server, which the end-to-end tests need: %w", err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 1, err
	}
	serveOpts := append([]h2c.Option{h2c.WithLogger(quietLogger())}, opts.Serve...)
	served := make(chan error, 1)
	go func() { served <- h2c.Serve(ctx, ln, services, serveOpts...) }()

	*env = Env{
		Client:      ingress.NewClient(srv.IngressURL()),
		Admin:       ingress.NewAdmin(srv.AdminURL()),
		AdminURL:    srv.AdminURL(),
		EndpointURL: "http://" + ln.Addr().String(),
		Backend:     "restate-server",
	}
	if _, err := env.Admin.Register(ctx, env.EndpointURL); err != nil {
		return 1, err
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- end of the restate-server log ---\n%s\n", lastLines(srv.Logs(), 80))
	}
	cancel()
	if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
		return code, fmt.Errorf("serving the example: %w", err)
	}
	return code, nil
}

// runInProcess runs the tests against restatetest, serving its ingress and
// admin APIs on loopback so that the tests' clients are the same. The
// services are still served with h2c, for tests that read /discover.
func runInProcess(m *testing.M, env *Env, opts Options, services []restate.ServiceDefinition) (int, error) {
	var violations []restatetest.Violation
	var mu sync.Mutex
	rt, err := restatetest.Start(services, restatetest.WithLogger(quietLogger()),
		restatetest.WithViolationHandler(func(v restatetest.Violation) {
			mu.Lock()
			violations = append(violations, v)
			mu.Unlock()
		}))
	if err != nil {
		return 1, err
	}
	defer rt.Close()
	ingressSrv := httptest.NewServer(rt.IngressHandler())
	defer ingressSrv.Close()
	adminSrv := httptest.NewServer(rt.AdminHandler())
	defer adminSrv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 1, err
	}
	serveOpts := append([]h2c.Option{h2c.WithLogger(quietLogger())}, opts.Serve...)
	served := make(chan error, 1)
	go func() { served <- h2c.Serve(ctx, ln, services, serveOpts...) }()
	*env = Env{
		Client:      ingress.NewClient(ingressSrv.URL),
		Admin:       ingress.NewAdmin(adminSrv.URL),
		AdminURL:    adminSrv.URL,
		EndpointURL: "http://" + ln.Addr().String(),
		Backend:     "restatetest",
	}
	code := m.Run()
	mu.Lock()
	for _, v := range violations {
		fmt.Fprintln(os.Stderr, "restatetest violation:", v)
		code = 1
	}
	mu.Unlock()
	cancel()
	if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
		return code, fmt.Errorf("serving the example: %w", err)
	}
	return code, nil
}

// useRepoCache points the restate-server installation at the repository's
// cache (.cache/restate at the repository root) when no cache directory is
// set, so that examples in their own Go module (examples/tracing) share it
// instead of installing again next to their go.mod.
func useRepoCache() {
	if os.Getenv(restateserver.CacheDirEnv) != "" {
		return
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return
	}
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return
	}
	os.Setenv(restateserver.CacheDirEnv, filepath.Join(root, ".cache", "restate"))
}

// quietLogger logs warnings and errors of the endpoint only.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Context returns a context for one test: it ends with the test, or after
// a minute.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Eventually calls cond every 20ms until it reports true, and fails the
// test if that takes longer than timeout or cond fails.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverEnv adds the test defaults to extra: a few partitions instead of
// the default 24, since a fresh server elects a leader for each before the
// first invocation on it can run (seconds on a small machine).
func serverEnv(extra map[string]string) map[string]string {
	env := map[string]string{"RESTATE_DEFAULT_NUM_PARTITIONS": "2"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}
