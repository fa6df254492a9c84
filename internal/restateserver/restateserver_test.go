package restateserver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeEndpoint serves just enough of the Restate deployment protocol for
// discovery to succeed: one service with one handler.
func fakeEndpoint(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/discover" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("content-type", "application/vnd.restate.endpointmanifest.v2+json")
		_, _ = w.Write([]byte(`{"protocolMode":"REQUEST_RESPONSE","minProtocolVersion":5,"maxProtocolVersion":5,` +
			`"services":[{"name":"Greeter","ty":"SERVICE","handlers":[{"name":"greet"}]}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestInstallConcurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const n = 4
	var wg sync.WaitGroup
	results := make([]Binaries, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = Install(ctx) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Install: %v", errs[i])
		}
		if results[i] != results[0] {
			t.Fatalf("Install returned %+v and %+v", results[i], results[0])
		}
	}
	for _, p := range []string{results[0].Server, results[0].CLI, results[0].Ctl} {
		if !filepath.IsAbs(p) {
			t.Errorf("path %q is not absolute", p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("binary missing: %v", err)
		}
	}
	start := time.Now()
	if _, err := Install(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Install on an installed cache took %s", d)
	}
}

func TestServerLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := Start(ctx, Options{Env: map[string]string{
		"RESTATE_DEFAULT_NUM_PARTITIONS":              "1",
		"RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT": "0s",
	}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer srv.Close()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", lastLines(srv.Logs(), 60))
		}
	})
	base := srv.BaseDir()

	for _, u := range []string{srv.AdminURL() + "/health", srv.IngressURL() + "/restate/health"} {
		if !srv.ok(ctx, u) {
			t.Fatalf("%s not healthy", u)
		}
	}
	if !strings.HasPrefix(srv.IngressURL(), "http://127.0.0.1:") || strings.HasSuffix(srv.IngressURL(), "/") {
		t.Errorf("IngressURL = %q", srv.IngressURL())
	}
	if !srv.Running() {
		t.Fatal("Running() = false after Start")
	}

	rows, err := srv.Query(ctx, "SELECT 1 AS one")
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(rows) != 1 || rows[0]["one"] != float64(1) {
		t.Fatalf("Query rows = %v", rows)
	}

	ep := fakeEndpoint(t)
	res, err := srv.Register(ctx, ep.URL, RegisterOptions{UseHTTP11: true})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if !strings.HasPrefix(res.ID, "dp_") || !res.Created || len(res.Services) != 1 || res.Services[0] != "Greeter" {
		t.Fatalf("Register result = %+v", res)
	}
	again, err := srv.Register(ctx, ep.URL, RegisterOptions{UseHTTP11: true})
	if err != nil {
		t.Fatalf("second Register: %v", err)
	}
	if again.ID != res.ID || again.Created {
		t.Fatalf("second Register = %+v, want same id %s and Created=false", again, res.ID)
	}

	_, err = srv.Register(ctx, "http://127.0.0.1:1", RegisterOptions{})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode < 400 {
		t.Fatalf("Register of an unreachable endpoint: err = %v, want *APIError", err)
	}

	err = srv.KillInvocation(ctx, "not-an-id")
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Fatalf("KillInvocation(bad id): err = %v, want 400 *APIError", err)
	}
	err = srv.CancelInvocation(ctx, "not-an-id")
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Fatalf("CancelInvocation(bad id): err = %v, want 400 *APIError", err)
	}

	bins, err := Install(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, bins.Ctl, "--address", srv.NodeAddress(), "sql", "--json",
		"SELECT partition_id FROM partition_state").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"partition_id":0`) {
		t.Fatalf("restatectl sql against %s: %v\n%s", srv.NodeAddress(), err, out)
	}

	ingress, admin := srv.IngressURL(), srv.AdminURL()
	srv.Kill()
	if srv.Running() {
		t.Fatal("Running() = true after Kill")
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatalf("Restart after Kill: %v", err)
	}
	if srv.IngressURL() != ingress || srv.AdminURL() != admin {
		t.Fatalf("ports changed across restart")
	}
	// The deployment survives restarts: the data directory is kept.
	rows, err = srv.Query(ctx, "SELECT id FROM sys_deployment")
	if err != nil {
		t.Fatalf("Query after restart: %v", err)
	}
	if len(rows) != 1 || rows[0]["id"] != res.ID {
		t.Fatalf("deployments after restart = %v, want %s", rows, res.ID)
	}

	// Restart on a running server stops it gracefully first.
	if err := srv.Restart(ctx); err != nil {
		t.Fatalf("Restart while running: %v", err)
	}
	if err := srv.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if srv.Running() {
		t.Fatal("Running() = true after Stop")
	}
	if !strings.Contains(srv.Logs(), "restateserver: starting") {
		t.Errorf("Logs() lacks the start banner")
	}
	if data, err := os.ReadFile(srv.LogPath()); err != nil || len(data) == 0 {
		t.Errorf("log file %s: %v (%d bytes)", srv.LogPath(), err, len(data))
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(base); !os.IsNotExist(err) {
		t.Fatalf("temporary base dir %s still exists after Close (%v)", base, err)
	}
	if err := srv.Restart(ctx); err == nil {
		t.Fatal("Restart after Close succeeded")
	}
}

func TestStartKeepsGivenBaseDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var out strings.Builder
	var mu sync.Mutex
	srv, err := Start(ctx, Options{BaseDir: dir, LogWriter: writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	})})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if srv.LogPath() != "" {
		t.Errorf("LogPath() = %q with a LogWriter", srv.LogPath())
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("given base dir removed: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(out.String(), "restateserver: starting") {
		t.Errorf("LogWriter did not receive the output")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestTailBuffer(t *testing.T) {
	var sink strings.Builder
	tb := newTailBuffer(8, &sink)
	for _, s := range []string{"hello ", "world", "!"} {
		if n, err := tb.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := tb.String(); got != "o world!"[len("o world!")-8:] {
		t.Errorf("tail = %q", got)
	}
	if sink.String() != "hello world!" {
		t.Errorf("sink = %q", sink.String())
	}
}

func TestHelpers(t *testing.T) {
	if !bindFailure("Error: Address already in use (os error 98)") || bindFailure("all good") {
		t.Error("bindFailure")
	}
	if got := lastLines("a\nb\nc\n", 2); got != "b\nc" {
		t.Errorf("lastLines = %q", got)
	}
	ports, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	if ports[0] == ports[1] || ports[1] == ports[2] || ports[0] == ports[2] {
		t.Errorf("freePorts returned duplicates: %v", ports)
	}
}

func TestEnviron(t *testing.T) {
	t.Setenv("RESTATE_SHOULD_NOT_LEAK", "1")
	t.Setenv("SOME_OTHER_VAR", "kept")
	s := &Server{ingressPort: 1, adminPort: 2, nodePort: 3, userEnv: map[string]string{
		"RESTATE_LISTEN_MODE": "all",
		"RESTATE_X":           "y",
	}}
	env := map[string]string{}
	for _, kv := range s.environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	want := map[string]string{
		"RESTATE_INGRESS__BIND_ADDRESS": "127.0.0.1:1",
		"RESTATE_ADMIN__BIND_ADDRESS":   "127.0.0.1:2",
		"RESTATE_BIND_ADDRESS":          "127.0.0.1:3",
		"RESTATE_ADVERTISED_ADDRESS":    "http://127.0.0.1:3/",
		"RESTATE_LISTEN_MODE":           "all",
		"RESTATE_X":                     "y",
		"SOME_OTHER_VAR":                "kept",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["RESTATE_SHOULD_NOT_LEAK"]; ok {
		t.Error("RESTATE_* variable of the parent leaked")
	}
}

func TestCacheDir(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	t.Setenv(CacheDirEnv, "")
	dir, err := CacheDir()
	if err != nil || dir != filepath.Join(root, ".cache", "restate") {
		t.Errorf("CacheDir() = %q, %v", dir, err)
	}
	other := t.TempDir()
	t.Setenv(CacheDirEnv, other)
	if dir, err := CacheDir(); err != nil || dir != other {
		t.Errorf("CacheDir() with %s = %q, %v", CacheDirEnv, dir, err)
	}
}
