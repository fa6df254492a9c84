package h2c_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
	"github.com/qcodr/restate-sdk-go/wire"
)

// The end-to-end tests share restate-server processes, started on first use
// and stopped by TestMain: one with default settings (protocol V6), one with
// protocol V7 enabled. Both sign their requests with a key generated here,
// so that endpoints configured with its public key can verify them. A
// server that cannot be installed or started fails the tests; it never
// skips them.

type sharedRuntime struct {
	once sync.Once
	env  map[string]string
	srv  *restateserver.Server
	err  error
}

var (
	runtimeKey signer
	keyDir     string
	runtimes   = map[string]*sharedRuntime{
		"default": {env: map[string]string{}},
		"v7":      {env: map[string]string{"RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7": "true"}},
	}
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, rt := range runtimes {
		if rt.srv != nil {
			if err := rt.srv.Close(); err != nil {
				fmt.Fprintln(os.Stderr, "closing restate-server:", err)
			}
		}
	}
	if keyDir != "" {
		os.RemoveAll(keyDir)
	}
	os.Exit(code)
}

var keyOnce sync.Once

// signingKeyFile writes the runtime's request signing key as PKCS#8 PEM,
// as restate-server reads it.
func signingKeyFile(t *testing.T) string {
	keyOnce.Do(func() {
		runtimeKey = newSigner(t)
		der, err := x509.MarshalPKCS8PrivateKey(runtimeKey.priv)
		if err != nil {
			panic(err)
		}
		keyDir, err = os.MkdirTemp("", "h2c-e2e-")
		if err != nil {
			panic(err)
		}
		b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := os.WriteFile(filepath.Join(keyDir, "identity.pem"), b, 0o600); err != nil {
			panic(err)
		}
	})
	return filepath.Join(keyDir, "identity.pem")
}

// restateServer returns the shared server of a configuration, starting it
// on first use.
func restateServer(t *testing.T, config string) *restateserver.Server {
	t.Helper()
	pemFile := signingKeyFile(t)
	rt := runtimes[config]
	rt.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		env := map[string]string{"RESTATE_WORKER__INVOKER__REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE": pemFile}
		for k, v := range rt.env {
			env[k] = v
		}
		rt.srv, rt.err = restateserver.Start(ctx, restateserver.Options{Env: env})
	})
	if rt.err != nil {
		t.Fatalf("restate-server (%s) could not be started: %v", config, rt.err)
	}
	return rt.srv
}

// e2eServices returns a greeter, a counter object and a signup workflow
// whose names end with sfx, so that several deployments can be registered
// with one server. starts counts the starts of the call handler.
func e2eServices(sfx string, starts *atomic.Int64) []restate.ServiceDefinition {
	count := restate.NewStateKey[int]("count")
	status := restate.NewStateKey[string]("status")
	add := restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
		v, err := count.Get(ctx)
		if err != nil {
			return 0, err
		}
		// A side effect and a timer: one more round trip each in
		// request/response mode.
		v, err = restate.Run(ctx, func(restate.RunContext) (int, error) { return v + n, nil })
		if err != nil {
			return 0, err
		}
		if err := restate.Sleep(ctx, 10*time.Millisecond); err != nil {
			return 0, err
		}
		return v, count.Set(ctx, v)
	})
	counter := restate.NewObject("Counter"+sfx, add,
		restate.NewSharedHandler("get", restate.NoInput(func(ctx restate.ObjectSharedContext) (int, error) {
			return count.Get(ctx)
		})),
	)
	type addReq struct {
		Key string `json:"key"`
		N   int    `json:"n"`
	}
	greeter := restate.NewService("Greeter"+sfx,
		restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
			return "Hello " + name + "!", nil
		}),
		// call awaits another handler through the runtime.
		restate.NewHandler("call", func(ctx restate.Context, r addReq) (int, error) {
			starts.Add(1)
			return add.Call(ctx, r.Key, r.N).Await()
		}),
	)
	signup := restate.NewWorkflow("Signup"+sfx,
		restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, user string) (string, error) {
			if err := status.Set(ctx, "waiting"); err != nil {
				return "", err
			}
			approver, err := restate.Promise[string](ctx, "approved").Result().Await()
			if err != nil {
				return "", err
			}
			if err := status.Set(ctx, "approved by "+approver); err != nil {
				return "", err
			}
			return "welcome " + user, nil
		}),
		restate.NewWorkflowSharedHandler("approve", func(ctx restate.WorkflowSharedContext, by string) (restate.Void, error) {
			return restate.Void{}, restate.Promise[string](ctx, "approved").Resolve(by)
		}),
		restate.NewWorkflowSharedHandler("status", restate.NoInput(func(ctx restate.WorkflowSharedContext) (string, error) {
			s, _, err := status.Lookup(ctx)
			return s, err
		})),
	)
	return []restate.ServiceDefinition{greeter, counter, signup}
}

