package restatetest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

func TestIngressClient(t *testing.T) {
	env := restatetest.New(t, all)
	c, admin := env.IngressClient(), env.AdminClient()
	ctx := testContext(t)
	if got, err := ingress.Call(ctx, c, counterAdd.Target("h"), 4); err != nil || got != 4 {
		t.Fatalf("call = %d, %v", got, err)
	}
	inv, err := ingress.Send(ctx, c, approvalsAwakeable.Target(), restate.Void{}, ingress.WithDelay(time.Minute))
	if err != nil || inv.Status() != ingress.SendStatusAccepted {
		t.Fatalf("send = %+v, %v", inv, err)
	}
	if m, err := inv.Output(ctx); err != nil || m.Ok {
		t.Fatalf("output = %+v, %v; want not ready", m, err)
	}
	env.Advance(time.Minute)
	if err := ingress.ResolveAwakeable(ctx, c, awakeableOf(t, env, inv.ID()), "gus"); err != nil {
		t.Fatal(err)
	}
	if got, err := inv.Attach(ctx); err != nil || got != "approved by gus" {
		t.Fatalf("attach = %q, %v", got, err)
	}
	_, err = ingress.Call(ctx, c, shopBuy.Target(), order{Item: "none", Qty: 1})
	var te *restate.TerminalError
	if !errors.As(err, &te) || te.Code != 409 {
		t.Fatalf("buy = %v, want a terminal 409", err)
	}
	_, err = ingress.Call(ctx, c, restate.Remote[string, string]("Nope", "x").Target(), "")
	var ie *ingress.Error
	if !errors.As(err, &ie) || ie.StatusCode != 404 {
		t.Fatalf("unknown service = %v, want an ingress 404", err)
	}
	wf, err := ingress.Submit(ctx, c, signupRun.Target("h"), "h@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingress.Call(ctx, c, signupVerify.Target("h"), "7"); err != nil {
		t.Fatal(err)
	}
	if got, err := ingress.ByWorkflow(c, signupRun.Target("h")).Attach(ctx); err != nil || got != "verified h@example.com with 7" || wf.ID() == "" {
		t.Fatalf("workflow = %q, %v", got, err)
	}
	if got, err := ingress.Call(ctx, c, counterAdd.Target("h"), 1, ingress.WithIdempotencyKey("x")); err != nil || got != 5 {
		t.Fatalf("idempotent add = %d, %v", got, err)
	}
	if got, err := ingress.ByIdempotencyKey(c, counterAdd.Target("h"), "x").Attach(ctx); err != nil || got != 5 {
		t.Fatalf("attach by key = %d, %v", got, err)
	}
	invs, err := admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "Counter", Key: "h", Status: "completed"})
	if err != nil || len(invs) != 2 || invs[0].Target != "Counter/h/add" || invs[0].CompletionResult != "success" {
		t.Fatalf("list = %+v, %v", invs, err)
	}
	parent, err := ingress.Send(ctx, c, treeParent.Target("h"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	env.Settle()
	if err := admin.KillInvocation(ctx, parent.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := parent.Attach(ctx); !errors.As(err, &te) || te.Code != 409 || te.Message != "killed" {
		t.Fatalf("killed parent = %v", err)
	}
	if err := admin.CancelInvocation(ctx, parent.ID()); !errors.As(err, &ie) || ie.StatusCode != 409 {
		t.Fatalf("cancel of a completed invocation = %v, want an admin 409", err)
	}
	if d, err := admin.Register(ctx, "http://anything"); err != nil || len(d.Services) != len(all) {
		t.Fatalf("register = %+v, %v", d, err)
	}
}

func TestIngressHandler(t *testing.T) {
	env := restatetest.New(t, all)
	srv := httptest.NewServer(env.IngressHandler())
	defer srv.Close()
	do := func(method, path, body string, header ...string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(testContext(t), method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	cases := []struct {
		method, path, body string
		header             []string
		status             int
		source, want       string
	}{
		{"POST", "/Counter/k/add", "2", nil, 200, "", "2"},
		{"POST", "/Counter/add", "2", nil, 400, "ingress", `{"code":400,"message":"bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler","source":"ingress"}`},
		{"GET", "/Counter/k/add", "", nil, 405, "ingress", ""},
		{"POST", "/Payment/charge", "0", nil, 402, "invocation", `{"code":402,"message":"card declined","source":"invocation"}`},
		{"POST", "/Payment/charge?delay=1s", "1", nil, 400, "ingress", ""},
		{"POST", "/Payment/charge/send?delay=PT1X", "1", nil, 400, "ingress", ""},
		{"POST", "/Counter/k/get", "1", []string{"content-type", "application/json"}, 400, "ingress", ""},
		{"GET", "/restate/invocation/inv_nope/output", "", nil, 400, "ingress", `{"code":400,"message":"bad invocation id 'inv_nope': unrecognized codec version","source":"ingress"}`},
		{"GET", "/restate/invocation/Counter/k/add/nokey/attach", "", nil, 404, "invocation", `{"code":404,"message":"not found","source":"invocation"}`},
		{"GET", "/restate/workflow/Signup/none/output", "", nil, 404, "ingress", `{"code":404,"message":"invocation not found","source":"ingress"}`},
		{"GET", "/restate/workflow/Signup/output", "", nil, 400, "ingress", ""},
		{"POST", "/restate/awakeables/sign_1nope/resolve", "1", nil, 400, "ingress", ""},
		{"POST", "/restate/awakeables/x", "", nil, 400, "ingress", ""},
		{"POST", "/restate/nothing", "", nil, 404, "ingress", ""},
	}
	for _, tc := range cases {
		status, h, body := do(tc.method, tc.path, tc.body, tc.header...)
		if status != tc.status || h.Get("x-restate-error-source") != tc.source || tc.want != "" && body != tc.want {
			t.Errorf("%s %s = %d (source %q) %s; want %d (source %q) %s", tc.method, tc.path, status, h.Get("x-restate-error-source"), body, tc.status, tc.source, tc.want)
		}
	}
	status, h, body := do("POST", "/Payment/charge/send?delay=1h", "3")
	var sent struct {
		InvocationID  string `json:"invocationId"`
		ExecutionTime string `json:"executionTime"`
		Status        string `json:"status"`
	}
	if err := json.Unmarshal([]byte(body), &sent); status != 202 || err != nil || sent.Status != "Accepted" || sent.ExecutionTime == "" || h.Get("x-restate-id") != sent.InvocationID {
		t.Fatalf("send = %d %s %v", status, body, h)
	}
	if status, _, _ := do("GET", "/restate/invocation/"+sent.InvocationID+"/output", ""); status != 470 {
		t.Errorf("output of a scheduled invocation = %d, want 470", status)
	}
	env.Advance(time.Hour)
	if status, h, body := do("GET", "/restate/invocation/"+sent.InvocationID+"/attach", ""); status != 200 || body != `"pay-3"` || h.Get("content-type") != "application/json" {
		t.Errorf("attach = %d %s %v", status, body, h)
	}
	if status, h, body := do("POST", "/Counter/k/reset", ""); status != 200 || body != "" || h.Get("content-type") != "" {
		t.Errorf("void call = %d %q %v", status, body, h)
	}
}

func TestAdminQuery(t *testing.T) {
	env := restatetest.New(t, all)
	call(t, env, counterAdd.Target("a"), 1)
	call(t, env, counterAdd.Target("b"), 2)
	call(t, env, counterAdd.Target("b"), 3)
	srv := httptest.NewServer(env.AdminHandler())
	defer srv.Close()
	query := func(q string) (int, []map[string]any) {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"query": q})
		resp, err := http.Post(srv.URL+"/query", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Rows []map[string]any `json:"rows"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Rows
	}
	_, rows := query("SELECT service_key, value_utf8 FROM state WHERE service_name = 'Counter' ORDER BY service_key DESC")
	if diff := cmp.Diff([]map[string]any{{"service_key": "b", "value_utf8": "5"}, {"service_key": "a", "value_utf8": "1"}}, rows); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	_, rows = query("select target, status, completion_result from sys_invocation where target_service_key = 'b' limit 1")
	if diff := cmp.Diff([]map[string]any{{"target": "Counter/b/add", "status": "completed", "completion_result": "success"}}, rows); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
	_, rows = query("SELECT * FROM sys_invocation WHERE target = 'Counter/a/add' AND status = 'completed'")
	if len(rows) != 1 || rows[0]["journal_size"] != float64(4) {
		t.Errorf("rows = %v", rows)
	}
	for _, q := range []string{"DELETE FROM state", "SELECT x FROM state", "SELECT * FROM nope", "SELECT * FROM state WHERE key > 'a'", "SELECT * FROM state ORDER BY nope"} {
		if status, _ := query(q); status != 400 {
			t.Errorf("%s: status %d, want 400", q, status)
		}
	}
	get := func(path string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if status, h := get("/services/Counter/handlers/get"); status != 200 || h["ty"] != "Shared" || h["input_description"] != "none" || h["output_json_schema"] == nil {
		t.Errorf("handler = %d %v", status, h)
	}
	if status, s := get("/services/Signup"); status != 200 || s["ty"] != "Workflow" || len(s["handlers"].([]any)) != 5 {
		t.Errorf("service = %d %v", status, s)
	}
	if status, s := get("/services"); status != 200 || len(s["services"].([]any)) != len(all) {
		t.Errorf("services = %d %v", status, s)
	}
	if status, _ := get("/services/Private/handlers"); status != 200 {
		t.Errorf("handlers = %d", status)
	}
	for _, p := range []string{"/services/Nope", "/services/Counter/handlers/nope", "/services/Counter/x/y/z"} {
		if status, _ := get(p); status != 404 {
			t.Errorf("%s = %d, want 404", p, status)
		}
	}
	resp, err := http.Get(srv.URL + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health = %v, %v", resp, err)
	}
	resp.Body.Close()
}

// TestClientErrorsMatchIngress checks that restatetest's own client
// functions and package ingress's functions on the in-process ingress fail
// with the same error types and contents for the same requests, so that
// errors.As with *ingress.Error or *restate.TerminalError does not depend
// on which of the two a test uses.
func TestClientErrorsMatchIngress(t *testing.T) {
	env := restatetest.New(t, all)
	c := env.IngressClient()
	ctx := testContext(t)
	unknown := restate.Remote[string, string]("Nope", "x").Target()
	badID := "inv_notanid"
	missingID := "inv_1aGfDgOuXc1Q5ZJKBWQdGnEYFHuZG2ArQh" // well formed, never started
	cases := []struct {
		name              string
		direct, throughIn func() error
	}{
		{"unknown service",
			func() error { _, err := restatetest.Call(ctx, env, unknown, ""); return err },
			func() error { _, err := ingress.Call(ctx, c, unknown, ""); return err }},
		{"idempotency key on a workflow run",
			func() error {
				_, err := restatetest.Submit(ctx, env, signupRun.Target("ik"), "a@example.com", restatetest.WithIdempotencyKey("k"))
				return err
			},
			func() error {
				_, err := ingress.Submit(ctx, c, signupRun.Target("ik"), "a@example.com", ingress.WithIdempotencyKey("k"))
				return err
			}},
		{"terminal failure of the invocation",
			func() error {
				_, err := restatetest.Call(ctx, env, shopBuy.Target(), order{Item: "none", Qty: 1})
				return err
			},
			func() error {
				_, err := ingress.Call(ctx, c, shopBuy.Target(), order{Item: "none", Qty: 1})
				return err
			}},
		{"output of an unknown invocation",
			func() error {
				_, err := restatetest.ByID(env, counterAdd.Target("h"), missingID).Output(ctx)
				return err
			},
			func() error { _, err := ingress.ByID(c, counterAdd.Target("h"), missingID).Output(ctx); return err }},
		{"attach with a malformed id",
			func() error { _, err := restatetest.ByID(env, counterAdd.Target("h"), badID).Attach(ctx); return err },
			func() error { _, err := ingress.ByID(c, counterAdd.Target("h"), badID).Attach(ctx); return err }},
	}
	type errInfo struct {
		Kind    string
		Code    int
		Message string
	}
	classify := func(err error) errInfo {
		var ie *ingress.Error
		var te *restate.TerminalError
		switch {
		case errors.As(err, &ie):
			return errInfo{"ingress", ie.StatusCode, ie.Message}
		case errors.As(err, &te):
			return errInfo{"terminal", int(te.Code), te.Message}
		case err == nil:
			return errInfo{Kind: "none"}
		}
		return errInfo{"other", 0, err.Error()}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, got := classify(tc.throughIn()), classify(tc.direct())
			if want.Kind != "ingress" && want.Kind != "terminal" {
				t.Fatalf("through ingress: %+v, want an *ingress.Error or a terminal error", want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("restatetest's client and ingress on the in-process ingress differ (-ingress +restatetest):\n%s", diff)
			}
		})
	}
}
