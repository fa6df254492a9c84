package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/qcodr/restate-sdk-go/wire"
)

// These tests run this program's main, unchanged, under the real runtime
// client of github.com/aws/aws-lambda-go, against a local implementation of
// the Lambda Runtime API (runtimeAPI below) on loopback: the function process
// polls GET /2018-06-01/runtime/invocation/next for events and posts each
// answer to .../invocation/{id}/response, or .../error for a function error,
// exactly as on AWS. No AWS account is involved.
//
// The function process is this test binary, re-executed with mainEnv set:
// TestMain then runs main instead of the tests.

const mainEnv = "RESTATE_EXAMPLE_LAMBDA_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runtimeAPI is a local Lambda Runtime API: Invoke queues an event, a
// function process picks it up from /next and posts the outcome back.
type runtimeAPI struct {
	t        *testing.T
	srv      *httptest.Server
	queue    chan *pending
	closing  chan struct{}
	seq      atomic.Int64
	mu       sync.Mutex
	inflight map[string]*pending
}

type pending struct {
	id      string
	payload []byte
	done    chan outcome
}

// outcome is what the function posted for one event.
type outcome struct {
	Kind      string // "response" or "error"
	Body      []byte
	ErrorType string // the Lambda-Runtime-Function-Error-Type header of an error
}

const apiPrefix = "/2018-06-01/runtime"

func newRuntimeAPI(t *testing.T) *runtimeAPI {
	api := &runtimeAPI{
		t:        t,
		queue:    make(chan *pending),
		closing:  make(chan struct{}),
		inflight: map[string]*pending{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", api.next)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", api.post("response"))
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", api.post("error"))
	mux.HandleFunc("POST "+apiPrefix+"/init/error", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		t.Errorf("the function failed to initialise: %s", b)
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected Runtime API request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	api.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(api.closing)
		api.srv.Close()
	})
	return api
}

// next hands the function the next event, with the headers the real
// Runtime API sends.
func (api *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	var p *pending
	select {
	case p = <-api.queue:
	case <-r.Context().Done():
		return
	case <-api.closing:
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	api.mu.Lock()
	api.inflight[p.id] = p
	api.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", p.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:restate-example:1")
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
	_, _ = w.Write(p.payload)
}

