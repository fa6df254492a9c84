package agreement_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
	"github.com/qcodr/restate-sdk-go/restatetest"
	"github.com/qcodr/restate-sdk-go/wire"
)

// server is the real restate-server every test shares; keys are prefixed
// per backend and test, so tests do not see each other's objects.
var server struct {
	srv    *restateserver.Server
	client *ingress.Client
	admin  *ingress.Admin
}

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "agreement:", err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	if os.Getenv(restateserver.CacheDirEnv) == "" {
		if root, err := restateserver.ModuleRoot(); err == nil {
			os.Setenv(restateserver.CacheDirEnv, root+"/.cache/restate")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := restateserver.Start(ctx, restateserver.Options{Env: map[string]string{"RESTATE_DEFAULT_NUM_PARTITIONS": "2"}})
	if err != nil {
		return 1, fmt.Errorf("cannot start restate-server, which these tests compare restatetest with: %w", err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 1, err
	}
	served := make(chan error, 1)
	go func() { served <- h2c.Serve(ctx, ln, services) }()
	server.srv = srv
	server.client = ingress.NewClient(srv.IngressURL())
	server.admin = ingress.NewAdmin(srv.AdminURL())
	if _, err := server.admin.Register(ctx, "http://"+ln.Addr().String()); err != nil {
		return 1, err
	}
	code := m.Run()
	cancel()
	<-served
	return code, nil
}

// backend is one of the two runtimes, seen through the ingress client.
type backend struct {
	name   string
	client *ingress.Client
	admin  *ingress.Admin
	// query runs SQL through the admin API.
	query func(ctx context.Context, sql string) ([]map[string]any, error)
	// prefix makes keys unique per backend and test on the shared server.
	prefix string
}

func (b backend) key(k string) string { return b.prefix + k }

var runs atomic.Int64

// variants are the restatetest configurations compared with the server:
// what a client observes must not depend on how attempts run.
var variants = []struct {
	name string
	opts []restatetest.Option
}{
	{"restatetest", nil},
	{"restatetest-bidi", []restatetest.Option{restatetest.WithBidiStreams()}},
	{"restatetest-always-replay-v7", []restatetest.Option{restatetest.WithAlwaysReplay(), restatetest.WithProtocolVersion(wire.V7)}},
}

// agree runs scenario against restate-server and against restatetest in
// each variant, in parallel, and fails when what they observed differs.
func agree(t *testing.T, scenario func(t *testing.T, b backend) []string) {
	t.Helper()
	run := fmt.Sprintf("%s-%d-", t.Name(), runs.Add(1)) // -count reruns use the same server
	backends := []backend{{name: "restate-server", client: server.client, admin: server.admin, prefix: "srv-" + run,
		query: func(ctx context.Context, sql string) ([]map[string]any, error) { return server.srv.Query(ctx, sql) }}}
	for _, v := range variants {
		env := restatetest.New(t, services, v.opts...)
		adminHTTP := &http.Client{Transport: handlerTransport{env.AdminHandler()}}
		backends = append(backends, backend{name: v.name, client: env.IngressClient(), admin: env.AdminClient(), prefix: v.name + "-" + run,
			query: func(ctx context.Context, sql string) ([]map[string]any, error) {
				return postQuery(ctx, adminHTTP, "http://admin.restatetest", sql)
			}})
	}
	outcomes := make([][]string, len(backends))
	t.Run("backends", func(t *testing.T) {
		for i, b := range backends {
			t.Run(b.name, func(t *testing.T) {
				t.Parallel()
				outcomes[i] = scenario(t, b)
			})
		}
	})
	for i, b := range backends[1:] {
		if diff := cmp.Diff(outcomes[0], outcomes[i+1]); diff != "" {
			t.Errorf("%s disagrees with restate-server (-server +%s):\n%s", b.name, b.name, diff)
		}
	}
}

// handlerTransport serves HTTP requests with a handler, in process.
type handlerTransport struct{ h http.Handler }

func (tr handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := newRecorder()
	r := req.Clone(req.Context())
	if r.Body == nil {
		r.Body = http.NoBody
	}
	tr.h.ServeHTTP(rec, r)
	return rec.result(req), nil
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder                    { return &recorder{header: http.Header{}, status: 200} }
func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) result(req *http.Request) *http.Response {
	return &http.Response{StatusCode: r.status, Header: r.header, Body: io.NopCloser(&r.body), Request: req}
}

// postQuery runs SQL through an admin API, as restateserver.Server.Query
// does.
func postQuery(ctx context.Context, c *http.Client, adminURL, sql string) ([]map[string]any, error) {
	body, _ := json.Marshal(map[string]string{"query": sql})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, adminURL+"/query", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("query: %d %s", resp.StatusCode, b)
	}
	var out struct {
		Rows []map[string]any `json:"rows"`
	}
	return out.Rows, json.Unmarshal(b, &out)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// invocationIDs matches invocation ids, which differ between backends.
var invocationIDs = regexp.MustCompile(`inv_1[0-9a-zA-Z]{33}`)

// outcome describes a result or an error the way both backends must agree
// on: values, terminal failures with code, message and metadata, and
// ingress errors with status and message (invocation ids in it elided).
func outcome[T any](what string, v T, err error) string {
	return invocationIDs.ReplaceAllString(describe(what, v, err), "inv_…")
}

func describe[T any](what string, v T, err error) string {
	var te *restate.TerminalError
	var ie *ingress.Error
	switch {
	case errors.As(err, &te):
		meta := ""
		if len(te.Metadata) > 0 {
			for _, k := range slices.Sorted(maps.Keys(te.Metadata)) {
				meta += fmt.Sprintf(" %s=%s", k, te.Metadata[k])
			}
		}
		return fmt.Sprintf("%s: terminal [%d] %s%s", what, te.Code, te.Message, meta)
	case errors.As(err, &ie):
		return fmt.Sprintf("%s: ingress error %d %s", what, ie.StatusCode, ie.Message)
	case err != nil:
		return fmt.Sprintf("%s: error %v", what, err)
	}
	return fmt.Sprintf("%s = %v", what, v)
}

// eventually polls cond until it holds, or fails the test after 20s.
func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after 20s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stateValue(t *testing.T, b backend, service, key, name string) string {
	t.Helper()
	rows, err := b.query(testContext(t), fmt.Sprintf(
		"SELECT value_utf8 FROM state WHERE service_name = '%s' AND service_key = '%s' AND key = '%s'", service, key, name))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return "<none>"
	}
	return fmt.Sprint(rows[0]["value_utf8"])
}

func TestCounter(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		key := b.key("alice")
		var out []string
		for _, n := range []int{5, 7} {
			v, err := ingress.Call(ctx, b.client, counterAdd.Target(key), n)
			out = append(out, outcome(fmt.Sprintf("add %d", n), v, err))
		}
		v, err := ingress.Call(ctx, b.client, counterGet.Target(key), restate.Void{})
		out = append(out, outcome("get", v, err))
		out = append(out, "stored "+stateValue(t, b, "Counter", key, "count"))
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := ingress.Call(ctx, b.client, counterAdd.Target(key), 1); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		v, err = ingress.Call(ctx, b.client, counterGet.Target(key), restate.Void{})
		out = append(out, outcome("get after 10 concurrent adds", v, err))
		invs, err := b.admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "Counter", Key: key, Handler: "add"})
		if err != nil {
			t.Fatal(err)
		}
		statuses := map[string]int{}
		for _, in := range invs {
			statuses[in.Status+"/"+in.CompletionResult]++
		}
		out = append(out, fmt.Sprintf("adds listed: %v", statuses))
		_, err = ingress.Call(ctx, b.client, counterReset.Target(key), restate.Void{})
		out = append(out, outcome("reset", "", err))
		out = append(out, "stored after reset "+stateValue(t, b, "Counter", key, "count"))
		return out
	})
}

