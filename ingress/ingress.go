// Package ingress calls Restate services from code that runs outside
// Restate, through the ingress HTTP API of restate-server, with the same
// compile-time types as calls between handlers.
//
// Every call takes a [restate.Target], which handler values return from
// their Target method, so the compiler checks the input and output types:
//
//	greeting, err := ingress.Call(ctx, client, greeter.Greet.Target(), "Alice")
//
// Entry points:
//
//   - [NewClient] makes a [Client] for an ingress URL.
//   - [Call] invokes a handler and waits for its result; [Send] starts an
//     invocation without waiting (optionally delayed with [WithDelay]) and
//     returns an [Invocation] handle; [Submit] starts a workflow.
//   - [WithIdempotencyKey] makes calls and sends idempotent; [WithHeaders]
//     adds headers the handler sees.
//   - [ByID], [ByIdempotencyKey] and [ByWorkflow] return an [Invocation]
//     handle for an invocation started earlier, to [Invocation.Attach] to it
//     (wait for its result) or read its [Invocation.Output] without waiting.
//   - [ResolveAwakeable] and [RejectAwakeable] complete awakeables.
//   - [NewAdmin] makes an [Admin] client for the admin API: register a
//     deployment, list, cancel and kill invocations.
//
// Errors: when the invocation itself failed terminally, the error is a
// *restate.TerminalError with the failure's code, message and metadata, as
// the handler returned it (an input the handler cannot decode is one too,
// with code 400). When the ingress itself refused the request (unknown
// service or handler, a private handler, an idempotency key on a workflow,
// overload), the error is an [*Error] with the HTTP status. Transport
// failures are returned as they are.
package ingress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// Client calls services through a restate-server ingress. It is safe for
// concurrent use. Make one with [NewClient].
type Client struct {
	base    string
	http    *http.Client
	authKey string
}

// ClientOption configures a [Client] or an [Admin]. A nil option of any
// kind in this package is ignored, as everywhere in the SDK.
type ClientOption interface {
	applyClient(*clientConfig)
}

type clientConfig struct {
	http    *http.Client
	authKey string
}

type clientOption func(*clientConfig)

func (o clientOption) applyClient(c *clientConfig) { o(c) }

// WithHTTPClient sets the HTTP client used for requests (default
// http.DefaultClient). Use it for timeouts, proxies or an instrumented
// transport.
func WithHTTPClient(h *http.Client) ClientOption {
	return clientOption(func(c *clientConfig) { c.http = h })
}

// WithAuthKey sends key as a bearer token with every request, as Restate
// Cloud and authenticating proxies expect.
func WithAuthKey(key string) ClientOption {
	return clientOption(func(c *clientConfig) { c.authKey = key })
}

func newClientConfig(opts []ClientOption) clientConfig {
	cfg := clientConfig{http: http.DefaultClient}
	for _, o := range opts {
		if o != nil {
			o.applyClient(&cfg)
		}
	}
	if cfg.http == nil {
		cfg.http = http.DefaultClient
	}
	return cfg
}

// NewClient returns a client for the ingress at ingressURL, for example
// http://localhost:8080. It does not contact the server.
func NewClient(ingressURL string, opts ...ClientOption) *Client {
	cfg := newClientConfig(opts)
	return &Client{base: strings.TrimRight(ingressURL, "/"), http: cfg.http, authKey: cfg.authKey}
}

// URL returns the ingress URL the client sends requests to.
func (c *Client) URL() string { return c.base }

// CallOption configures [Call]: [WithIdempotencyKey], [WithHeaders].
type CallOption interface {
	applyCall(*requestConfig)
}

// SendOption configures [Send] and [Submit]: [WithIdempotencyKey],
// [WithHeaders], [WithDelay].
type SendOption interface {
	applySend(*requestConfig)
}

// RequestOption is an option accepted by both [Call] and [Send].
type RequestOption interface {
	CallOption
	SendOption
}

type requestConfig struct {
	idempotencyKey string
	headers        map[string]string
	delay          time.Duration
}

type requestOption func(*requestConfig)

func (o requestOption) applyCall(c *requestConfig) { o(c) }
func (o requestOption) applySend(c *requestConfig) { o(c) }

type sendOption func(*requestConfig)

func (o sendOption) applySend(c *requestConfig) { o(c) }

// WithIdempotencyKey makes the request idempotent: requests to the same
// target with the same key start one invocation, and later ones get its
// result (Call) or its id with status [SendStatusPreviouslyAccepted]
// (Send). The runtime keeps the result for the handler's idempotency
// retention (default one day). Workflows are idempotent by their key and
// reject this option.
func WithIdempotencyKey(key string) RequestOption {
	return requestOption(func(c *requestConfig) { c.idempotencyKey = key })
}

// WithHeaders adds headers to the request; the handler sees them in
// Request().Headers. Repeated options add up.
func WithHeaders(h map[string]string) RequestOption {
	return requestOption(func(c *requestConfig) {
		if c.headers == nil {
			c.headers = make(map[string]string, len(h))
		}
		maps.Copy(c.headers, h)
	})
}

// WithDelay makes the runtime start the invocation after d instead of right
// away. The delay is durable: it survives restarts of the server.
func WithDelay(d time.Duration) SendOption {
	return sendOption(func(c *requestConfig) { c.delay = d })
}

// SendStatus says whether [Send] started a new invocation.
type SendStatus string

