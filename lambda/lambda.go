// Package lambda serves Restate services on AWS Lambda, in request/response
// mode, with the same services and the same behaviour as package h2c.
//
// [NewHandler] builds a [Handler] from service definitions and options
// ([WithIdentityKeys], [WithLogger], [WithMaxFrameBytes],
// [WithMaxBodyBytes]). [Handler.Invoke] takes one Lambda event, a
// [Request], and answers it with a [Response]; both are plain JSON-tagged
// structs, so the standard Go runtime of github.com/aws/aws-lambda-go runs
// it in one line of user code:
//
//	lambda.Start(h.Invoke)
//
// This package does not import aws-lambda-go (or any AWS SDK): the event
// and response types are declared here, and only the user's main package
// depends on the runtime client.
//
// Events understood by [Handler.Invoke]:
//   - the payload restate-server sends when it invokes a function directly
//     (a deployment registered by its function ARN): path, httpMethod, flat
//     headers and the base64 body;
//   - API Gateway REST API (payload format 1.0) proxy events: headers and
//     multiValueHeaders;
//   - API Gateway HTTP API (payload format 2.0) and Lambda Function URL
//     events: rawPath, requestContext.http.method and comma-joined headers.
//
// Routes are those of h2c, matched on the end of the path so that a mount
// prefix such as an API Gateway stage is ignored: GET /discover (the
// endpoint manifest, which always advertises REQUEST_RESPONSE: Lambda cannot
// stream and restate-server refuses a bidirectional deployment behind
// Lambda), POST /invoke/{service}/{handler} (one attempt of an invocation)
// and GET /health. Only /health itself (or /{stage}/health in an HTTP
// API's rawPath) is served without identity verification. Bad requests get the status code and message h2c would
// send (400, 401, 404, 405, 413, 415); handler failures are reported inside
// a 200 response as protocol error messages, as on any request/response
// transport. Invoke never returns a non-nil error, so a Lambda function
// error always means the function itself crashed or timed out.
//
// Behind an API Gateway REST API, set the API's binary media types to */*:
// otherwise the gateway hands binary request bodies to the function as text
// and does not decode the base64 response. HTTP APIs and Function URLs need
// nothing of the kind.
//
// Because the runtime sends the whole journal at once and reads the answer
// afterwards, every await that the journal does not already answer suspends
// the invocation, and every [restate.Run] result is proposed and then
// followed by a suspension: correct, at the cost of one Lambda invocation per
// step.
//
// The endpoint manifest does not advertise lambdaCompression: this package
// does not implement zstd (the standard library has none, and the runtime
// only compresses requests above 4 MiB). A request that arrives compressed
// anyway gets 415.
package lambda

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Request is a Lambda event addressed to a Restate endpoint: the payload
// restate-server sends when it invokes a function, or an API Gateway (REST
// or HTTP API) or Function URL proxy event. Fields of other event formats
// are ignored.
type Request struct {
	// Path is the request path (restate-server, API Gateway REST API).
	Path string `json:"path"`
	// RawPath is the request path of API Gateway HTTP API and Function URL
	// events; it is used when Path is empty.
	RawPath string `json:"rawPath"`
	// HTTPMethod is the request method (restate-server, API Gateway REST
	// API); when empty, RequestContext.HTTP.Method is used.
	HTTPMethod string `json:"httpMethod"`
	// Headers are the request headers, one value per name (several values
	// joined with commas in HTTP API events). Names match case-insensitively.
	Headers map[string]string `json:"headers"`
	// MultiValueHeaders are the request headers of API Gateway REST API
	// events; for a name present in both, they win over Headers.
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	// Body is the request body, standard base64 when IsBase64Encoded is
	// true, the body itself otherwise.
	Body            string `json:"body"`
	IsBase64Encoded bool   `json:"isBase64Encoded"`
	// RequestContext carries the method of HTTP API and Function URL events.
	RequestContext RequestContext `json:"requestContext"`
}

// RequestContext is the part of an event's requestContext this package
// reads.
type RequestContext struct {
	HTTP RequestHTTP `json:"http"`
	// Stage is the API Gateway stage; an HTTP API's rawPath starts with it
	// unless it is $default, and /{stage}/health is then the health check.
	Stage string `json:"stage"`
}

// RequestHTTP is requestContext.http of HTTP API and Function URL events.
type RequestHTTP struct {
	Method string `json:"method"`
}