func TestWorkflow(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		key := b.key("ann")
		var out []string
		run, err := ingress.Submit(ctx, b.client, signupRun.Target(key), "ann@example.com")
		out = append(out, outcome("submit", run.Status(), err))
		eventually(t, "the workflow waits", func() (bool, error) {
			s, err := ingress.Call(ctx, b.client, signupStatus.Target(key), restate.Void{})
			return s == "waiting", err
		})
		m, err := run.Output(ctx)
		out = append(out, outcome("output before the promise", m, err))
		_, err = ingress.Call(ctx, b.client, signupVerify.Target(key), "1234")
		out = append(out, outcome("verify", "", err))
		v, err := run.Attach(ctx)
		out = append(out, outcome("attach", v, err))
		again, err := ingress.Submit(ctx, b.client, signupRun.Target(key), "other@example.com")
		out = append(out, outcome("submit again", again.Status(), err), fmt.Sprintf("same id: %v", again.ID() == run.ID()))
		v, err = ingress.Call(ctx, b.client, signupRun.Target(key), "other@example.com")
		out = append(out, outcome("call the run again", v, err))
		_, err = ingress.Call(ctx, b.client, signupVerify.Target(key), "5678")
		out = append(out, outcome("verify again", "", err))
		m, err = ingress.ByWorkflow(b.client, signupRun.Target(key)).Output(ctx)
		out = append(out, outcome("output by workflow", m, err))
		_, err = ingress.Submit(ctx, b.client, signupRun.Target(b.key("bo")), "bo@example.com", ingress.WithIdempotencyKey("k"))
		out = append(out, outcome("submit with an idempotency key", "", err))
		return out
	})
}