func (api *runtimeAPI) post(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		api.mu.Lock()
		p := api.inflight[id]
		delete(api.inflight, id)
		api.mu.Unlock()
		if p == nil {
			api.t.Errorf("%s for unknown or finished request %q", kind, id)
			http.NotFound(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			api.t.Errorf("reading the %s of %s: %v", kind, id, err)
		}
		p.done <- outcome{Kind: kind, Body: body, ErrorType: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
		w.WriteHeader(http.StatusAccepted)
	}
}

// invoke sends one event to the function and waits for its outcome.
func (api *runtimeAPI) invoke(t *testing.T, payload []byte) outcome {
	t.Helper()
	p := &pending{id: fmt.Sprintf("req-%d", api.seq.Add(1)), payload: payload, done: make(chan outcome, 1)}
	timeout := time.After(time.Minute)
	select {
	case api.queue <- p:
	case <-timeout:
		t.Fatal("the function never asked for the next event")
	}
	select {
	case o := <-p.done:
		return o
	case <-timeout:
		t.Fatalf("no outcome for %s", p.id)
	}
	return outcome{}
}

// startFunction runs main in a new process connected to api, and stops it
// when the test ends.
func startFunction(t *testing.T, api *runtimeAPI, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		mainEnv+"=1",
		"AWS_LAMBDA_RUNTIME_API="+api.srv.Listener.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=restate-example",
		"AWS_LAMBDA_FUNCTION_VERSION=1",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
	)
	cmd.Env = append(cmd.Env, env...)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-exited:
			t.Errorf("the function exited early: %v", err)
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("function output:\n%s", logs.String())
		}
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// restateEvent is the payload restate-server sends when it invokes a
// function (restate crates/service-client/src/lambda.rs,
// ApiGatewayProxyRequest): lowercase flat headers, standard base64 body.
func restateEvent(method, path string, headers map[string]string, body []byte) []byte {
	b, err := json.Marshal(map[string]any{
		"path":            path,
		"httpMethod":      method,
		"headers":         headers,
		"body":            base64.StdEncoding.EncodeToString(body),
		"isBase64Encoded": true,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// answer is a function response as restate-server decodes it
// (ApiGatewayProxyResponse).
type answer struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            *string           `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

func decodeAnswer(t *testing.T, o outcome) (answer, []byte) {
	t.Helper()
	if o.Kind != "response" {
		t.Fatalf("function error %s: %s", o.ErrorType, o.Body)
	}
	var a answer
	if err := json.Unmarshal(o.Body, &a); err != nil {
		t.Fatalf("the response is not the JSON restate-server expects: %v\n%s", err, o.Body)
	}
	if a.Body == nil {
		return a, nil
	}
	if !a.IsBase64Encoded {
		return a, []byte(*a.Body)
	}
	body, err := base64.StdEncoding.DecodeString(*a.Body)
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	return a, body
}

func encodeFrames(start *wire.StartMessage, journal ...wire.Message) []byte {
	start.ID = []byte("0123456789abcdef01234567")
	start.DebugID = "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"
	start.KnownEntries = uint32(len(journal))
	b := wire.AppendFrame(nil, start, 0)
	for _, m := range journal {
		b = wire.AppendFrame(b, m, 0)
	}
	return b
}

func decodeFrames(t *testing.T, b []byte) []wire.Message {
	t.Helper()
	d := wire.NewDecoder(0)
	_, _ = d.Write(b)
	var msgs []wire.Message
	for {
		f, ok, err := d.Next()
		if err != nil {
			t.Fatalf("response frames: %v", err)
		}
		if !ok {
			break
		}
		m, err := f.Decode()
		if err != nil {
			t.Fatalf("response frame %s: %v", f.Header.Type, err)
		}
		msgs = append(msgs, m)
	}
	if err := d.Finish(); err != nil {
		t.Fatalf("response frames: %v", err)
	}
	return msgs
}

func invokeHeaders(v wire.Version) map[string]string {
	return map[string]string{
		"content-type":            v.ContentType(),
		"accept":                  v.ContentType(),
		"x-restate-invocation-id": "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz",
		"x-restate-cluster-name":  "localcluster",
	}
}

const acceptManifests = "application/vnd.restate.endpointmanifest.v1+json, application/vnd.restate.endpointmanifest.v2+json, application/vnd.restate.endpointmanifest.v3+json, application/vnd.restate.endpointmanifest.v4+json"

// invocationCase is one event and the frames the function must answer
// with.
type invocationCase struct {
	name    string
	path    string
	body    []byte
	want    []wire.Message
	version wire.Version
}

func invocationCases() []invocationCase {
	input := func(json string) *wire.InputCommand { return &wire.InputCommand{Value: []byte(json)} }
	output := func(json string) *wire.OutputCommand {
		return &wire.OutputCommand{Result: wire.ValueResult([]byte(json))}
	}
	run := &wire.RunCommand{ResultCompletionID: 1, Name: "issue"}
	return []invocationCase{
		{
			name: "greet", path: "/invoke/Greeter/greet", version: wire.V6,
			body: encodeFrames(&wire.StartMessage{}, input(`"Alice"`)),
			want: []wire.Message{output(`"Hello Alice!"`), &wire.EndMessage{}},
		},
		{
			name: "greet V7", path: "/invoke/Greeter/greet", version: wire.V7,
			body: encodeFrames(&wire.StartMessage{}, input(`"Bob"`)),
			want: []wire.Message{output(`"Hello Bob!"`), &wire.EndMessage{}},
		},
		{
			// Over Lambda the input is closed: the run's result is proposed
			// and the attempt suspends until restate-server stored it.
			name: "ticket suspends", path: "/invoke/Greeter/ticket", version: wire.V6,
			body: encodeFrames(&wire.StartMessage{}, input(`"ada"`)),
			want: []wire.Message{
				run,
				&wire.ProposeRunCompletionMessage{ResultCompletionID: 1, Result: wire.ValueResult([]byte(`"T-ADA"`))},
				&wire.SuspensionMessage{WaitingCompletions: []uint32{1}, WaitingSignals: []uint32{1}},
			},
		},
		{
			// The next attempt replays the stored result and completes.
			name: "ticket replays", path: "/invoke/Greeter/ticket", version: wire.V6,
			body: encodeFrames(&wire.StartMessage{}, input(`"ada"`), run, &wire.Notification{
				MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(1), Result: wire.ValueResult([]byte(`"T-ADA"`)),
			}),
			want: []wire.Message{output(`"ada holds ticket T-ADA"`), &wire.EndMessage{}},
		},
		{
			name: "counter add with eager state", path: "/invoke/Counter/add", version: wire.V6,
			body: encodeFrames(&wire.StartMessage{Key: "alice", StateMap: []wire.StateEntry{{Key: []byte("count"), Value: []byte("41")}}}, input(`1`)),
			want: []wire.Message{
				&wire.GetEagerStateCommand{Key: []byte("count"), Result: wire.ValueResult([]byte("41"))},
				&wire.SetStateCommand{Key: []byte("count"), Value: []byte("42")},
				output(`42`),
				&wire.EndMessage{},
			},
		},
	}
}

func checkInvocation(t *testing.T, api *runtimeAPI, tc invocationCase) {
	t.Helper()
	a, body := decodeAnswer(t, api.invoke(t, restateEvent("POST", tc.path, invokeHeaders(tc.version), tc.body)))
	if a.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", a.StatusCode, body)
	}
	if !a.IsBase64Encoded || a.Headers["content-type"] != tc.version.ContentType() || a.Headers["x-restate-server"] == "" {
		t.Errorf("isBase64Encoded %v, headers %v", a.IsBase64Encoded, a.Headers)
	}
	if diff := cmp.Diff(tc.want, decodeFrames(t, body)); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
}

func TestRuntimeAPI(t *testing.T) {
	api := newRuntimeAPI(t)
	startFunction(t, api)

	t.Run("discovery", func(t *testing.T) {
		a, body := decodeAnswer(t, api.invoke(t, restateEvent("GET", "/discover", map[string]string{"accept": acceptManifests}, nil)))
		if a.StatusCode != http.StatusOK || a.Headers["content-type"] != "application/vnd.restate.endpointmanifest.v4+json" {
			t.Fatalf("status %d, headers %v: %s", a.StatusCode, a.Headers, body)
		}
		var m struct {
			ProtocolMode string `json:"protocolMode"`
			Services     []struct {
				Name string `json:"name"`
				Ty   string `json:"ty"`
			} `json:"services"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("manifest: %v\n%s", err, body)
		}
		want := []string{"Counter VIRTUAL_OBJECT", "Greeter SERVICE"}
		var got []string
		for _, s := range m.Services {
			got = append(got, s.Name+" "+s.Ty)
		}
		if m.ProtocolMode != "REQUEST_RESPONSE" {
			t.Errorf("protocolMode %q: restate-server refuses anything but REQUEST_RESPONSE over Lambda", m.ProtocolMode)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("services (-want +got):\n%s", diff)
		}
	})

	for _, tc := range invocationCases() {
		t.Run(tc.name, func(t *testing.T) { checkInvocation(t, api, tc) })
	}

	// Bad requests are answered, not crashed on: the function returns a
	// normal response with the status h2c would use.
	bad := []struct {
		name    string
		payload []byte
		status  int
	}{
		{"body not base64", []byte(`{"path":"/invoke/Greeter/greet","httpMethod":"POST","headers":{"content-type":"application/vnd.restate.invocation.v6"},"body":"%%%","isBase64Encoded":true}`), 400},
		{"unknown path", restateEvent("POST", "/call/Greeter/greet", invokeHeaders(wire.V6), nil), 404},
		{"unsupported version", restateEvent("POST", "/invoke/Greeter/greet", invokeHeaders(wire.Version(8)), nil), 415},
		{"wrong method", restateEvent("GET", "/invoke/Greeter/greet", invokeHeaders(wire.V6), nil), 405},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			a, body := decodeAnswer(t, api.invoke(t, tc.payload))
			if a.StatusCode != tc.status || !strings.HasPrefix(a.Headers["content-type"], "text/plain") || len(body) == 0 {
				t.Errorf("got %d %v %q, want %d with a text message", a.StatusCode, a.Headers, body, tc.status)
			}
		})
	}

	// An event that is not a JSON object never reaches the handler: the
	// runtime client reports a function error, and the process goes on
	// serving.
	t.Run("malformed event", func(t *testing.T) {
		o := api.invoke(t, []byte(`["not", "an", "event"]`))
		if o.Kind != "error" {
			t.Fatalf("want a function error, got %s: %s", o.Kind, o.Body)
		}
		var e struct {
			ErrorType    string `json:"errorType"`
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.Unmarshal(o.Body, &e); err != nil || e.ErrorMessage == "" {
			t.Errorf("error payload %s: %v", o.Body, err)
		}
		checkInvocation(t, api, invocationCases()[0])
	})
}