// Response is the answer to a [Request], in the shape restate-server, API
// Gateway and Function URLs all accept. Protocol frames travel base64
// encoded with IsBase64Encoded set. Text bodies (the JSON manifest, error
// messages, health) travel as they are, so that they stay readable in logs
// and pass through an API Gateway REST API that has no binary media types
// configured.
type Response struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers,omitempty"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// Option configures a [Handler]. A nil Option is ignored.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	endpoint.Config
}

func newConfig(opts []Option) config {
	c := config{Config: endpoint.Config{Mode: endpoint.RequestResponse}}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	// Lambda cannot stream both ways; no option may change that.
	c.Mode = endpoint.RequestResponse
	return c
}

// WithIdentityKeys turns on request identity verification, exactly as in
// h2c: every request (except /health) must carry a token signed by one of
// keys, formatted publickeyv1_…, whose audience is the request path after
// any mount prefix; others get 401 before any handler code runs. Without
// keys every request is accepted, so restrict who may invoke the function.
func WithIdentityKeys(keys ...string) Option {
	return optionFunc(func(c *config) { c.IdentityKeys = append(c.IdentityKeys, keys...) })
}

// WithLogger sets the logger of the endpoint and the base logger of
// handlers (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.Logger = l })
}

// WithMaxFrameBytes bounds the size of one protocol frame (default 32 MiB,
// as the runtime's own message size limit).
func WithMaxFrameBytes(n uint32) Option {
	return optionFunc(func(c *config) { c.MaxFrameBytes = n })
}

// WithMaxBodyBytes bounds the decoded request body of an invocation
// (default 33 MiB); a larger one gets 413. AWS itself caps synchronous
// Lambda payloads at 6 MB, so the default only matters behind other event
// sources.
func WithMaxBodyBytes(n int64) Option {
	return optionFunc(func(c *config) { c.MaxBodyBytes = n })
}

// lambdaPayloadLimit is AWS Lambda's limit on a synchronous response
// payload; a larger response fails the invocation on the AWS side.
const lambdaPayloadLimit = 6 << 20

// Handler serves a Restate deployment endpoint as a Lambda function. It is
// safe for concurrent use.
type Handler struct {
	ep *endpoint.Endpoint
}

// NewHandler returns the endpoint serving services. It fails on a nil or
// duplicate service and on malformed identity keys.
func NewHandler(services []restate.ServiceDefinition, opts ...Option) (*Handler, error) {
	c := newConfig(opts)
	defs := make([]*endpoint.Service, 0, len(services))
	for _, s := range services {
		if s == nil {
			return nil, errors.New("lambda: nil service")
		}
		defs = append(defs, s.Definition())
	}
	ep, err := endpoint.New(defs, c.Config)
	if err != nil {
		return nil, fmt.Errorf("lambda: %w", err)
	}
	if !ep.Verifier.Enabled() {
		ep.Logger.Warn("accepting requests without verifying request identity; restrict who may invoke the function, or use WithIdentityKeys")
	}
	return &Handler{ep: ep}, nil
}

// Invoke answers one event: discovery, an invocation attempt or a health
// check. Pass it to lambda.Start. The invocation's handler runs with ctx,
// which carries the function's deadline. The error is always nil: bad
// requests are answered with a 4xx status and a text body, handler failures
// in-band inside a 200 response.
func (h *Handler) Invoke(ctx context.Context, req Request) (Response, error) {
	path := req.Path
	if path == "" {
		path = req.RawPath
	}
	kind, normalized, service, handler := endpoint.RouteMounted(path, req.mountPoint())
	if kind == endpoint.RouteHealth {
		return h.respond(http.StatusOK, "text/plain", "ok"), nil
	}
	header := req.header()
	if err := h.ep.Verifier.Verify(normalized, header); err != nil {
		if ok, n := h.ep.Rejected.Allow(time.Now()); ok {
			h.ep.Logger.Warn("rejected request (at most one such line per 10s)", "path", path, "error", err, "suppressed", n)
		}
		return h.failure(http.StatusUnauthorized, "Unauthorized"), nil
	}
	switch kind {
	case endpoint.RouteDiscover:
		return h.discover(req, header), nil
	case endpoint.RouteInvoke:
		return h.invoke(ctx, req, header, service, handler), nil
	}
	return h.failure(http.StatusNotFound, "not found: use /discover or /invoke/{service}/{handler}"), nil
}