func TestSaga(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		item := b.key("apple")
		var out []string
		if _, err := ingress.Call(ctx, b.client, inventoryRestock.Target(item), 5); err != nil {
			t.Fatal(err)
		}
		for _, o := range []order{{item, 2, 300}, {item, 10, 300}, {item, 1, 0}} {
			v, err := ingress.Call(ctx, b.client, shopBuy.Target(), o)
			out = append(out, outcome(fmt.Sprintf("buy %d for %d", o.Qty, o.Cents), v, err))
			out = append(out, "stock "+stateValue(t, b, "Inventory", item, "stock"))
		}
		return out
	})
}

func TestAwakeables(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		var out []string
		for _, resolve := range []bool{true, false} {
			key := b.key(fmt.Sprint(resolve))
			inv, err := ingress.Send(ctx, b.client, approvalWait.Target(key), restate.Void{})
			if err != nil {
				t.Fatal(err)
			}
			var id string
			eventually(t, "the awakeable id", func() (bool, error) {
				id, err = ingress.Call(ctx, b.client, approvalGetID.Target(key), restate.Void{})
				return id != "", err
			})
			out = append(out, fmt.Sprintf("awakeable id shape ok: %v", strings.HasPrefix(id, "sign_1") && len(id) == 44))
			if resolve {
				err = ingress.ResolveAwakeable(ctx, b.client, id, "bob")
			} else {
				err = ingress.RejectAwakeable(ctx, b.client, id, "no way")
			}
			out = append(out, outcome("complete", "", err))
			v, err := inv.Attach(ctx)
			out = append(out, outcome("attach", v, err))
		}
		err := ingress.ResolveAwakeable(ctx, b.client, "sign_1nope", "x")
		out = append(out, outcome("resolve a malformed id", "", err))
		return out
	})
}

func TestSignals(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		inv, err := ingress.Send(ctx, b.client, signalWait.Target(), restate.Void{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ingress.Call(ctx, b.client, signalSend.Target(), signalReq{ID: inv.ID(), Value: "go!"})
		out := []string{outcome("send the signal", "", err)}
		v, err := inv.Attach(ctx)
		return append(out, outcome("attach", v, err))
	})
}