// TestRuntimeAPIConcurrent runs the function with several invocations in
// flight at once (AWS_LAMBDA_MAX_CONCURRENCY, as on Lambda Managed
// Instances): the handler is shared by the runtime client's goroutines.
func TestRuntimeAPIConcurrent(t *testing.T) {
	api := newRuntimeAPI(t)
	startFunction(t, api, "AWS_LAMBDA_MAX_CONCURRENCY=4")
	var wg sync.WaitGroup
	for range 5 {
		for _, tc := range invocationCases() {
			wg.Go(func() { checkInvocation(t, api, tc) })
		}
	}
	wg.Wait()
}

// TestRuntimeAPIIdentity runs the function with RESTATE_IDENTITY_KEYS set:
// only events signed as restate-server signs them are served.
func TestRuntimeAPIIdentity(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	api := newRuntimeAPI(t)
	startFunction(t, api, "RESTATE_IDENTITY_KEYS="+publicKeyV1(pub))

	sign := func(aud string) string {
		enc := base64.RawURLEncoding
		hdr, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "EdDSA", "kid": publicKeyV1(pub)})
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{"aud": aud, "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Minute).Unix()})
		s := enc.EncodeToString(hdr) + "." + enc.EncodeToString(claims)
		return s + "." + enc.EncodeToString(ed25519.Sign(priv, []byte(s)))
	}
	signed := func(h map[string]string, aud string) map[string]string {
		h["x-restate-signature-scheme"] = "v1"
		h["x-restate-jwt-v1"] = sign(aud)
		return h
	}
	tc := invocationCases()[0]
	tests := []struct {
		name    string
		payload []byte
		status  int
	}{
		{"signed discovery", restateEvent("GET", "/discover", signed(map[string]string{"accept": acceptManifests}, "/discover"), nil), 200},
		{"signed invocation", restateEvent("POST", tc.path, signed(invokeHeaders(wire.V6), tc.path), tc.body), 200},
		{"unsigned discovery", restateEvent("GET", "/discover", map[string]string{"accept": acceptManifests}, nil), 401},
		{"unsigned invocation", restateEvent("POST", tc.path, invokeHeaders(wire.V6), tc.body), 401},
		{"signed for another path", restateEvent("POST", tc.path, signed(invokeHeaders(wire.V6), "/invoke/Counter/add"), tc.body), 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, body := decodeAnswer(t, api.invoke(t, tc.payload))
			if a.StatusCode != tc.status {
				t.Errorf("status %d (%s), want %d", a.StatusCode, body, tc.status)
			}
		})
	}
}

// publicKeyV1 formats a key as restate-server prints it:
// publickeyv1_<base58 of the 32 key bytes>.
func publicKeyV1(k ed25519.PublicKey) string {
	const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	var out []byte
	n, mod := new(big.Int).SetBytes(k), new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, big.NewInt(58), mod)
		out = append(out, alphabet[mod.Int64()])
	}
	for _, b := range k {
		if b != 0 {
			break
		}
		out = append(out, '1')
	}
	slices.Reverse(out)
	return "publickeyv1_" + string(out)
}
