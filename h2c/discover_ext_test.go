package h2c_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/wire"
)

const runtimeAccept = "application/vnd.restate.endpointmanifest.v1+json, application/vnd.restate.endpointmanifest.v2+json, application/vnd.restate.endpointmanifest.v3+json, application/vnd.restate.endpointmanifest.v4+json"

func manifestType(v int) string {
	return "application/vnd.restate.endpointmanifest.v" + string(rune('0'+v)) + "+json"
}

// get sends a GET with headers and returns status, headers and body.
func get(t *testing.T, c *http.Client, url string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// TestDiscoverNegotiation picks the highest manifest version the Accept
// header lists, and answers 415 when it lists none this SDK speaks.
func TestDiscoverNegotiation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, accept string
		status       int
		version      int
	}{
		{"restate 1.7", runtimeAccept, 200, 4},
		{"any order", "application/vnd.restate.endpointmanifest.v4+json, application/vnd.restate.endpointmanifest.v2+json", 200, 4},
		{"v1 only", "application/vnd.restate.endpointmanifest.v1+json", 200, 1},
		{"v2 only", "application/vnd.restate.endpointmanifest.v2+json", 200, 2},
		{"v3 with parameters", "application/vnd.restate.endpointmanifest.v3+json; q=0.9", 200, 3},
		{"unknown versions ignored", "application/vnd.restate.endpointmanifest.v9+json,application/vnd.restate.endpointmanifest.v2+json", 200, 2},
		{"no accept header", "", 415, 0},
		{"only json", "application/json", 415, 0},
		{"only newer versions", "application/vnd.restate.endpointmanifest.v5+json", 415, 0},
		{"protobuf manifest", "application/vnd.restate.endpointmanifest.v1+protobuf", 415, 0},
		{"wildcard", "*/*", 415, 0},
	}
	for _, proto := range protos {
		for _, mode := range modes {
			r := newRig(t, proto, mode)
			for _, tc := range tests {
				t.Run(name(proto, mode, tc.name), func(t *testing.T) {
					t.Parallel()
					status, hdr, body := get(t, r.client, r.url("/discover"), map[string]string{"accept": tc.accept})
					if status != tc.status {
						t.Fatalf("status %d, want %d: %s", status, tc.status, body)
					}
					if hdr.Get("x-restate-server") == "" {
						t.Error("no x-restate-server header")
					}
					if tc.status != 200 {
						if body == "" {
							t.Error("empty error body")
						}
						return
					}
					if got := hdr.Get("content-type"); got != manifestType(tc.version) {
						t.Errorf("content-type %q, want %q", got, manifestType(tc.version))
					}
					var m struct {
						ProtocolMode       string
						MinProtocolVersion int
						MaxProtocolVersion int
						Services           []struct{ Name string }
					}
					if err := json.Unmarshal([]byte(body), &m); err != nil {
						t.Fatal(err)
					}
					wantMode := map[string]string{"bidi": "BIDI_STREAM", "request-response": "REQUEST_RESPONSE"}[mode]
					if m.ProtocolMode != wantMode || m.MinProtocolVersion != 5 || m.MaxProtocolVersion != 7 {
						t.Errorf("mode %s, protocol versions %d to %d; want %s, 5 to 7", m.ProtocolMode, m.MinProtocolVersion, m.MaxProtocolVersion, wantMode)
					}
					if len(m.Services) != 2 || m.Services[0].Name != "Counter" || m.Services[1].Name != "Greeter" {
						t.Errorf("services %v, want Counter and Greeter in order", m.Services)
					}
				})
			}
		}
	}
}

type point struct {
	X    int    `json:"x"`
	Name string `json:"name,omitempty"`
}

