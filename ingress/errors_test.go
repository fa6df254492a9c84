package ingress

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
)

// These tests pin how error answers map to errors, including answers the
// real server does not give today (no source marker, bodies from proxies).

func TestResponseError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		header string // X-Restate-Error-Source
		body   string
		want   error
	}{
		{"invocation failure", 422, "invocation", `{"code":422,"message":"bad","metadata":{"k":"v"},"source":"invocation"}`,
			&restate.TerminalError{Code: 422, Message: "bad", Metadata: map[string]string{"k": "v"}}},
		{"code beyond HTTP", 500, "invocation", `{"code":1000,"message":"big","source":"invocation"}`,
			&restate.TerminalError{Code: 1000, Message: "big"}},
		{"source only in the body", 409, "", `{"code":409,"message":"cancelled","source":"invocation"}`,
			&restate.TerminalError{Code: 409, Message: "cancelled"}},
		{"ingress error", 404, "ingress", `{"code":404,"message":"service 'X' not found","source":"ingress"}`,
			&Error{StatusCode: 404, Message: "service 'X' not found"}},
		{"unmarked failure", 400, "", `{"code":400,"message":"invalid"}`,
			&restate.TerminalError{Code: 400, Message: "invalid"}},
		{"proxy page", 502, "", "<html>bad gateway</html>\n",
			&Error{StatusCode: 502, Message: "<html>bad gateway</html>"}},
		{"empty body", 503, "", "", &Error{StatusCode: 503, Message: ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set("X-Restate-Error-Source", tc.header)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			_, err := NewClient(srv.URL).do(context.Background(), http.MethodPost, "/S/h", nil, nil, "", nil)
			if diff := cmp.Diff(tc.want, err); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestShape(t *testing.T) {
	t.Parallel()
	type seen struct {
		Method, Path, Query, ContentType, Auth, Idempotency, Custom, Body string
	}
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 64)
		n, _ := r.Body.Read(b)
		got = seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("Authorization"),
			r.Header.Get("Idempotency-Key"), r.Header.Get("X-Custom"), string(b[:n])}
		_, _ = w.Write([]byte(`{"invocationId":"inv_1","status":"Accepted"}`))
	}))
	defer srv.Close()
	c := NewClient(srv.URL+"/", WithAuthKey("secret"))
	target := restate.RemoteObject[string, string]("Svc", "run").Target("a/b c")
	_, err := Send(context.Background(), c, target, "in", WithDelay(1500*time.Millisecond),
		WithIdempotencyKey("k"), WithHeaders(map[string]string{"X-Custom": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	want := seen{"POST", "/Svc/a%2Fb%20c/run/send", "delay=1500ms", "application/json", "Bearer secret", "k", "1", `"in"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

func TestZeroInvocation(t *testing.T) {
	t.Parallel()
	var inv Invocation[string]
	if _, err := inv.Attach(context.Background()); err == nil {
		t.Error("Attach on a zero Invocation succeeded")
	}
	if _, err := inv.Output(context.Background()); err == nil {
		t.Error("Output on a zero Invocation succeeded")
	}
}

func TestUndecodableResult(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`"not a number"`))
	}))
	defer srv.Close()
	_, err := Call(context.Background(), NewClient(srv.URL), restate.Remote[string, int]("S", "h").Target(), "x")
	if err == nil || restate.IsTerminal(err) {
		t.Fatalf("decoding a string into int: %v, want a plain error", err)
	}
	var ie *Error
	if errors.As(err, &ie) {
		t.Fatalf("decoding failure reported as an ingress answer: %v", err)
	}
}

// TestNilOptionsIgnored: nil options of every kind are skipped, and the
// options beside them still apply.
func TestNilOptionsIgnored(t *testing.T) {
	t.Parallel()
	var gotAuth, gotKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotKey = r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key")
		_, _ = w.Write([]byte(`"ok"`))
	}))
	defer srv.Close()
	c := NewClient(srv.URL, nil, WithAuthKey("secret"), nil)
	target := restate.Remote[string, string]("Svc", "run").Target()
	got, err := Call(context.Background(), c, target, "in", nil, WithIdempotencyKey("k"))
	if err != nil || got != "ok" || gotAuth != "Bearer secret" || gotKey != "k" {
		t.Errorf("Call = %q, %v; auth %q, key %q", got, err, gotAuth, gotKey)
	}
}

// TestUnassembledTarget: the target of a handler not part of a service
// yet fails Call, Send and Submit with the error its Target carries,
// before any request.
func TestUnassembledTarget(t *testing.T) {
	t.Parallel()
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests++ }))
	defer srv.Close()
	c := NewClient(srv.URL)
	lonely := restate.NewHandler("lonely", restate.NoInputOutput(func(restate.Context) error { return nil }))
	target := lonely.Target()
	if target.Err() == nil {
		t.Fatal("the target of an unassembled handler has no error")
	}
	if _, err := Call(context.Background(), c, target, restate.Void{}); err == nil || err.Error() != target.Err().Error() {
		t.Errorf("Call: %v, want %v", err, target.Err())
	}
	if _, err := Send(context.Background(), c, target, restate.Void{}); err == nil || err.Error() != target.Err().Error() {
		t.Errorf("Send: %v, want %v", err, target.Err())
	}
	if requests != 0 {
		t.Errorf("%d requests reached the server", requests)
	}
}
