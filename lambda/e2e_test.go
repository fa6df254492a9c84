package lambda_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
	"github.com/qcodr/restate-sdk-go/lambda"
)

// fakeLambdaService is a local stand-in for the AWS Lambda service's Invoke
// operation (POST /2015-03-31/functions/{function}/invocations).
// restate-server reaches it through AWS_ENDPOINT_URL_LAMBDA, so the events
// it receives are the ones restate-server really sends to a function. It
// decodes each event into a lambda.Request as the Go runtime client would,
// calls the handler, and returns the encoded Response as the function's
// result.
type fakeLambdaService struct {
	t  *testing.T
	h  *lambda.Handler
	mu sync.Mutex
	// events holds every event received, by function name.
	events map[string][]map[string]any
}

func (f *fakeLambdaService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	function, ok2 := strings.CutSuffix(rest, "/invocations")
	if r.Method != http.MethodPost || !ok || !ok2 {
		f.t.Errorf("unexpected Lambda API call %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"message":"unexpected call"}`, http.StatusNotFound)
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("reading the event: %v", err)
		return
	}
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		f.t.Errorf("the event is not a JSON object: %v", err)
	}
	f.mu.Lock()
	f.events[function] = append(f.events[function], generic)
	f.mu.Unlock()

	var req lambda.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		f.t.Errorf("decoding the event: %v", err)
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_, _ = w.Write([]byte(`{"errorMessage":"bad event"}`))
		return
	}
	resp, err := f.h.Invoke(r.Context(), req)
	if err != nil {
		f.t.Errorf("Invoke: %v", err)
	}
	if strings.Contains(function, "pretend-bidi") {
		// Shows why the package never advertises BIDI_STREAM: the runtime
		// refuses such a deployment behind Lambda.
		resp.Body = strings.Replace(resp.Body, `"REQUEST_RESPONSE"`, `"BIDI_STREAM"`, 1)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		f.t.Errorf("encoding the response: %v", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "1")
	_, _ = w.Write(out)
}

func (f *fakeLambdaService) eventsOf(function string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events[function]
}

// TestRestateServer runs the real restate-server against the adapter: it
// registers the function by ARN, discovers it over Lambda, and invokes it,
// with request identity verification on.
func TestRestateServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// restate-server signs every request with this key; the handler only
	// accepts requests signed with it.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, lambda.WithIdentityKeys(endpoint.FormatPublicKey(pub)))
	fake := &fakeLambdaService{t: t, h: h, events: map[string][]map[string]any{}}
	lambdaAPI := httptest.NewServer(fake)
	defer lambdaAPI.Close()

	srv, err := restateserver.Start(ctx, restateserver.Options{Env: map[string]string{
		"AWS_ENDPOINT_URL_LAMBDA":                       lambdaAPI.URL,
		"AWS_ACCESS_KEY_ID":                             "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":                         "not-a-secret",
		"AWS_REGION":                                    "eu-west-1",
		"AWS_EC2_METADATA_DISABLED":                     "true",
		"RESTATE_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE": keyFile,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	defer func() {
		if t.Failed() {
			t.Logf("restate-server log:\n%s", srv.Logs())
		}
	}()

	const function = "arn:aws:lambda:eu-west-1:123456789012:function:restate-test:1"
	status, body := post(ctx, t, srv.AdminURL()+"/deployments", map[string]any{"arn": function})
	if status != http.StatusCreated {
		t.Fatalf("registering %s: %d %s", function, status, body)
	}
	discover := fake.eventsOf(function)
	if len(discover) == 0 {
		t.Fatal("restate-server registered the function without invoking it")
	}
	headers, _ := discover[0]["headers"].(map[string]any)
	got := map[string]any{
		"path": discover[0]["path"], "httpMethod": discover[0]["httpMethod"], "body": discover[0]["body"],
		"isBase64Encoded": discover[0]["isBase64Encoded"], "signed": headers["x-restate-signature-scheme"],
	}
	want := map[string]any{"path": "/discover", "httpMethod": "GET", "body": "", "isBase64Encoded": true, "signed": "v1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("discovery event (-want +got):\n%s", diff)
	}

	t.Run("invocation", func(t *testing.T) {
		status, body := post(ctx, t, srv.IngressURL()+"/Greeter/greet", "Alice")
		if status != http.StatusOK || string(body) != `"Hello Alice!"` {
			t.Errorf("got %d %s", status, body)
		}
	})

	t.Run("suspension and replay", func(t *testing.T) {
		before := countPath(fake.eventsOf(function), "/invoke/Greeter/ticket")
		status, body := post(ctx, t, srv.IngressURL()+"/Greeter/ticket", "Bob")
		if status != http.StatusOK || string(body) != `"Bob:T-1"` {
			t.Errorf("got %d %s", status, body)
		}
		// One attempt proposes the run's result and suspends, the next
		// replays it and completes.
		if n := countPath(fake.eventsOf(function), "/invoke/Greeter/ticket") - before; n != 2 {
			t.Errorf("%d Lambda invocations for one Run, want 2", n)
		}
	})

	t.Run("restate-server refuses BIDI_STREAM over Lambda", func(t *testing.T) {
		status, body := post(ctx, t, srv.AdminURL()+"/deployments", map[string]any{"arn": "arn:aws:lambda:eu-west-1:123456789012:function:pretend-bidi:1"})
		if status < 400 || !strings.Contains(string(body), "bidirectional") {
			t.Errorf("got %d %s, want a refusal naming bidirectional mode", status, body)
		}
	})
}

func countPath(events []map[string]any, path string) int {
	n := 0
	for _, e := range events {
		if e["path"] == path {
			n++
		}
	}
	return n
}

func post(ctx context.Context, t *testing.T, url string, v any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("content-type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}
