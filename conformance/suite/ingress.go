package suite

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Target addresses a handler of a service, virtual object or workflow.
type Target struct {
	Service string
	// Key is the object or workflow key; empty for plain services.
	Key     string
	Handler string
}

// ServiceTarget addresses a handler of a plain (stateless) service.
func ServiceTarget(service, handler string) Target {
	return Target{Service: service, Handler: handler}
}

// ObjectTarget addresses a handler of a keyed service (virtual object or
// workflow).
func ObjectTarget(service, key, handler string) Target {
	return Target{Service: service, Key: key, Handler: handler}
}

// path returns the ingress path of the target, e.g. /Counter/k/add.
func (t Target) path() string {
	if t.Key == "" {
		return "/" + url.PathEscape(t.Service) + "/" + url.PathEscape(t.Handler)
	}
	return "/" + url.PathEscape(t.Service) + "/" + url.PathEscape(t.Key) + "/" + url.PathEscape(t.Handler)
}

// String implements fmt.Stringer.
func (t Target) String() string { return strings.TrimPrefix(t.path(), "/") }

// CallOption tunes an ingress request.
type CallOption func(*callOptions)

type callOptions struct {
	idempotencyKey string
	headers        map[string]string
	delay          time.Duration
}

// IdempotencyKey sets the idempotency-key header.
func IdempotencyKey(key string) CallOption {
	return func(o *callOptions) { o.idempotencyKey = key }
}

// Idempotent sets a fresh random idempotency key, like the Kotlin suite's
// idempotentCallOptions used on almost every call.
func Idempotent() CallOption { return IdempotencyKey(NewUUID()) }

// Header adds a request header.
func Header(name, value string) CallOption {
	return func(o *callOptions) {
		if o.headers == nil {
			o.headers = map[string]string{}
		}
		o.headers[name] = value
	}
}

// Delay asks the ingress to schedule a one-way send after d (only for
// [Ingress.Send]).
func Delay(d time.Duration) CallOption {
	return func(o *callOptions) { o.delay = d }
}

// Raw is a request body sent as is, with content-type
// application/octet-stream.
type Raw []byte

// Bytes is a byte slice encoded in JSON as an array of numbers (one per
// byte), the encoding the test-services use for ByteArray fields.
type Bytes []byte

// MarshalJSON implements json.Marshaler.
func (b Bytes) MarshalJSON() ([]byte, error) {
	ints := make([]int, len(b))
	for i, c := range b {
		ints[i] = int(c)
	}
	return json.Marshal(ints)
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var ints []int
	if err := json.Unmarshal(data, &ints); err != nil {
		return err
	}
	out := make([]byte, len(ints))
	for i, v := range ints {
		if v < 0 || v > 255 {
			return fmt.Errorf("byte array element %d out of range: %d", i, v)
		}
		out[i] = byte(v)
	}
	*b = out
	return nil
}

// JSONBytes returns the JSON encoding of v, panicking on failure (only used
// with values that always encode).
func JSONBytes(v any) Bytes {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// NewUUID returns a random (version 4) UUID string.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Response is a successful ingress answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into out.
func (r *Response) JSON(out any) error {
	if err := json.Unmarshal(r.Body, out); err != nil {
		return fmt.Errorf("decode response %q: %w", r.Body, err)
	}
	return nil
}

// IngressError is a non-2xx ingress answer. Restate encodes failures as
// {"code": ..., "message": ..., "metadata": {...}}; those fields are decoded
// when present.
type IngressError struct {
	Method   string
	Path     string
	Status   int
	Body     []byte
	Code     int
	Message  string
	Metadata map[string]string
}

// Error implements error. It contains the response body, so that checks
// like "the error message contains X" behave as with the Java client.
func (e *IngressError) Error() string {
	return fmt.Sprintf("ingress %s %s: status %d: %s", e.Method, e.Path, e.Status, strings.TrimSpace(string(e.Body)))
}

// SendResponse is the answer to a one-way send.
type SendResponse struct {
	InvocationID string `json:"invocationId"`
	// Status is "Accepted" or "PreviouslyAccepted".
	Status string `json:"status"`
}

// Ingress is a small client of the Restate ingress HTTP API.
type Ingress struct {
	// URL is the ingress base URL without trailing slash.
	URL    string
	Client *http.Client
}

// NewIngress returns a client for the ingress at baseURL.
func NewIngress(baseURL string) *Ingress {
	return &Ingress{URL: strings.TrimSuffix(baseURL, "/"), Client: &http.Client{}}
}

// encodeBody turns a call input into a body and content type: nil means no
// body, Raw is sent as octet-stream, json.RawMessage as is, anything else is
// JSON-encoded.
func encodeBody(input any) (io.Reader, string, error) {
	switch v := input.(type) {
	case nil:
		return nil, "", nil
	case Raw:
		return bytes.NewReader(v), "application/octet-stream", nil
	case json.RawMessage:
		return bytes.NewReader(v), "application/json", nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, "", err
		}
		return bytes.NewReader(b), "application/json", nil
	}
}

