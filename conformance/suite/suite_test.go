package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBytesJSON(t *testing.T) {
	b, err := json.Marshal(proxyRequest{ServiceName: "S", HandlerName: "h", Message: Bytes(`"hi"`)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"serviceName":"S","handlerName":"h","message":[34,104,105,34]}`; string(b) != want {
		t.Errorf("marshal = %s, want %s", b, want)
	}
	var back Bytes
	if err := json.Unmarshal([]byte(`[0,255,7]`), &back); err != nil || string(back) != "\x00\xff\x07" {
		t.Errorf("unmarshal = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`[256]`), &back); err == nil {
		t.Error("unmarshal of 256 succeeded")
	}
	if got := string(JSONBytes(1)); got != "1" {
		t.Errorf("JSONBytes(1) = %q", got)
	}
}

func TestTargetPath(t *testing.T) {
	if got := ServiceTarget("Proxy", "call").path(); got != "/Proxy/call" {
		t.Errorf("service path = %s", got)
	}
	if got := ObjectTarget("Counter", "a b/c", "add").path(); got != "/Counter/a%20b%2Fc/add" {
		t.Errorf("object path = %s", got)
	}
	if got := ObjectTarget("Counter", "k", "add").String(); got != "Counter/k/add" {
		t.Errorf("String = %s", got)
	}
}

func TestNewUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewUUID(), NewUUID()
	if !re.MatchString(a) || a == b {
		t.Errorf("NewUUID = %s, %s", a, b)
	}
}

func TestInterpreterCommandsJSON(t *testing.T) {
	b, err := json.Marshal(interpretRequest(awaitAny(createAwakeable("awk1"), sleepCmd(100)), awaitOne(createSignal("s"))))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"commands":[{"commands":[{"awakeableKey":"awk1","type":"createAwakeable"},{"timeoutMillis":100,"type":"sleep"}],"type":"awaitAny"},` +
		`{"command":{"signalName":"s","type":"createSignal"},"type":"awaitOne"}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if b, _ := json.Marshal(interpretRequest()); string(b) != `{"commands":[]}` {
		t.Errorf("empty request = %s", b)
	}
}

// recorded is what the fake ingress saw.
type recorded struct {
	method, path, query, contentType, idempotencyKey, custom string
	body                                                     []byte
}

func fakeIngress(t *testing.T, status int, respBody string) (*Ingress, *recorded) {
	t.Helper()
	rec := &recorded{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.method, rec.path, rec.query = r.Method, r.URL.EscapedPath(), r.URL.RawQuery
		rec.contentType = r.Header.Get("content-type")
		rec.idempotencyKey = r.Header.Get("idempotency-key")
		rec.custom = r.Header.Get("x-custom")
		rec.body, _ = io.ReadAll(r.Body)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, respBody)
	}))
	t.Cleanup(srv.Close)
	return NewIngress(srv.URL + "/"), rec
}

func TestIngressCall(t *testing.T) {
	ctx := context.Background()
	in, rec := fakeIngress(t, 200, `{"oldValue":1,"newValue":3}`)
	res, err := Call[counterUpdate](ctx, in, ObjectTarget("Counter", "k", "add"), 2, IdempotencyKey("ik"), Header("x-custom", "v"))
	if err != nil {
		t.Fatal(err)
	}
	if res != (counterUpdate{OldValue: 1, NewValue: 3}) {
		t.Errorf("result = %+v", res)
	}
	if rec.method != "POST" || rec.path != "/Counter/k/add" || string(rec.body) != "2" ||
		rec.contentType != "application/json" || rec.idempotencyKey != "ik" || rec.custom != "v" {
		t.Errorf("request = %+v", rec)
	}

	if _, err := in.Call(ctx, ServiceTarget("S", "h"), nil); err != nil {
		t.Fatal(err)
	}
	if len(rec.body) != 0 || rec.contentType != "" || rec.idempotencyKey != "" {
		t.Errorf("no-input request = %+v", rec)
	}

	if _, err := in.Call(ctx, ServiceTarget("S", "raw"), Raw{1, 2}); err != nil {
		t.Fatal(err)
	}
	if rec.contentType != "application/octet-stream" || string(rec.body) != "\x01\x02" {
		t.Errorf("raw request = %+v", rec)
	}
}

func TestIngressSendAndAttach(t *testing.T) {
	ctx := context.Background()
	in, rec := fakeIngress(t, 202, `{"invocationId":"inv_1","status":"Accepted"}`)
	sr, err := in.Send(ctx, ObjectTarget("Wf", "k", "run"), "x", Delay(1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if sr != (SendResponse{InvocationID: "inv_1", Status: "Accepted"}) {
		t.Errorf("send response = %+v", sr)
	}
	if rec.path != "/Wf/k/run/send" || rec.query != "delay=1500ms" {
		t.Errorf("send request = %+v", rec)
	}
	for _, tc := range []struct {
		call func() (*Response, error)
		path string
	}{
		{func() (*Response, error) { return in.AttachInvocation(ctx, "inv_1") }, "/restate/invocation/inv_1/attach"},
		{func() (*Response, error) { return in.InvocationOutput(ctx, "inv_1") }, "/restate/invocation/inv_1/output"},
		{func() (*Response, error) { return in.IdempotentAttach(ctx, ObjectTarget("C", "k", "add"), "ik") }, "/restate/invocation/C/k/add/ik/attach"},
		{func() (*Response, error) { return in.IdempotentOutput(ctx, ServiceTarget("S", "h"), "ik") }, "/restate/invocation/S/h/ik/output"},
		{func() (*Response, error) { return in.WorkflowAttach(ctx, "Wf", "k") }, "/restate/workflow/Wf/k/attach"},
		{func() (*Response, error) { return in.WorkflowOutput(ctx, "Wf", "k") }, "/restate/workflow/Wf/k/output"},
	} {
		if _, err := tc.call(); err != nil {
			t.Fatal(err)
		}
		if rec.method != "GET" || rec.path != tc.path {
			t.Errorf("got %s %s, want GET %s", rec.method, rec.path, tc.path)
		}
	}
}

func TestIngressError(t *testing.T) {
	in, _ := fakeIngress(t, 500, `{"code":500,"message":"my error","metadata":{"key1":"value1"}}`)
	_, err := in.Call(context.Background(), ObjectTarget("Failing", "k", "f"), failureToPropagate{ErrorMessage: "x"})
	var ie *IngressError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want *IngressError", err)
	}
	if ie.Status != 500 || ie.Code != 500 || ie.Message != "my error" || ie.Metadata["key1"] != "value1" {
		t.Errorf("decoded error = %+v", ie)
	}
	if !strings.Contains(err.Error(), "my error") || !strings.Contains(err.Error(), "status 500") {
		t.Errorf("Error() = %q", err)
	}
	if err := expectFailureContaining(err, "my error"); err != nil {
		t.Error(err)
	}
	if err := expectFailureContaining(nil, "my error"); err == nil {
		t.Error("expectFailureContaining(nil) passed")
	}

	in, _ = fakeIngress(t, 404, `not json`)
	_, err = in.Call(context.Background(), ServiceTarget("S", "h"), nil)
	if !errors.As(err, &ie) || ie.Status != 404 || ie.Message != "" || string(ie.Body) != "not json" {
		t.Errorf("non-JSON error = %v", err)
	}
}

func TestEventually(t *testing.T) {
	ctx := context.Background()
	var n atomic.Int32
	start := time.Now()
	err := Eventually(ctx, "third time", time.Second, func(context.Context) error {
		if n.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || n.Load() != 3 {
		t.Fatalf("err = %v after %d attempts", err, n.Load())
	}
	if d := time.Since(start); d < PollDelay+2*PollInterval {
		t.Errorf("3 attempts took %s, want >= %s", d, PollDelay+2*PollInterval)
	}

	err = Eventually(ctx, "never", 350*time.Millisecond, func(context.Context) error { return errors.New("still wrong") })
	if err == nil || !strings.Contains(err.Error(), "never") || !strings.Contains(err.Error(), "still wrong") {
		t.Errorf("timeout error = %v", err)
	}

	// An attempt cut short by the deadline does not hide the previous error.
	first := true
	err = Eventually(ctx, "slow", 250*time.Millisecond, func(ctx context.Context) error {
		if first {
			first = false
			return errors.New("informative")
		}
		<-ctx.Done()
		return ctx.Err()
	})
	if err == nil || !strings.Contains(err.Error(), "informative") {
		t.Errorf("interrupted error = %v", err)
	}
}

func TestExpectHelpers(t *testing.T) {
	if err := expectEqual("x", []string{"a"}, []string{"a"}); err != nil {
		t.Error(err)
	}
	if err := expectEqual("x", int64(1), 1); err == nil {
		t.Error("int64(1) == int(1)")
	}
	if err := expect(false, "boom %d", 1); err == nil || err.Error() != "boom 1" {
		t.Errorf("expect = %v", err)
	}
}

func TestRegistry(t *testing.T) {
	classes := Classes()
	wantClasses := []string{
		CallOrdering, Cancellation, Combinators, IngressClass, KillInvocation, KillRuntime,
		NonDeterminismErrors, ProxyRequestSigning, RunFlush, RunRetry, ServiceToServiceCommunication,
		ServiceToServiceScopeConcurrency, Signals, Sleep, SleepWithFailures, State, StopRuntime,
		UserErrors, WorkflowAPI,
	}
	slices.Sort(wantClasses)
	var names []string
	total := 0
	for _, c := range classes {
		names = append(names, c.Name)
		if len(c.Services) == 0 || len(c.Tests) == 0 {
			t.Errorf("class %s has no services or no tests", c.Name)
		}
		seen := map[string]bool{}
		for _, tc := range c.Tests {
			if tc.Run == nil || tc.Name == "" || seen[tc.Name] {
				t.Errorf("class %s: bad or duplicate test %q", c.Name, tc.Name)
			}
			seen[tc.Name] = true
			total++
		}
	}
	if !slices.Equal(names, wantClasses) {
		t.Errorf("classes = %v, want %v", names, wantClasses)
	}
	// Parametrized tests are expanded: 3 orderings, 2x3 cancellations, 4
	// non-deterministic handlers.
	if total != 60 {
		t.Errorf("%d tests in total, want 60", total)
	}
	used := map[string]bool{}
	for _, cfg := range Configurations() {
		for _, name := range cfg.Classes {
			if _, ok := ClassByName(name); !ok {
				t.Errorf("configuration %s names unknown class %s", cfg.Name, name)
			}
			used[name] = true
		}
		if got, ok := ConfigByName(cfg.Name); !ok || got.Name != cfg.Name {
			t.Errorf("ConfigByName(%s) = %v, %v", cfg.Name, got, ok)
		}
		if cfg.Official != "" {
			if got, ok := ConfigByName(cfg.Official); !ok || got.Name != cfg.Name {
				t.Errorf("ConfigByName(%s) = %v, %v; want %s", cfg.Official, got.Name, ok, cfg.Name)
			}
		}
	}
	for _, c := range classes {
		if !used[c.Name] {
			t.Errorf("class %s is in no configuration", c.Name)
		}
	}
	if _, ok := ConfigByName("nope"); ok {
		t.Error("ConfigByName(nope) found something")
	}
	def, _ := ConfigByName("default")
	if len(def.Classes) != 17 || slices.Contains(def.Classes, RunFlush) || slices.Contains(def.Classes, NonDeterminismErrors) {
		t.Errorf("default classes = %v", def.Classes)
	}
	// The three-node suites leave out the classes that kill or stop the
	// whole runtime, as upstream.
	for _, name := range []string{"threeNodes", "threeNodesAlwaysSuspending"} {
		c, ok := ConfigByName(name)
		if !ok || c.Nodes != 3 || c.Env[envNumPartitions] != "4" || slices.Contains(c.Classes, KillRuntime) || slices.Contains(c.Classes, StopRuntime) {
			t.Errorf("%s = %+v, %v", name, c, ok)
		}
	}
	if c, _ := ConfigByName("three-nodes"); len(c.Classes) != 14 {
		t.Errorf("three-nodes has %d classes, want the official 14: %v", len(c.Classes), c.Classes)
	}
	if c, _ := ConfigByName("three-nodes-always-suspending"); len(c.Classes) != 11 || c.Env[envInactivityTimeout] != "0s" {
		t.Errorf("three-nodes-always-suspending = %+v, want the official 11 classes, inactivity timeout 0s", c)
	}
	as, _ := ConfigByName("always-suspending")
	if as.Env[envInactivityTimeout] != "0s" || !slices.Contains(as.Classes, NonDeterminismErrors) {
		t.Errorf("always-suspending = %+v", as)
	}
}

func TestSelectedTests(t *testing.T) {
	c, _ := ClassByName(Cancellation)
	re := regexp.MustCompile(`^Cancellation/cancelFromContext/`)
	got := SelectedTests(c, re.MatchString)
	if len(got) != 3 {
		t.Errorf("selected %d tests, want 3", len(got))
	}
	if len(SelectedTests(c, nil)) != 6 {
		t.Errorf("nil filter does not select all")
	}
}

func TestRunTest(t *testing.T) {
	ctx := context.Background()
	r := runTest(ctx, "C", Test{Name: "ok", Run: func(context.Context, *Env) error { return nil }}, &Env{})
	if r.Err != nil || r.FullName() != "C/ok" {
		t.Errorf("ok result = %+v", r)
	}
	r = runTest(ctx, "C", Test{Name: "panic", Run: func(context.Context, *Env) error { panic("boom") }}, &Env{})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "panic: boom") {
		t.Errorf("panic result = %v", r.Err)
	}
	r = runTest(ctx, "C", Test{Name: "slow", Timeout: 50 * time.Millisecond, Run: func(ctx context.Context, _ *Env) error {
		<-ctx.Done()
		return fmt.Errorf("waiting: %w", ctx.Err())
	}}, &Env{})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "timed out after 50ms") {
		t.Errorf("timeout result = %v", r.Err)
	}
}

func TestLastLinesAndTail(t *testing.T) {
	if got := LastLines("a\nb\nc\n", 2); got != "b\nc" {
		t.Errorf("LastLines = %q", got)
	}
	if got := LastLines("", 2); got != "" {
		t.Errorf("LastLines(empty) = %q", got)
	}
	tb := newTailBuffer(4, nil)
	_, _ = tb.Write([]byte("abcdef"))
	if tb.String() != "cdef" {
		t.Errorf("tail = %q", tb.String())
	}
}