// childOf waits for the child call of parent to exist and returns its id.
func childOf(t *testing.T, b backend, parent string) string {
	t.Helper()
	var child string
	eventually(t, "the child call", func() (bool, error) {
		invs, err := b.admin.ListInvocations(testContext(t), ingress.InvocationFilter{Service: "Tree", Handler: "child", Limit: 1000})
		for _, in := range invs {
			if in.CallerID == parent && (in.Status == "suspended" || in.Status == "running") {
				child = in.ID
			}
		}
		return child != "", err
	})
	return child
}

func TestCancellation(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		parent, err := ingress.Send(ctx, b.client, treeParent.Target(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		child := childOf(t, b, parent.ID())
		out := []string{outcome("cancel", "", b.admin.CancelInvocation(ctx, parent.ID()))}
		v, err := parent.Attach(ctx)
		out = append(out, outcome("parent", v, err))
		v, err = ingress.ByID(b.client, treeChild.Target(), child).Attach(ctx)
		out = append(out, outcome("child", v, err))
		return append(out, outcome("cancel again", "", b.admin.CancelInvocation(ctx, parent.ID())))
	})
}

func TestKill(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		parent, err := ingress.Send(ctx, b.client, treeParent.Target(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		child := childOf(t, b, parent.ID())
		out := []string{outcome("kill", "", b.admin.KillInvocation(ctx, parent.ID()))}
		v, err := parent.Attach(ctx)
		out = append(out, outcome("parent", v, err))
		v, err = ingress.ByID(b.client, treeChild.Target(), child).Attach(ctx)
		out = append(out, outcome("child", v, err))
		out = append(out, outcome("kill again", "", b.admin.KillInvocation(ctx, parent.ID())))
		out = append(out, outcome("kill a malformed id", "", b.admin.KillInvocation(ctx, "inv_nope")))
		return append(out, outcome("kill an unknown id", "", b.admin.KillInvocation(ctx, unknownID(parent.ID()))))
	})
}

// unknownID returns a well-formed invocation id that differs from id.
func unknownID(id string) string {
	b := []byte(id)
	if b[len(b)-2] == 'A' {
		b[len(b)-2] = 'B'
	} else {
		b[len(b)-2] = 'A'
	}
	return string(b)
}

func TestIdempotency(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		key := b.key("i")
		var out []string
		first, err := ingress.Send(ctx, b.client, counterAdd.Target(key), 1, ingress.WithIdempotencyKey("k1"))
		out = append(out, outcome("send", first.Status(), err))
		second, err := ingress.Send(ctx, b.client, counterAdd.Target(key), 1, ingress.WithIdempotencyKey("k1"))
		out = append(out, outcome("send again", second.Status(), err), fmt.Sprintf("same id: %v", first.ID() == second.ID()))
		v, err := ingress.Call(ctx, b.client, counterAdd.Target(key), 1, ingress.WithIdempotencyKey("k1"))
		out = append(out, outcome("call with the key", v, err))
		v, err = ingress.Call(ctx, b.client, counterAdd.Target(key), 1, ingress.WithIdempotencyKey("k2"))
		out = append(out, outcome("call with another key", v, err))
		v, err = ingress.ByIdempotencyKey(b.client, counterAdd.Target(key), "k1").Attach(ctx)
		out = append(out, outcome("attach by key", v, err))
		m, err := ingress.ByIdempotencyKey(b.client, counterAdd.Target(key), "k2").Output(ctx)
		out = append(out, outcome("output by key", m, err))
		m, err = ingress.ByIdempotencyKey(b.client, counterAdd.Target(key), "k3").Output(ctx)
		out = append(out, outcome("output of an unknown key", m, err))
		v, err = ingress.ByIdempotencyKey(b.client, counterAdd.Target(key), "k3").Attach(ctx)
		return append(out, outcome("attach to an unknown key", v, err))
	})
}

