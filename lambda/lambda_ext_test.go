package lambda_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/lambda"
	"github.com/qcodr/restate-sdk-go/wire"
)

// The tests drive Handler.Invoke with events decoded from JSON in the exact
// shapes AWS delivers them, and read answers back through JSON in the shape
// restate-server decodes (restate crates/service-client/src/lambda.rs,
// ApiGatewayProxyRequest and ApiGatewayProxyResponse).

var (
	invocationID = []byte{0, 0, 0, 0, 0, 0, 0, 0x2a, 0x01, 0x96, 0xf1, 0xc2, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8, 0x09, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}
	debugID      = "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"
	quiet        = lambda.WithLogger(slog.New(slog.DiscardHandler))
)

func greeter() *restate.Service {
	greet := restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
		return "Hello " + name + "!", nil
	})
	// ticket issues one side effect: over Lambda its result is proposed,
	// the attempt suspends, and the next attempt replays it.
	ticket := restate.NewHandler("ticket", func(ctx restate.Context, name string) (string, error) {
		id, err := restate.Run(ctx, func(restate.RunContext) (string, error) { return "T-1", nil }, restate.WithName("issue"))
		return name + ":" + id, err
	})
	boom := restate.NewHandler("boom", func(ctx restate.Context, name string) (string, error) {
		panic("kaboom")
	})
	return restate.NewService("Greeter", greet, ticket, boom)
}

func newHandler(t *testing.T, opts ...lambda.Option) *lambda.Handler {
	t.Helper()
	h, err := lambda.NewHandler([]restate.ServiceDefinition{greeter()}, append([]lambda.Option{quiet}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// frames encodes a request body: a StartMessage announcing the journal,
// then the journal.
func frames(journal ...wire.Message) []byte {
	start := &wire.StartMessage{ID: invocationID, DebugID: debugID, KnownEntries: uint32(len(journal)), PartialState: true}
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

// event returns the request restate-server sends when it invokes a Lambda
// function: it is decoded from JSON, so the field names are checked too.
func event(t *testing.T, method, path string, headers map[string]string, body []byte) lambda.Request {
	t.Helper()
	if headers == nil {
		headers = map[string]string{}
	}
	return decodeEvent(t, map[string]any{
		"path":            path,
		"httpMethod":      method,
		"headers":         headers,
		"body":            base64.StdEncoding.EncodeToString(body),
		"isBase64Encoded": true,
	})
}

func decodeEvent(t *testing.T, v any) lambda.Request {
	t.Helper()
	var raw []byte
	switch v := v.(type) {
	case string:
		raw = []byte(v)
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	var req lambda.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatalf("decoding the event: %v", err)
	}
	return req
}

// answer is a response as restate-server reads it.
type answer struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

func invoke(t *testing.T, h *lambda.Handler, req lambda.Request) answer {
	t.Helper()
	resp, err := h.Invoke(context.Background(), req)
	if err != nil {
		t.Fatalf("Invoke returned an error: %v", err)
	}
	raw, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		StatusCode      int               `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		Body            *string           `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		t.Fatal(err)
	}
	a := answer{Status: wire.StatusCode, Headers: wire.Headers}
	if wire.Body != nil {
		a.Body = []byte(*wire.Body)
		if wire.IsBase64Encoded {
			if a.Body, err = base64.StdEncoding.DecodeString(*wire.Body); err != nil {
				t.Fatalf("response body is not base64: %v", err)
			}
		}
	}
	if a.Headers["x-restate-server"] == "" {
		t.Errorf("response without x-restate-server header: %v", a.Headers)
	}
	return a
}

func invokeHeaders(v wire.Version) map[string]string {
	return map[string]string{
		"content-type":            v.ContentType(),
		"accept":                  v.ContentType(),
		"x-restate-invocation-id": debugID,
		"x-restate-cluster-name":  "localcluster",
	}
}

const acceptAll = "application/vnd.restate.endpointmanifest.v1+json, application/vnd.restate.endpointmanifest.v2+json, application/vnd.restate.endpointmanifest.v3+json, application/vnd.restate.endpointmanifest.v4+json"

func TestDiscovery(t *testing.T) {
	t.Parallel()
	h := newHandler(t)
	for v := 1; v <= 4; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			t.Parallel()
			accept := endpoint.ManifestContentType(v)
			if v == 4 {
				accept = acceptAll
			}
			got := invoke(t, h, event(t, "GET", "/discover", map[string]string{"accept": accept, "x-restate-cluster-name": "localcluster"}, nil))
			if got.Status != http.StatusOK {
				t.Fatalf("status %d: %s", got.Status, got.Body)
			}
			if ct := got.Headers["content-type"]; ct != endpoint.ManifestContentType(v) {
				t.Errorf("content-type %q, want %q", ct, endpoint.ManifestContentType(v))
			}
			var m struct {
				ProtocolMode       string `json:"protocolMode"`
				MinProtocolVersion int    `json:"minProtocolVersion"`
				MaxProtocolVersion int    `json:"maxProtocolVersion"`
				LambdaCompression  string `json:"lambdaCompression"`
				Services           []struct {
					Name     string `json:"name"`
					Ty       string `json:"ty"`
					Handlers []struct {
						Name string `json:"name"`
					} `json:"handlers"`
				} `json:"services"`
			}
			if err := json.Unmarshal(got.Body, &m); err != nil {
				t.Fatalf("manifest: %v\n%s", err, got.Body)
			}
			// restate-server refuses a BIDI_STREAM deployment behind Lambda
			// (BidirectionalNotSupported), and this package never advertises
			// zstd compression.
			if m.ProtocolMode != "REQUEST_RESPONSE" || m.LambdaCompression != "" {
				t.Errorf("protocolMode %q, lambdaCompression %q; want REQUEST_RESPONSE and none", m.ProtocolMode, m.LambdaCompression)
			}
			if m.MinProtocolVersion != 5 || m.MaxProtocolVersion != 7 {
				t.Errorf("protocol versions %d..%d, want 5..7", m.MinProtocolVersion, m.MaxProtocolVersion)
			}
			if len(m.Services) != 1 || m.Services[0].Name != "Greeter" || m.Services[0].Ty != "SERVICE" || len(m.Services[0].Handlers) != 3 {
				t.Errorf("services: %+v", m.Services)
			}
		})
	}
}