// fullServices use every service and handler option the manifest carries.
func fullServices() []restate.ServiceDefinition {
	return []restate.ServiceDefinition{
		restate.NewService("Full",
			restate.NewHandler("greet", func(restate.Context, point) (string, error) { return "", nil },
				restate.WithDocumentation("says hello"), restate.WithMetadata("k", "v"), restate.WithIngressPrivate(),
				restate.WithInactivityTimeout(time.Minute),
				restate.WithRetryPolicy(restate.InvocationRetryPolicy{
					InitialInterval: time.Second, MaxInterval: 10 * time.Second, Factor: 2, MaxAttempts: 5, OnMaxAttempts: restate.OnMaxPause,
				})),
			restate.NewHandler("void", restate.NoInputOutput(func(restate.Context) error { return nil })),
			restate.WithDocumentation("a service"), restate.WithMetadata("team", "core"),
			restate.WithJournalRetention(time.Hour), restate.WithIdempotencyRetention(2*time.Hour),
			restate.WithAbortTimeout(time.Second), restate.WithLazyState(),
		),
		restate.NewObject("Obj",
			restate.NewObjectHandler("set", func(restate.ObjectContext, int) (int, error) { return 0, nil },
				restate.WithOptionalInput(), restate.WithContentTypeIfEmpty()),
			restate.NewSharedHandler("get", restate.NoInput(func(restate.ObjectSharedContext) (int, error) { return 0, nil })),
		),
		restate.NewWorkflow("Wf",
			restate.NewWorkflowHandler("run", func(restate.WorkflowContext, string) (string, error) { return "", nil },
				restate.WithWorkflowRetention(24*time.Hour)),
			restate.NewWorkflowSharedHandler("signal", func(restate.WorkflowSharedContext, string) (restate.Void, error) {
				return restate.Void{}, nil
			}),
		),
	}
}

const fullManifest = `{
  "protocolMode": "REQUEST_RESPONSE", "minProtocolVersion": 5, "maxProtocolVersion": 7,
  "services": [
    {"name": "Full", "ty": "SERVICE",
     "documentation": "a service", "metadata": {"team": "core"},
     "journalRetention": 3600000, "idempotencyRetention": 7200000, "abortTimeout": 1000, "enableLazyState": true,
     "handlers": [
       {"name": "greet",
        "input": {"contentType": "application/json", "required": true, "jsonSchema": {
          "type": "object", "title": "point", "required": ["x"],
          "properties": {"name": {"type": "string"}, "x": {"type": "integer"}}}},
        "output": {"contentType": "application/json", "setContentTypeIfEmpty": false, "jsonSchema": {"type": "string"}},
        "documentation": "says hello", "metadata": {"k": "v"}, "ingressPrivate": true, "inactivityTimeout": 60000,
        "retryPolicyInitialInterval": 1000, "retryPolicyMaxInterval": 10000, "retryPolicyMaxAttempts": 5,
        "retryPolicyExponentiationFactor": 2, "retryPolicyOnMaxAttempts": "PAUSE"},
       {"name": "void", "input": {}, "output": {"setContentTypeIfEmpty": false}}
     ]},
    {"name": "Obj", "ty": "VIRTUAL_OBJECT", "handlers": [
       {"name": "get", "ty": "SHARED", "input": {},
        "output": {"contentType": "application/json", "setContentTypeIfEmpty": false, "jsonSchema": {"type": "integer"}}},
       {"name": "set", "ty": "EXCLUSIVE",
        "input": {"contentType": "application/json", "required": false, "jsonSchema": {"type": "integer"}},
        "output": {"contentType": "application/json", "setContentTypeIfEmpty": true, "jsonSchema": {"type": "integer"}}}
     ]},
    {"name": "Wf", "ty": "WORKFLOW", "handlers": [
       {"name": "run", "ty": "WORKFLOW", "workflowCompletionRetention": 86400000,
        "input": {"contentType": "application/json", "required": true, "jsonSchema": {"type": "string"}},
        "output": {"contentType": "application/json", "setContentTypeIfEmpty": false, "jsonSchema": {"type": "string"}}},
       {"name": "signal", "ty": "SHARED",
        "input": {"contentType": "application/json", "required": true, "jsonSchema": {"type": "string"}},
        "output": {"setContentTypeIfEmpty": false}}
     ]}
  ]
}`

// TestDiscoverFullManifest checks every service and handler field, the
// JSON schemas, and that options a lower manifest version cannot carry fail
// discovery instead of being dropped.
func TestDiscoverFullManifest(t *testing.T) {
	t.Parallel()
	h, err := h2c.NewHandler(fullServices(), h2c.WithRequestResponse(), h2c.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, h)
	c := newClient(t, "h2c")
	status, hdr, body := get(t, c, srv.URL+"/discover", map[string]string{"accept": runtimeAccept})
	if status != 200 || hdr.Get("content-type") != manifestType(4) {
		t.Fatalf("status %d, content-type %q: %s", status, hdr.Get("content-type"), body)
	}
	var want, got any
	if err := json.Unmarshal([]byte(fullManifest), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("manifest (-want +got):\n%s", d)
	}
	for v, field := range map[int]string{1: "journal retention", 2: "journal retention", 3: "retry policy"} {
		status, _, body := get(t, c, srv.URL+"/discover", map[string]string{"accept": manifestType(v)})
		if status != 500 || !strings.Contains(body, field) {
			t.Errorf("manifest v%d: status %d, body %q; want 500 naming the %s", v, status, body, field)
		}
	}
}