func TestRetriesAndFailures(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		var out []string
		flaky, err := ingress.Send(ctx, b.client, flakyCall.Target(), b.key("flaky"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := flaky.Attach(ctx)
		out = append(out, outcome("flaky", v, err))
		invs, err := b.admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "Flaky", Handler: "call", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range invs {
			if in.ID == flaky.ID() {
				out = append(out, fmt.Sprintf("flaky listed: %s %s, %d retries, last failure %q", in.Status, in.CompletionResult, in.RetryCount, in.LastFailure))
			}
		}
		v, err = ingress.Call(ctx, b.client, flakyTerminal.Target(), restate.Void{})
		out = append(out, outcome("terminal", v, err))
		inv, err := ingress.Send(ctx, b.client, flakyTerminal.Target(), restate.Void{})
		if err != nil {
			t.Fatal(err)
		}
		v, err = inv.Attach(ctx)
		out = append(out, outcome("attach to the failed one", v, err))
		v, err = ingress.Call(ctx, b.client, flakySleep.Target(), 200*time.Millisecond)
		out = append(out, outcome("sleep", v, err))
		delayed, err := ingress.Send(ctx, b.client, flakySleep.Target(), 100*time.Millisecond, ingress.WithDelay(300*time.Millisecond))
		out = append(out, outcome("delayed send", delayed.Status(), err))
		v, err = delayed.Attach(ctx)
		out = append(out, outcome("delayed", v, err))
		v, err = ingress.Call(ctx, b.client, flakyHeader.Target(), "x-custom", ingress.WithHeaders(map[string]string{"X-Custom": "yes"}))
		out = append(out, outcome("header", v, err))
		_, err = ingress.Call(ctx, b.client, flakyNothing.Target(), restate.Void{})
		return append(out, outcome("nothing", "", err))
	})
}

func TestIngressErrors(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		var out []string
		_, err := ingress.Call(ctx, b.client, restate.Remote[string, string]("Nope", "x").Target(), "")
		out = append(out, outcome("unknown service", "", err))
		_, err = ingress.Call(ctx, b.client, restate.Remote[string, string]("Flaky", "nope").Target(), "")
		out = append(out, outcome("unknown handler", "", err))
		_, err = ingress.Call(ctx, b.client, restate.Remote[restate.Void, string]("Private", "hello").Target(), restate.Void{})
		out = append(out, outcome("private service", "", err))
		_, err = ingress.Call(ctx, b.client, counterAdd.Target(""), 1)
		out = append(out, outcome("object without a key", "", err))
		_, err = ingress.ByID(b.client, counterAdd.Target("x"), "inv_nope").Attach(ctx)
		out = append(out, outcome("attach to a malformed id", "", err))
		_, err = ingress.ByID(b.client, counterAdd.Target("x"), "inv_nope").Output(ctx)
		out = append(out, outcome("output of a malformed id", "", err))
		done, err := ingress.Send(ctx, b.client, flakyNothing.Target(), restate.Void{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := done.Attach(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = ingress.ByID(b.client, flakyNothing.Target(), unknownID(done.ID())).Attach(ctx)
		out = append(out, outcome("attach to an unknown id", "", err))
		_, err = ingress.ByID(b.client, flakyNothing.Target(), unknownID(done.ID())).Output(ctx)
		out = append(out, outcome("output of an unknown id", "", err))
		m, err := done.Output(ctx)
		out = append(out, outcome("output of a completed invocation", m, err))
		waiting, err := ingress.Send(ctx, b.client, flakySleep.Target(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := waiting.Output(ctx)
		out = append(out, outcome("output of a running invocation", ms, err))
		out = append(out, outcome("kill it", "", b.admin.KillInvocation(ctx, waiting.ID())))
		return append(out, outcome("cancel a completed invocation", "", b.admin.CancelInvocation(ctx, done.ID())))
	})
}

func TestInbox(t *testing.T) {
	agree(t, func(t *testing.T, b backend) []string {
		ctx := testContext(t)
		key := b.key("q")
		slow, err := ingress.Send(ctx, b.client, lockSlow.Target(key), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		queued, err := ingress.Send(ctx, b.client, lockQuick.Target(key), restate.Void{})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the slow handler sleeps", func() (bool, error) {
			v, err := ingress.Call(ctx, b.client, lockState.Target(key), restate.Void{})
			return v == "sleeping", err
		})
		var out []string
		invs, err := b.admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "Lock", Key: key, Handler: "quick"})
		for _, in := range invs {
			out = append(out, "queued one listed as "+in.Status)
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, outcome("cancel the queued one", "", b.admin.CancelInvocation(ctx, queued.ID())))
		v, err := queued.Attach(ctx)
		out = append(out, outcome("attach to it", v, err))
		m, err := queued.Output(ctx)
		out = append(out, outcome("its output", m, err))
		out = append(out, outcome("kill the slow one", "", b.admin.KillInvocation(ctx, slow.ID())))
		v, err = slow.Attach(ctx)
		out = append(out, outcome("attach to it", v, err))
		v, err = ingress.Call(ctx, b.client, lockQuick.Target(key), restate.Void{})
		out = append(out, outcome("the lock is free", v, err))
		return append(out, "state "+stateValue(t, b, "Lock", key, "state"))
	})
}