func TestInvocation(t *testing.T) {
	t.Parallel()
	h := newHandler(t)
	for _, v := range []wire.Version{wire.V5, wire.V6, wire.V7} {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			body := frames(&wire.InputCommand{Value: []byte(`"Alice"`)})
			got := invoke(t, h, event(t, "POST", "/invoke/Greeter/greet", invokeHeaders(v), body))
			if got.Status != http.StatusOK {
				t.Fatalf("status %d: %s", got.Status, got.Body)
			}
			if diff := cmp.Diff(map[string]string{"content-type": v.ContentType(), "x-restate-server": got.Headers["x-restate-server"]}, got.Headers); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			want := []wire.Message{
				&wire.OutputCommand{Result: wire.ValueResult([]byte(`"Hello Alice!"`))},
				&wire.EndMessage{},
			}
			if diff := cmp.Diff(want, decodeFrames(t, got.Body)); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSuspensionThenReplay(t *testing.T) {
	t.Parallel()
	h := newHandler(t)
	input := &wire.InputCommand{Value: []byte(`"Alice"`)}
	run := &wire.RunCommand{ResultCompletionID: 1, Name: "issue"}

	// First attempt: the input is closed, so the proposed run result cannot
	// be acknowledged in this attempt and the handler suspends on it.
	got := invoke(t, h, event(t, "POST", "/invoke/Greeter/ticket", invokeHeaders(wire.V6), frames(input)))
	if got.Status != http.StatusOK {
		t.Fatalf("status %d: %s", got.Status, got.Body)
	}
	want := []wire.Message{
		run,
		&wire.ProposeRunCompletionMessage{ResultCompletionID: 1, Result: wire.ValueResult([]byte(`"T-1"`))},
		// Signal 1 is the built-in cancellation signal: a suspended
		// invocation also wakes up to be cancelled.
		&wire.SuspensionMessage{WaitingCompletions: []uint32{1}, WaitingSignals: []uint32{1}},
	}
	if diff := cmp.Diff(want, decodeFrames(t, got.Body)); diff != "" {
		t.Fatalf("first attempt frames (-want +got):\n%s", diff)
	}

	// Second attempt: the runtime stored the proposal and sends it back in
	// the journal; the handler completes without running the closure again.
	body := frames(input, run, &wire.Notification{
		MessageType: wire.TypeRunCompletion,
		ID:          wire.CompletionID(1),
		Result:      wire.ValueResult([]byte(`"T-1"`)),
	})
	got = invoke(t, h, event(t, "POST", "/invoke/Greeter/ticket", invokeHeaders(wire.V6), body))
	if got.Status != http.StatusOK {
		t.Fatalf("status %d: %s", got.Status, got.Body)
	}
	want = []wire.Message{
		&wire.OutputCommand{Result: wire.ValueResult([]byte(`"Alice:T-1"`))},
		&wire.EndMessage{},
	}
	if diff := cmp.Diff(want, decodeFrames(t, got.Body)); diff != "" {
		t.Errorf("replay frames (-want +got):\n%s", diff)
	}
}

func TestHandlerPanicIsReportedInBand(t *testing.T) {
	t.Parallel()
	h := newHandler(t)
	got := invoke(t, h, event(t, "POST", "/invoke/Greeter/boom", invokeHeaders(wire.V6), frames(&wire.InputCommand{Value: []byte(`"x"`)})))
	if got.Status != http.StatusOK {
		t.Fatalf("status %d: %s", got.Status, got.Body)
	}
	msgs := decodeFrames(t, got.Body)
	if len(msgs) != 1 {
		t.Fatalf("want one ErrorMessage, got %d frames: %v", len(msgs), msgs)
	}
	e, ok := msgs[0].(*wire.ErrorMessage)
	if !ok || e.Code != 500 || !strings.Contains(e.Message, "kaboom") {
		t.Errorf("want a retryable ErrorMessage 500 naming the panic, got %#v", msgs[0])
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	// Health checks are exempt from identity verification, as in h2c.
	h := newHandler(t, lambda.WithIdentityKeys(endpoint.FormatPublicKey(newKey(t).pub)))
	got := invoke(t, h, event(t, "GET", "/health", nil, nil))
	if got.Status != http.StatusOK || string(got.Body) != "ok" || got.Headers["content-type"] != "text/plain" {
		t.Errorf("health: %d %q %v", got.Status, got.Body, got.Headers)
	}
	// Only exactly /health (or /{stage}/health of an HTTP API) is exempt.
	if got := invoke(t, h, event(t, "GET", "/prefix/health", nil, nil)); got.Status != http.StatusUnauthorized {
		t.Errorf("/prefix/health: %d %q, want 401", got.Status, got.Body)
	}
	staged := func(stage, raw string) lambda.Request {
		return decodeEvent(t, map[string]any{
			"rawPath":        raw,
			"requestContext": map[string]any{"stage": stage, "http": map[string]any{"method": "GET"}},
		})
	}
	if got := invoke(t, h, staged("prod", "/prod/health")); got.Status != http.StatusOK {
		t.Errorf("/prod/health at stage prod: %d %q, want 200", got.Status, got.Body)
	}
	if got := invoke(t, h, staged("prod", "/other/health")); got.Status != http.StatusUnauthorized {
		t.Errorf("/other/health at stage prod: %d %q, want 401", got.Status, got.Body)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	const limit = 64
	h := newHandler(t, lambda.WithMaxBodyBytes(limit))
	v6 := invokeHeaders(wire.V6)
	with := func(k, v string) map[string]string {
		m := invokeHeaders(wire.V6)
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	body := frames(&wire.InputCommand{Value: []byte(`"Alice"`)})
	tests := []struct {
		name   string
		req    lambda.Request
		status int
		msg    string // the start of the text body
	}{
		{"non-base64 body", lambda.Request{Path: "/invoke/Greeter/greet", HTTPMethod: "POST", Headers: v6, Body: "not base64!", IsBase64Encoded: true},
			400, "cannot read the request body: isBase64Encoded is true but the body is not standard base64"},
		{"unknown path", event(t, "POST", "/call/Greeter/greet", v6, body), 404, "not found: use /discover or /invoke/{service}/{handler}"},
		{"empty path", event(t, "POST", "", v6, body), 404, "not found"},
		{"three segments", event(t, "POST", "/invoke/Greeter/greet/more", v6, body), 404, "not found"},
		{"unknown service", event(t, "POST", "/invoke/Nope/greet", v6, body), 404, `service "Nope" not found`},
		{"unknown handler", event(t, "POST", "/invoke/Greeter/nope", v6, body), 404, `handler "nope" not found in service "Greeter"`},
		{"missing content type", event(t, "POST", "/invoke/Greeter/greet", with("content-type", ""), body), 415, "wire:"},
		{"version too old", event(t, "POST", "/invoke/Greeter/greet", with("content-type", "application/vnd.restate.invocation.v4"), body), 415, "wire: service protocol version 4 is not supported"},
		{"version too new", event(t, "POST", "/invoke/Greeter/greet", with("content-type", "application/vnd.restate.invocation.v8"), body), 415, "wire: service protocol version 8 is not supported"},
		{"not a restate type", event(t, "POST", "/invoke/Greeter/greet", with("content-type", "application/json"), body), 415, "wire:"},
		{"zstd body", event(t, "POST", "/invoke/Greeter/greet", with("content-encoding", "zstd"), body), 415, `content-encoding "zstd" is not supported`},
		{"GET invoke", event(t, "GET", "/invoke/Greeter/greet", v6, body), 405, "invocations need POST"},
		{"POST discover", event(t, "POST", "/discover", map[string]string{"accept": acceptAll}, nil), 405, "discovery needs GET"},
		{"discover with body", event(t, "GET", "/discover", map[string]string{"accept": acceptAll}, []byte("x")), 400, "discovery takes no request body"},
		{"discover without accept", event(t, "GET", "/discover", nil, nil), 415, "missing accept header"},
		{"discover unknown version", event(t, "GET", "/discover", map[string]string{"accept": "application/vnd.restate.endpointmanifest.v9+json"}, nil), 415, "unsupported manifest versions"},
		{"oversized body", event(t, "POST", "/invoke/Greeter/greet", v6, make([]byte, 4*limit)), 413, "request body over 64 bytes"},
		{"oversized by one", event(t, "POST", "/invoke/Greeter/greet", v6, make([]byte, limit+1)), 413, "request body over 64 bytes"},
		{"oversized plain body", lambda.Request{Path: "/invoke/Greeter/greet", HTTPMethod: "POST", Headers: v6, Body: strings.Repeat("x", limit+1)},
			413, "request body over 64 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, h, tc.req)
			if got.Status != tc.status || !strings.HasPrefix(string(got.Body), tc.msg) {
				t.Errorf("got %d %q, want %d %q…", got.Status, got.Body, tc.status, tc.msg)
			}
			if ct := got.Headers["content-type"]; !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("content-type %q, want text/plain", ct)
			}
		})
	}
}

type key struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newKey(t *testing.T) key {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key{pub, priv}
}

// token signs a request identity JWT the way restate-server does.
func (k key) token(aud string, iat time.Time, leeway time.Duration) string {
	enc := base64.RawURLEncoding
	hdr, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "EdDSA", "kid": endpoint.FormatPublicKey(k.pub)})
	claims, _ := json.Marshal(map[string]any{"aud": aud, "iat": iat.Unix(), "nbf": iat.Add(-leeway).Unix(), "exp": iat.Add(leeway).Unix()})
	signed := enc.EncodeToString(hdr) + "." + enc.EncodeToString(claims)
	return signed + "." + enc.EncodeToString(ed25519.Sign(k.priv, []byte(signed)))
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	trusted, other := newKey(t), newKey(t)
	h := newHandler(t, lambda.WithIdentityKeys(endpoint.FormatPublicKey(trusted.pub)))
	now := time.Now()
	body := frames(&wire.InputCommand{Value: []byte(`"Alice"`)})
	signed := func(tok string, extra ...string) map[string]string {
		m := invokeHeaders(wire.V6)
		m["x-restate-signature-scheme"] = "v1"
		m["x-restate-jwt-v1"] = tok
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	valid := trusted.token("/invoke/Greeter/greet", now, time.Minute)
	tests := []struct {
		name   string
		req    lambda.Request
		status int
	}{
		{"valid", event(t, "POST", "/invoke/Greeter/greet", signed(valid), body), 200},
		{"valid behind a stage prefix", event(t, "POST", "/prod/invoke/Greeter/greet", signed(valid), body), 200},
		{"valid with capitalised names", event(t, "POST", "/invoke/Greeter/greet", map[string]string{
			"Content-Type": wire.V6.ContentType(), "X-Restate-Signature-Scheme": "v1", "X-Restate-Jwt-V1": valid}, body), 200},
		{"valid discovery", event(t, "GET", "/discover", map[string]string{
			"accept": acceptAll, "x-restate-signature-scheme": "v1", "x-restate-jwt-v1": trusted.token("/discover", now, time.Minute)}, nil), 200},
		{"no identity headers", event(t, "POST", "/invoke/Greeter/greet", invokeHeaders(wire.V6), body), 401},
		{"discovery without identity", event(t, "GET", "/discover", map[string]string{"accept": acceptAll}, nil), 401},
		{"unsigned scheme", event(t, "POST", "/invoke/Greeter/greet", signed(valid, "x-restate-signature-scheme", "unsigned"), body), 401},
		{"scheme without token", event(t, "POST", "/invoke/Greeter/greet", signed(""), body), 401},
		{"other key", event(t, "POST", "/invoke/Greeter/greet", signed(other.token("/invoke/Greeter/greet", now, time.Minute)), body), 401},
		{"other audience", event(t, "POST", "/invoke/Greeter/greet", signed(trusted.token("/invoke/Greeter/other", now, time.Minute)), body), 401},
		{"expired", event(t, "POST", "/invoke/Greeter/greet", signed(trusted.token("/invoke/Greeter/greet", now.Add(-time.Hour), time.Minute)), body), 401},
		{"not yet valid", event(t, "POST", "/invoke/Greeter/greet", signed(trusted.token("/invoke/Greeter/greet", now.Add(time.Hour), time.Minute)), body), 401},
		{"tampered", event(t, "POST", "/invoke/Greeter/greet", signed(valid[:len(valid)-4]+"AAAA"), body), 401},
		{"two schemes", lambda.Request{Path: "/invoke/Greeter/greet", HTTPMethod: "POST", Body: base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
			MultiValueHeaders: map[string][]string{
				"Content-Type": {wire.V6.ContentType()}, "X-Restate-Signature-Scheme": {"v1", "v1"}, "X-Restate-Jwt-V1": {valid},
			}}, 401},
		{"unknown path is rejected before routing", event(t, "POST", "/nope", invokeHeaders(wire.V6), body), 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, h, tc.req)
			if got.Status != tc.status {
				t.Fatalf("status %d (%s), want %d", got.Status, got.Body, tc.status)
			}
			if tc.status == 401 && string(got.Body) != "Unauthorized" {
				t.Errorf("body %q, want Unauthorized", got.Body)
			}
		})
	}
}