// mountPoint is the stage prefix of an HTTP API's rawPath, or "".
func (r *Request) mountPoint() string {
	if r.Path != "" || r.RequestContext.Stage == "" || r.RequestContext.Stage == "$default" {
		return ""
	}
	return "/" + r.RequestContext.Stage
}

func (r *Request) method() string {
	if r.HTTPMethod != "" {
		return r.HTTPMethod
	}
	return r.RequestContext.HTTP.Method
}

// header merges the event's headers into an http.Header, whose lookups are
// case-insensitive. Names are visited in sorted order so that the result
// does not depend on map iteration.
func (r *Request) header() http.Header {
	h := make(http.Header, len(r.Headers)+len(r.MultiValueHeaders))
	for _, k := range slices.Sorted(maps.Keys(r.MultiValueHeaders)) {
		for _, v := range r.MultiValueHeaders[k] {
			h.Add(k, v)
		}
	}
	fromMulti := make(map[string]bool, len(h))
	for k := range h {
		fromMulti[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(r.Headers)) {
		if ck := textproto.CanonicalMIMEHeaderKey(k); !fromMulti[ck] {
			h.Add(ck, r.Headers[k])
		}
	}
	return h
}

func (h *Handler) respond(status int, contentType, body string) Response {
	return Response{
		StatusCode: status,
		Headers:    map[string]string{"content-type": contentType, "x-restate-server": h.ep.ServerHeader},
		Body:       body,
	}
}

func (h *Handler) failure(status int, msg string) Response {
	return h.respond(status, "text/plain; charset=utf-8", msg)
}

func (h *Handler) discover(req Request, header http.Header) Response {
	if req.method() != http.MethodGet {
		return h.failure(http.StatusMethodNotAllowed, "discovery needs GET")
	}
	if req.Body != "" {
		return h.failure(http.StatusBadRequest, "discovery takes no request body")
	}
	status, ct, body := h.ep.Discover(header.Get("accept"), endpoint.RequestResponse)
	if status != http.StatusOK {
		h.ep.Logger.Warn("discovery failed", "status", status, "reason", string(body))
	}
	return h.respond(status, ct, string(body))
}

func (h *Handler) invoke(ctx context.Context, req Request, header http.Header, service, handler string) Response {
	if req.method() != http.MethodPost {
		return h.failure(http.StatusMethodNotAllowed, "invocations need POST")
	}
	v, err := wire.ParseContentType(header.Get("content-type"))
	if err != nil {
		return h.failure(http.StatusUnsupportedMediaType, err.Error())
	}
	if enc := header.Get("content-encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return h.failure(http.StatusUnsupportedMediaType, fmt.Sprintf("content-encoding %q is not supported: this endpoint does not advertise lambdaCompression", enc))
	}
	_, hd, err := h.ep.Lookup(service, handler)
	if err != nil {
		return h.failure(http.StatusNotFound, err.Error())
	}
	body, status, msg := h.body(req)
	if status != 0 {
		return h.failure(status, msg)
	}
	attempt := endpoint.Attempt{TraceParent: header.Get("traceparent"), TraceState: header.Get("tracestate")}
	out := h.ep.RunBuffered(ctx, hd, v, body, attempt)
	resp := h.respond(http.StatusOK, v.ContentType(), base64.StdEncoding.EncodeToString(out))
	resp.IsBase64Encoded = true
	if n := len(resp.Body); n > lambdaPayloadLimit {
		h.ep.Logger.Warn("the response is larger than AWS Lambda's 6 MB payload limit; the attempt will fail", "service", service, "handler", handler, "bytes", n)
	}
	return resp
}

// body decodes the request body, or returns the status and message of the
// failure. The encoded length is checked first, so an oversized body is
// refused without decoding it.
func (h *Handler) body(req Request) ([]byte, int, string) {
	limit := h.ep.MaxBodyBytes
	tooLarge := fmt.Sprintf("request body over %d bytes", limit)
	if !req.IsBase64Encoded {
		if int64(len(req.Body)) > limit {
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		return []byte(req.Body), 0, ""
	}
	if int64(base64.StdEncoding.DecodedLen(len(req.Body))) > limit+2 {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, http.StatusBadRequest, "cannot read the request body: isBase64Encoded is true but the body is not standard base64: " + err.Error()
	}
	if int64(len(b)) > limit {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	return b, 0, ""
}