// do performs a request and turns non-2xx answers into *IngressError.
func (in *Ingress) do(ctx context.Context, method, path string, input any, opts []CallOption) (*Response, error) {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	body, contentType, err := encodeBody(input)
	if err != nil {
		return nil, err
	}
	if o.delay > 0 {
		path += "?delay=" + strconv.FormatInt(o.delay.Milliseconds(), 10) + "ms"
	}
	req, err := http.NewRequestWithContext(ctx, method, in.URL+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("content-type", contentType)
	}
	if o.idempotencyKey != "" {
		req.Header.Set("idempotency-key", o.idempotencyKey)
	}
	for k, v := range o.headers {
		req.Header.Set(k, v)
	}
	client := in.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ingress %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("ingress %s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newIngressError(method, path, resp.StatusCode, data)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// newIngressError builds an *IngressError, decoding the Restate error body
// when it is one.
func newIngressError(method, path string, status int, body []byte) *IngressError {
	e := &IngressError{Method: method, Path: path, Status: status, Body: body}
	var decoded struct {
		Code     int               `json:"code"`
		Message  string            `json:"message"`
		Metadata map[string]string `json:"metadata"`
	}
	if json.Unmarshal(body, &decoded) == nil {
		e.Code, e.Message, e.Metadata = decoded.Code, decoded.Message, decoded.Metadata
	}
	return e
}

// Call invokes the target and waits for its result.
func (in *Ingress) Call(ctx context.Context, t Target, input any, opts ...CallOption) (*Response, error) {
	return in.do(ctx, http.MethodPost, t.path(), input, opts)
}

// Send invokes the target without waiting (POST .../send).
func (in *Ingress) Send(ctx context.Context, t Target, input any, opts ...CallOption) (SendResponse, error) {
	resp, err := in.do(ctx, http.MethodPost, t.path()+"/send", input, opts)
	if err != nil {
		return SendResponse{}, err
	}
	var sr SendResponse
	if err := resp.JSON(&sr); err != nil {
		return SendResponse{}, err
	}
	return sr, nil
}

// AttachInvocation waits for the invocation with the given id and returns
// its result (GET /restate/invocation/{id}/attach).
func (in *Ingress) AttachInvocation(ctx context.Context, invocationID string) (*Response, error) {
	return in.do(ctx, http.MethodGet, "/restate/invocation/"+url.PathEscape(invocationID)+"/attach", nil, nil)
}

// InvocationOutput returns the result of a completed invocation without
// waiting (GET /restate/invocation/{id}/output).
func (in *Ingress) InvocationOutput(ctx context.Context, invocationID string) (*Response, error) {
	return in.do(ctx, http.MethodGet, "/restate/invocation/"+url.PathEscape(invocationID)+"/output", nil, nil)
}

// idempotentPath is /restate/invocation/{target}/{idempotencyKey}.
func idempotentPath(t Target, idempotencyKey string) string {
	return "/restate/invocation" + t.path() + "/" + url.PathEscape(idempotencyKey)
}

// IdempotentAttach waits for the invocation of t made with idempotencyKey.
func (in *Ingress) IdempotentAttach(ctx context.Context, t Target, idempotencyKey string) (*Response, error) {
	return in.do(ctx, http.MethodGet, idempotentPath(t, idempotencyKey)+"/attach", nil, nil)
}

// IdempotentOutput returns the result of the invocation of t made with
// idempotencyKey.
func (in *Ingress) IdempotentOutput(ctx context.Context, t Target, idempotencyKey string) (*Response, error) {
	return in.do(ctx, http.MethodGet, idempotentPath(t, idempotencyKey)+"/output", nil, nil)
}

// WorkflowAttach waits for the workflow run of name/key and returns its
// result.
func (in *Ingress) WorkflowAttach(ctx context.Context, name, key string) (*Response, error) {
	return in.do(ctx, http.MethodGet, "/restate/workflow/"+url.PathEscape(name)+"/"+url.PathEscape(key)+"/attach", nil, nil)
}

// WorkflowOutput returns the result of the completed workflow run of
// name/key.
func (in *Ingress) WorkflowOutput(ctx context.Context, name, key string) (*Response, error) {
	return in.do(ctx, http.MethodGet, "/restate/workflow/"+url.PathEscape(name)+"/"+url.PathEscape(key)+"/output", nil, nil)
}

// Call invokes t through in and decodes the JSON result as T.
func Call[T any](ctx context.Context, in *Ingress, t Target, input any, opts ...CallOption) (T, error) {
	var out T
	resp, err := in.Call(ctx, t, input, opts...)
	if err != nil {
		return out, err
	}
	err = resp.JSON(&out)
	return out, err
}

// Decode decodes the JSON body of a response returned together with err,
// passing err through.
func Decode[T any](resp *Response, err error) (T, error) {
	var out T
	if err != nil {
		return out, err
	}
	err = resp.JSON(&out)
	return out, err
}