// TestStatuses covers every answer given before a stream starts.
func TestStatuses(t *testing.T) {
	t.Parallel()
	v6 := wire.V6.ContentType()
	tests := []struct {
		name, method, path, contentType string
		body                            string
		status                          int
		text                            string // in the body
	}{
		{"health", "GET", "/health", "", "", 200, "ok"},
		{"no content type", "POST", "/invoke/Greeter/greet", "", "x", 415, "missing content-type"},
		{"json content type", "POST", "/invoke/Greeter/greet", "application/json", "x", 415, "not a Restate invocation type"},
		{"protocol v4", "POST", "/invoke/Greeter/greet", "application/vnd.restate.invocation.v4", "x", 415, "re-discovered"},
		{"protocol v8", "POST", "/invoke/Greeter/greet", "application/vnd.restate.invocation.v8", "x", 415, "not supported"},
		{"protocol garbage", "POST", "/invoke/Greeter/greet", "application/vnd.restate.invocation.vx", "x", 415, "not a Restate invocation type"},
		{"unknown service", "POST", "/invoke/Nope/greet", v6, "x", 404, `service "Nope" not found`},
		{"unknown handler", "POST", "/invoke/Greeter/nope", v6, "x", 404, `handler "nope" not found`},
		{"no handler", "POST", "/invoke/Greeter", v6, "x", 404, "not found"},
		{"extra segment", "POST", "/invoke/Greeter/greet/x", v6, "x", 404, "not found"},
		{"unknown path", "GET", "/nothing", "", "", 404, "not found"},
		{"root", "GET", "/", "", "", 404, "not found"},
		{"invoke with GET", "GET", "/invoke/Greeter/greet", v6, "", 405, "POST"},
		{"discover with POST", "POST", "/discover", "application/json", "{}", 405, "GET"},
		{"discover with a body", "GET", "/discover", "application/json", "{}", 400, "no request body"},
	}
	for _, proto := range protos {
		r := newRig(t, proto, "bidi")
		for _, tc := range tests {
			t.Run(name(proto, tc.name), func(t *testing.T) {
				t.Parallel()
				var body io.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				}
				req, err := http.NewRequest(tc.method, r.url(tc.path), body)
				if err != nil {
					t.Fatal(err)
				}
				if tc.contentType != "" {
					req.Header.Set("content-type", tc.contentType)
				}
				req.Header.Set("accept", runtimeAccept)
				status, hdr, text := do(t, r.client, req)
				if status != tc.status || !strings.Contains(text, tc.text) {
					t.Errorf("%d %q, want %d with %q", status, text, tc.status, tc.text)
				}
				if hdr.Get("x-restate-server") == "" {
					t.Error("no x-restate-server header")
				}
			})
		}
	}
}

// TestBadRequestsAreLogged checks that answers to bad requests leave a log
// line saying why.
func TestBadRequestsAreLogged(t *testing.T) {
	t.Parallel()
	c := newCapture()
	h, err := h2c.NewHandler(testServices(), h2c.WithLogger(slogger(c)))
	if err != nil {
		t.Fatal(err)
	}
	r := newRigFor(t, "h2c", "bidi", h, h)
	req, _ := http.NewRequest("POST", r.url("/invoke/Greeter/greet"), strings.NewReader("x"))
	req.Header.Set("content-type", "text/plain")
	do(t, r.client, req)
	r.invokeRaw(t, "/invoke/Greeter/greet", wire.V6, []byte("garbage!garbage!"))
	got := c.drain()
	for _, want := range []string{"h2c: unsupported invocation content type", "h2c: invocation failed before its handler started"} {
		found := false
		for _, m := range got {
			found = found || m == want
		}
		if !found {
			t.Errorf("no log line %q in %q", want, got)
		}
	}
}