// The statuses of a send.
const (
	// SendStatusAccepted: a new invocation was started.
	SendStatusAccepted SendStatus = "Accepted"
	// SendStatusPreviouslyAccepted: the idempotency key or the workflow key
	// matched an invocation started earlier; no new invocation was started.
	SendStatusPreviouslyAccepted SendStatus = "PreviouslyAccepted"
)

// Call invokes the target with in and waits for its result. A terminal
// failure of the invocation is returned as a *restate.TerminalError with
// its code and message.
//
// The HTTP request stays open until the invocation completes, however long
// that takes: bound it with ctx, or use [Send] and [Invocation.Attach].
func Call[In, Out any](ctx context.Context, c *Client, t restate.Target[In, Out], in In, opts ...CallOption) (Out, error) {
	var cfg requestConfig
	for _, o := range opts {
		if o != nil {
			o.applyCall(&cfg)
		}
	}
	var zero Out
	body, ct, err := encodeInput(t, in)
	if err != nil {
		return zero, err
	}
	resp, err := c.do(ctx, http.MethodPost, invokePath(t, false), nil, body, ct, &cfg)
	if err != nil {
		return zero, err
	}
	out, err := t.Decode(resp)
	if err != nil {
		return zero, fmt.Errorf("ingress: cannot decode the result of %s into %T: %w", t, zero, err)
	}
	return out, nil
}

// Send starts an invocation of the target with in and returns as soon as
// the runtime has accepted it, with a handle to attach to it later. With
// [WithDelay] the invocation starts after the delay.
func Send[In, Out any](ctx context.Context, c *Client, t restate.Target[In, Out], in In, opts ...SendOption) (Invocation[Out], error) {
	var cfg requestConfig
	for _, o := range opts {
		if o != nil {
			o.applySend(&cfg)
		}
	}
	body, ct, err := encodeInput(t, in)
	if err != nil {
		return Invocation[Out]{}, err
	}
	var query url.Values
	if cfg.delay > 0 {
		// The runtime parses a "friendly" duration: 1500ms, 10s, PT1M.
		query = url.Values{"delay": {strconv.FormatInt(cfg.delay.Milliseconds(), 10) + "ms"}}
	}
	resp, err := c.do(ctx, http.MethodPost, invokePath(t, true), query, body, ct, &cfg)
	if err != nil {
		return Invocation[Out]{}, err
	}
	var sr struct {
		InvocationID string     `json:"invocationId"`
		Status       SendStatus `json:"status"`
	}
	if err := json.Unmarshal(resp, &sr); err != nil || sr.InvocationID == "" {
		return Invocation[Out]{}, fmt.Errorf("ingress: unexpected answer to send %s: %q", t, resp)
	}
	inv := ByID(c, t, sr.InvocationID)
	inv.status = sr.Status
	return inv, nil
}

// Submit starts the run handler of a workflow (t is the run handler's
// target with the workflow key) and returns a handle that attaches by the
// workflow key. A workflow key runs once: submitting it again starts
// nothing and returns status [SendStatusPreviouslyAccepted].
func Submit[In, Out any](ctx context.Context, c *Client, t restate.Target[In, Out], in In, opts ...SendOption) (Invocation[Out], error) {
	if t.Key == "" {
		return Invocation[Out]{}, fmt.Errorf("ingress: Submit %s: a workflow target needs the workflow key; use the run handler's Target(key)", t)
	}
	inv, err := Send(ctx, c, t, in, opts...)
	if err != nil {
		return inv, err
	}
	h := ByWorkflow(c, t)
	h.id, h.status = inv.id, inv.status
	return h, nil
}

// encodeInput encodes in for t. It fails with t.Err(): a handler not part
// of a service yet has no URL.
func encodeInput[In, Out any](t restate.Target[In, Out], in In) ([]byte, string, error) {
	if err := t.Err(); err != nil {
		return nil, "", err
	}
	if !t.HasInput() {
		return nil, "", nil
	}
	b, err := t.Encode(in)
	if err != nil {
		return nil, "", fmt.Errorf("ingress: cannot encode the input of %s: %w", t, err)
	}
	return b, t.ContentType(), nil
}

// invokePath returns /{service}/{key}/{handler}[/send], escaping each
// segment.
func invokePath[In, Out any](t restate.Target[In, Out], send bool) string {
	var b strings.Builder
	b.WriteString("/" + url.PathEscape(t.Service))
	if t.Key != "" {
		b.WriteString("/" + url.PathEscape(t.Key))
	}
	b.WriteString("/" + url.PathEscape(t.Handler))
	if send {
		b.WriteString("/send")
	}
	return b.String()
}

// errNotReady is returned by do for the ingress's 470 answer to /output.
var errNotReady = errors.New("ingress: the invocation has not completed yet")

// do sends one request to the ingress and returns the body of a 2xx answer.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, contentType string, cfg *requestConfig) ([]byte, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("ingress: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.authKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.authKey)
	}
	if cfg != nil {
		for k, v := range cfg.headers {
			req.Header.Set(k, v)
		}
		if cfg.idempotencyKey != "" {
			req.Header.Set("Idempotency-Key", cfg.idempotencyKey)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ingress: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("ingress: %s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	if resp.StatusCode == statusNotReady {
		return nil, errNotReady
	}
	return nil, responseError(resp, data)
}