// TestDirectClientErrors compares restatetest's own client functions
// (restatetest.Call, ByID, …), which skip HTTP, with package ingress
// against restate-server: the same refused requests fail with the same
// error types (*ingress.Error or *restate.TerminalError), statuses and
// messages, so a test keeps its errors.As checks when it moves between
// them.
func TestDirectClientErrors(t *testing.T) {
	type client struct {
		call     func(ctx context.Context, t restate.Target[string, string]) error
		byID     func(ctx context.Context, id string, attach bool) error
		finished func(ctx context.Context) (string, error) // sends flakyNothing, waits, returns its id
	}
	scenario := func(t *testing.T, c client) []string {
		ctx := testContext(t)
		var out []string
		out = append(out, outcome("unknown service", "", c.call(ctx, restate.Remote[string, string]("Nope", "x").Target())))
		out = append(out, outcome("unknown handler", "", c.call(ctx, restate.Remote[string, string]("Flaky", "nope").Target())))
		out = append(out, outcome("attach to a malformed id", "", c.byID(ctx, "inv_nope", true)))
		out = append(out, outcome("output of a malformed id", "", c.byID(ctx, "inv_nope", false)))
		id, err := c.finished(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, outcome("attach to an unknown id", "", c.byID(ctx, unknownID(id), true)))
		return append(out, outcome("output of an unknown id", "", c.byID(ctx, unknownID(id), false)))
	}
	srv := scenario(t, client{
		call: func(ctx context.Context, tg restate.Target[string, string]) error {
			_, err := ingress.Call(ctx, server.client, tg, "")
			return err
		},
		byID: func(ctx context.Context, id string, attach bool) error {
			inv := ingress.ByID(server.client, flakyNothing.Target(), id)
			if attach {
				_, err := inv.Attach(ctx)
				return err
			}
			_, err := inv.Output(ctx)
			return err
		},
		finished: func(ctx context.Context) (string, error) {
			inv, err := ingress.Send(ctx, server.client, flakyNothing.Target(), restate.Void{})
			if err != nil {
				return "", err
			}
			_, err = inv.Attach(ctx)
			return inv.ID(), err
		},
	})
	env := restatetest.New(t, services)
	direct := scenario(t, client{
		call: func(ctx context.Context, tg restate.Target[string, string]) error {
			_, err := restatetest.Call(ctx, env, tg, "")
			return err
		},
		byID: func(ctx context.Context, id string, attach bool) error {
			inv := restatetest.ByID(env, flakyNothing.Target(), id)
			if attach {
				_, err := inv.Attach(ctx)
				return err
			}
			_, err := inv.Output(ctx)
			return err
		},
		finished: func(ctx context.Context) (string, error) {
			inv, err := restatetest.Send(ctx, env, flakyNothing.Target(), restate.Void{})
			if err != nil {
				return "", err
			}
			_, err = inv.Attach(ctx)
			return inv.ID(), err
		},
	})
	if diff := cmp.Diff(srv, direct); diff != "" {
		t.Errorf("restatetest's client disagrees with ingress on restate-server (-server +restatetest):\n%s", diff)
	}
}