// TestGatewayEvents feeds API Gateway and Function URL events, as AWS
// documents them, through JSON.
func TestGatewayEvents(t *testing.T) {
	t.Parallel()
	trusted := newKey(t)
	h := newHandler(t, lambda.WithIdentityKeys(endpoint.FormatPublicKey(trusted.pub)))
	now := time.Now()
	tok := trusted.token("/invoke/Greeter/greet", now, time.Minute)
	body := base64.StdEncoding.EncodeToString(frames(&wire.InputCommand{Value: []byte(`"Alice"`)}))
	want := []wire.Message{
		&wire.OutputCommand{Result: wire.ValueResult([]byte(`"Hello Alice!"`))},
		&wire.EndMessage{},
	}
	tests := []struct{ name, event string }{
		{"REST API v1, stage outside path", `{
			"resource": "/{proxy+}",
			"path": "/invoke/Greeter/greet",
			"httpMethod": "POST",
			"headers": {"Content-Type": "application/vnd.restate.invocation.v6", "X-Restate-Signature-Scheme": "v1", "X-Restate-Jwt-V1": "` + tok + `", "Host": "abc.execute-api.eu-west-1.amazonaws.com"},
			"multiValueHeaders": {"Content-Type": ["application/vnd.restate.invocation.v6"], "X-Restate-Signature-Scheme": ["v1"], "X-Restate-Jwt-V1": ["` + tok + `"], "Host": ["abc.execute-api.eu-west-1.amazonaws.com"]},
			"queryStringParameters": null,
			"pathParameters": {"proxy": "invoke/Greeter/greet"},
			"stageVariables": null,
			"requestContext": {"resourcePath": "/{proxy+}", "httpMethod": "POST", "path": "/prod/invoke/Greeter/greet", "stage": "prod"},
			"body": "` + body + `",
			"isBase64Encoded": true
		}`},
		{"REST API v1, multiValueHeaders only", `{
			"path": "/invoke/Greeter/greet",
			"httpMethod": "POST",
			"multiValueHeaders": {"content-type": ["application/vnd.restate.invocation.v6"], "x-restate-signature-scheme": ["v1"], "x-restate-jwt-v1": ["` + tok + `"]},
			"body": "` + body + `",
			"isBase64Encoded": true
		}`},
		{"HTTP API v2, named stage in rawPath", `{
			"version": "2.0",
			"routeKey": "ANY /prod/{proxy+}",
			"rawPath": "/prod/invoke/Greeter/greet",
			"rawQueryString": "",
			"headers": {"content-type": "application/vnd.restate.invocation.v6", "accept": "application/vnd.restate.invocation.v6", "x-restate-signature-scheme": "v1", "x-restate-jwt-v1": "` + tok + `", "x-forwarded-for": "203.0.113.1,10.0.0.1"},
			"requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
				"http": {"method": "POST", "path": "/prod/invoke/Greeter/greet", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "restate"},
				"requestId": "id", "routeKey": "ANY /prod/{proxy+}", "stage": "prod", "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390},
			"body": "` + body + `",
			"isBase64Encoded": true
		}`},
		{"Function URL", `{
			"version": "2.0",
			"routeKey": "$default",
			"rawPath": "/invoke/Greeter/greet",
			"rawQueryString": "",
			"headers": {"content-type": "application/vnd.restate.invocation.v6", "x-restate-signature-scheme": "v1", "x-restate-jwt-v1": "` + tok + `", "host": "abc.lambda-url.eu-west-1.on.aws"},
			"requestContext": {"http": {"method": "POST", "path": "/invoke/Greeter/greet", "protocol": "HTTP/1.1"}, "stage": "$default"},
			"body": "` + body + `",
			"isBase64Encoded": true
		}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, h, decodeEvent(t, tc.event))
			if got.Status != http.StatusOK {
				t.Fatalf("status %d: %s", got.Status, got.Body)
			}
			if ct := got.Headers["content-type"]; ct != wire.V6.ContentType() {
				t.Errorf("content-type %q", ct)
			}
			if diff := cmp.Diff(want, decodeFrames(t, got.Body)); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHeaderMerging(t *testing.T) {
	t.Parallel()
	h := newHandler(t)
	body := frames(&wire.InputCommand{Value: []byte(`"Alice"`)})
	tests := []struct {
		name string
		req  lambda.Request
		want int
	}{
		// API Gateway v1 sends both maps; multiValueHeaders win, here with
		// the only valid content type.
		{"multiValueHeaders win", lambda.Request{
			Path: "/invoke/Greeter/greet", HTTPMethod: "POST", Body: string(body),
			Headers:           map[string]string{"content-type": "application/json"},
			MultiValueHeaders: map[string][]string{"Content-Type": {wire.V6.ContentType()}},
		}, 200},
		{"headers fill in what multiValueHeaders lack", lambda.Request{
			Path: "/invoke/Greeter/greet", HTTPMethod: "POST", Body: string(body),
			Headers:           map[string]string{"CONTENT-TYPE": wire.V6.ContentType()},
			MultiValueHeaders: map[string][]string{"Host": {"example.com"}},
		}, 200},
		// A body that is not base64 encoded is taken as it is.
		{"plain body, method from requestContext", lambda.Request{
			RawPath: "/invoke/Greeter/greet", Body: string(body),
			Headers:        map[string]string{"Content-Type": wire.V6.ContentType()},
			RequestContext: lambda.RequestContext{HTTP: lambda.RequestHTTP{Method: "POST"}},
		}, 200},
		{"path wins over rawPath", lambda.Request{
			Path: "/invoke/Greeter/greet", RawPath: "/nope", HTTPMethod: "POST", Body: string(body),
			Headers: map[string]string{"content-type": wire.V6.ContentType()},
		}, 200},
		{"trailing slash", lambda.Request{
			Path: "/invoke/Greeter/greet/", HTTPMethod: "POST", Body: string(body),
			Headers: map[string]string{"content-type": wire.V6.ContentType()},
		}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, h, tc.req)
			if got.Status != tc.want {
				t.Fatalf("status %d (%s), want %d", got.Status, got.Body, tc.want)
			}
			want := []wire.Message{
				&wire.OutputCommand{Result: wire.ValueResult([]byte(`"Hello Alice!"`))},
				&wire.EndMessage{},
			}
			if diff := cmp.Diff(want, decodeFrames(t, got.Body)); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewHandlerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		services []restate.ServiceDefinition
		opts     []lambda.Option
	}{
		{"nil service", []restate.ServiceDefinition{nil}, nil},
		{"duplicate service", []restate.ServiceDefinition{greeter(), greeter()}, nil},
		{"malformed key", []restate.ServiceDefinition{greeter()}, []lambda.Option{lambda.WithIdentityKeys("publickeyv1_0OIl")}},
		{"key without prefix", []restate.ServiceDefinition{greeter()}, []lambda.Option{lambda.WithIdentityKeys("abc")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := lambda.NewHandler(tc.services, append([]lambda.Option{quiet}, tc.opts...)...)
			if err == nil || h != nil || !strings.HasPrefix(err.Error(), "lambda: ") {
				t.Errorf("got %v, %v; want nil and an error starting with lambda:", h, err)
			}
		})
	}
}

// TestNewHandlerRejectsSmallOrderKey checks that a small-order identity key
// (here all zero bytes, a plausible placeholder) makes NewHandler fail
// instead of accepting forged tokens.
func TestNewHandlerRejectsSmallOrderKey(t *testing.T) {
	_, err := lambda.NewHandler([]restate.ServiceDefinition{greeter()}, quiet,
		lambda.WithIdentityKeys("publickeyv1_11111111111111111111111111111111"))
	if err == nil || !strings.Contains(err.Error(), "small-order") {
		t.Fatalf("NewHandler with an all-zero key: error %v, want a small-order error", err)
	}
}

// TestNilOptionIgnored: a nil Option is skipped, as everywhere in the SDK,
// instead of dereferenced; the options beside it still apply.
func TestNilOptionIgnored(t *testing.T) {
	t.Parallel()
	h := newHandler(t, nil, lambda.WithIdentityKeys(), nil)
	body := frames(&wire.InputCommand{Value: []byte(`"Nil"`)})
	got := invoke(t, h, event(t, "POST", "/invoke/Greeter/greet", invokeHeaders(wire.V5), body))
	if got.Status != http.StatusOK {
		t.Fatalf("status %d: %s", got.Status, got.Body)
	}
	want := []wire.Message{&wire.OutputCommand{Result: wire.ValueResult([]byte(`"Hello Nil!"`))}, &wire.EndMessage{}}
	if diff := cmp.Diff(want, decodeFrames(t, got.Body)); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
}