// deployment is an endpoint served on a loopback port and registered with
// a runtime.
type deployment struct {
	sfx    string
	url    string
	starts *atomic.Int64
	mode   string
}

// deploy serves e2eServices with opts through h2c.Serve and registers them.
func deploy(t *testing.T, srv *restateserver.Server, sfx, mode string, http11 bool, opts ...h2c.Option) *deployment {
	t.Helper()
	d := &deployment{sfx: sfx, starts: new(atomic.Int64), mode: mode}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	opts = append(append([]h2c.Option{h2c.WithLogger(quietLogger())}, modeOptions(mode)...), opts...)
	go func() { errc <- h2c.Serve(ctx, ln, e2eServices(sfx, d.starts), opts...) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
	defer rcancel()
	if _, err := srv.Register(rctx, d.url, restateserver.RegisterOptions{UseHTTP11: http11, Force: true}); err != nil {
		t.Fatalf("registering %s: %v", d.url, err)
	}
	return d
}

// ingress calls the runtime's ingress and returns the status and body.
func ingress(t *testing.T, srv *restateserver.Server, method, path, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.IngressURL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("content-type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func expect(t *testing.T, srv *restateserver.Server, method, path, body string, wantStatus int, want string) {
	t.Helper()
	begin := time.Now()
	status, got := ingress(t, srv, method, path, body)
	t.Logf("%s %s: %s", method, path, time.Since(begin).Round(time.Millisecond))
	if status != wantStatus || (want != "" && got != want) {
		t.Errorf("%s %s %s: %d %s, want %d %s\nserver log tail:\n%s", method, path, body, status, got, wantStatus, want, tail(srv.Logs(), 2000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// exercise invokes a service, an object and a workflow of d through the
// ingress and checks results and state.
func exercise(t *testing.T, srv *restateserver.Server, d *deployment) {
	sfx := d.sfx
	expect(t, srv, "POST", "/Greeter"+sfx+"/greet", `"Alice"`, 200, `"Hello Alice!"`)
	// Object state, across invocations.
	expect(t, srv, "POST", "/Counter"+sfx+"/a/add", `5`, 200, `5`)
	expect(t, srv, "POST", "/Counter"+sfx+"/a/add", `7`, 200, `12`)
	expect(t, srv, "POST", "/Counter"+sfx+"/b/add", `1`, 200, `1`)
	expect(t, srv, "GET", "/Counter"+sfx+"/a/get", ``, 200, `12`)
	// A call through the runtime: on a bidirectional stream the result
	// arrives while the handler waits; in request/response mode the handler
	// suspends and runs again.
	before := d.starts.Load()
	expect(t, srv, "POST", "/Greeter"+sfx+"/call", `{"key":"c","n":3}`, 200, `3`)
	starts := d.starts.Load() - before
	if d.mode == "bidi" && starts != 1 {
		t.Errorf("the calling handler started %d times on a bidirectional stream, want 1 (no suspension)", starts)
	}
	if d.mode == "request-response" && starts < 2 {
		t.Errorf("the calling handler started %d times in request/response mode, want at least 2 (suspended)", starts)
	}
	expect(t, srv, "GET", "/Counter"+sfx+"/c/get", ``, 200, `3`)
	// A workflow: start it, wait until it waits on its promise, resolve
	// the promise from a shared handler, and attach to the result.
	status, body := ingress(t, srv, "POST", "/Signup"+sfx+"/u1/run/send", `"bob"`)
	if status != 202 || !strings.Contains(body, "inv_") {
		t.Fatalf("workflow send: %d %s", status, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := ingress(t, srv, "GET", "/Signup"+sfx+"/u1/status", ``)
		if body == `"waiting"` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow status %s, want waiting", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	expect(t, srv, "POST", "/Signup"+sfx+"/u1/approve", `"carol"`, 200, "")
	expect(t, srv, "GET", "/restate/workflow/Signup"+sfx+"/u1/attach", ``, 200, `"welcome bob"`)
	expect(t, srv, "GET", "/Signup"+sfx+"/u1/status", ``, 200, `"approved by carol"`)
	// State as the runtime stores it.
	rows, err := srv.Query(context.Background(), fmt.Sprintf(
		"SELECT service_key, value_utf8 FROM state WHERE service_name = 'Counter%s' AND key = 'count' ORDER BY service_key", sfx))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(rows)
	if want := `[{"service_key":"a","value_utf8":"12"},{"service_key":"b","value_utf8":"1"},{"service_key":"c","value_utf8":"3"}]`; string(got) != want {
		t.Errorf("stored state %s, want %s", got, want)
	}
}

// TestEndToEnd registers the endpoint with a real restate-server over HTTP/2
// cleartext and over HTTP/1.1, in both modes, and drives a service, an
// object and a workflow through the ingress.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	srv := restateServer(t, "default")
	for _, tc := range []struct {
		name, mode string
		http11     bool
	}{
		{"h2c/bidi", "bidi", false},
		{"h2c/request-response", "request-response", false},
		{"http1/bidi", "bidi", true},
		{"http1/request-response", "request-response", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sfx := strings.NewReplacer("/", "_", "-", "_").Replace(tc.name)
			d := deploy(t, srv, "_"+sfx, tc.mode, tc.http11)
			exercise(t, srv, d)
		})
	}
}

// TestEndToEndV7 does the same on a server that negotiates protocol V7.
func TestEndToEndV7(t *testing.T) {
	t.Parallel()
	srv := restateServer(t, "v7")
	for _, tc := range []struct {
		name, mode string
		http11     bool
	}{
		{"h2c/bidi", "bidi", false},
		{"http1/request-response", "request-response", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sfx := strings.NewReplacer("/", "_", "-", "_").Replace(tc.name)
			d := deploy(t, srv, "_v7_"+sfx, tc.mode, tc.http11)
			exercise(t, srv, d)
		})
	}
}

// TestEndToEndIdentity configures the endpoint with the public key of the
// runtime's signing key: the runtime's signed discovery and invocations
// pass, unsigned requests to the same endpoint get 401, and an endpoint
// that expects another key cannot even be registered.
func TestEndToEndIdentity(t *testing.T) {
	t.Parallel()
	srv := restateServer(t, "default")
	for _, proto := range []string{"h2c", "http1"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			d := deploy(t, srv, "_signed_"+proto, "bidi", proto == "http1", h2c.WithIdentityKeys(runtimeKey.key()))
			expect(t, srv, "POST", "/Greeter_signed_"+proto+"/greet", `"Signed"`, 200, `"Hello Signed!"`)
			expect(t, srv, "POST", "/Counter_signed_"+proto+"/k/add", `2`, 200, `2`)

			c := newClient(t, proto)
			req, _ := http.NewRequest("POST", d.url+"/invoke/Greeter_signed_"+proto+"/greet", strings.NewReader(string(frames(journal(`"Eve"`)...))))
			req.Header.Set("content-type", wire.V6.ContentType())
			if status, _, body := do(t, c, req); status != 401 {
				t.Errorf("unsigned invocation: %d %q, want 401", status, body)
			}
			if status, _, body := get(t, c, d.url+"/discover", map[string]string{"accept": runtimeAccept}); status != 401 {
				t.Errorf("unsigned discovery: %d %q, want 401", status, body)
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			errc <- h2c.Serve(ctx, ln, e2eServices("_wrongkey", new(atomic.Int64)),
				h2c.WithLogger(quietLogger()), h2c.WithIdentityKeys(newSigner(t).key()))
		}()
		defer func() { cancel(); <-errc }()
		rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
		defer rcancel()
		_, err = srv.Register(rctx, "http://"+ln.Addr().String(), restateserver.RegisterOptions{Force: true})
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("registration with a key the endpoint does not trust: %v, want a 401", err)
		}
	})
}

// TestEndToEndEveryOption registers services that use every service and
// handler option the manifest carries (fullServices): restate-server 1.7.12
// accepts the manifest, and the handler whose input is optional answers a
// request without a body.
func TestEndToEndEveryOption(t *testing.T) {
	t.Parallel()
	srv := restateServer(t, "default")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- h2c.Serve(ctx, ln, fullServices(), h2c.WithLogger(quietLogger())) }()
	defer func() { cancel(); <-errc }()
	rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
	defer rcancel()
	if _, err := srv.Register(rctx, "http://"+ln.Addr().String(), restateserver.RegisterOptions{Force: true}); err != nil {
		t.Fatalf("registering every option: %v", err)
	}
	expect(t, srv, "POST", "/Obj/k/set", "", 200, "0")
	expect(t, srv, "POST", "/Obj/k/set", "3", 200, "0")
}
