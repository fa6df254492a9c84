package ingress

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Admin is a small client for the admin API of restate-server (port 9070
// by default): register a deployment, list, cancel and kill invocations.
// It is safe for concurrent use. Make one with [NewAdmin].
type Admin struct {
	base    string
	http    *http.Client
	authKey string
}

// NewAdmin returns a client for the admin API at adminURL, for example
// http://localhost:9070. It accepts the options of [NewClient].
func NewAdmin(adminURL string, opts ...ClientOption) *Admin {
	cfg := newClientConfig(opts)
	return &Admin{base: strings.TrimRight(adminURL, "/"), http: cfg.http, authKey: cfg.authKey}
}

// RegisterOption configures [Admin.Register].
type RegisterOption interface {
	applyRegister(*registerConfig)
}

type registerConfig struct {
	Force     bool `json:"force"`
	UseHTTP11 bool `json:"use_http_11"`
}

type registerOption func(*registerConfig)

func (o registerOption) applyRegister(c *registerConfig) { o(c) }

// WithForce replaces an existing deployment at the same URL, even when its
// services changed incompatibly. Use it during development only: in-flight
// invocations of the old deployment may fail.
func WithForce() RegisterOption {
	return registerOption(func(c *registerConfig) { c.Force = true })
}

// WithHTTP11 makes the runtime discover and invoke the deployment over
// HTTP/1.1 instead of HTTP/2 cleartext.
func WithHTTP11() RegisterOption {
	return registerOption(func(c *registerConfig) { c.UseHTTP11 = true })
}

// Deployment is a registered deployment.
type Deployment struct {
	// ID is the deployment id, dp_….
	ID string
	// Services are the names of the services the runtime discovered.
	Services []string
}

// Register registers the deployment (a Restate endpoint, such as one served
// by package h2c) at endpointURL. The runtime discovers its services before
// answering, so they are invocable when Register returns. Registering the
// same endpoint with the same services again is a no-op.
func (a *Admin) Register(ctx context.Context, endpointURL string, opts ...RegisterOption) (Deployment, error) {
	var cfg registerConfig
	for _, o := range opts {
		if o != nil {
			o.applyRegister(&cfg)
		}
	}
	req := struct {
		URI string `json:"uri"`
		registerConfig
	}{endpointURL, cfg}
	var resp struct {
		ID       string `json:"id"`
		Services []struct {
			Name string `json:"name"`
		} `json:"services"`
	}
	if err := a.do(ctx, http.MethodPost, "/deployments", req, &resp); err != nil {
		return Deployment{}, err
	}
	d := Deployment{ID: resp.ID}
	for _, s := range resp.Services {
		d.Services = append(d.Services, s.Name)
	}
	return d, nil
}

// CancelInvocation cancels the invocation id gracefully: its pending and
// future awaits fail with a terminal error with code 409, so it can run
// compensations, and it cancels its child calls. It returns once the
// runtime accepted the request.
func (a *Admin) CancelInvocation(ctx context.Context, id string) error {
	return a.do(ctx, http.MethodPatch, "/invocations/"+url.PathEscape(id)+"/cancel", nil, nil)
}

// KillInvocation ends the invocation id at once, without running any more
// of its code, and kills its child calls. Its callers get a terminal error
// with code 409.
func (a *Admin) KillInvocation(ctx context.Context, id string) error {
	return a.do(ctx, http.MethodPatch, "/invocations/"+url.PathEscape(id)+"/kill", nil, nil)
}

// InvocationFilter selects the invocations [Admin.ListInvocations]
// returns. Empty fields match everything.
type InvocationFilter struct {
	Service string
	Key     string
	Handler string
	// Status is one of pending, scheduled, ready, running, paused,
	// backing-off, suspended, completed.
	Status string
	// Limit bounds the number of rows; 0 means 100.
	Limit int
}

// InvocationInfo describes one invocation, as the runtime's sys_invocation
// table shows it.
type InvocationInfo struct {
	ID string
	// Target is service/handler or service/key/handler.
	Target                string
	Service, Key, Handler string
	// Status is pending, scheduled, ready, running, paused, backing-off,
	// suspended or completed.
	Status string
	// CompletionResult is success or failure once completed;
	// CompletionFailure is then "[code] message" for a failure.
	CompletionResult  string
	CompletionFailure string
	// CallerID is the invocation id of the handler that invoked this one,
	// "" when it came through the ingress.
	CallerID string
	// RetryCount counts the attempts that failed with a retryable error;
	// LastFailure is the last such error.
	RetryCount  int
	LastFailure string
	CreatedAt   time.Time
	ModifiedAt  time.Time
}

// ListInvocations returns the invocations matching f, most recent first,
// by querying the runtime's sys_invocation table through the admin API's
// SQL endpoint.
func (a *Admin) ListInvocations(ctx context.Context, f InvocationFilter) ([]InvocationInfo, error) {
	var where []string
	for _, c := range []struct{ col, v string }{
		{"target_service_name", f.Service}, {"target_service_key", f.Key},
		{"target_handler_name", f.Handler}, {"status", f.Status},
	} {
		if c.v != "" {
			where = append(where, c.col+" = "+sqlString(c.v))
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := "SELECT id, target, target_service_name, target_service_key, target_handler_name, status, " +
		"completion_result, completion_failure, invoked_by_id, retry_count, last_failure, created_at, modified_at FROM sys_invocation"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY created_at DESC LIMIT %d", limit)
	var resp struct {
		Rows []struct {
			ID                string    `json:"id"`
			Target            string    `json:"target"`
			Service           string    `json:"target_service_name"`
			Key               string    `json:"target_service_key"`
			Handler           string    `json:"target_handler_name"`
			Status            string    `json:"status"`
			CompletionResult  string    `json:"completion_result"`
			CompletionFailure string    `json:"completion_failure"`
			CallerID          string    `json:"invoked_by_id"`
			RetryCount        int       `json:"retry_count"`
			LastFailure       string    `json:"last_failure"`
			CreatedAt         time.Time `json:"created_at"`
			ModifiedAt        time.Time `json:"modified_at"`
		} `json:"rows"`
	}
	if err := a.do(ctx, http.MethodPost, "/query", map[string]string{"query": q}, &resp); err != nil {
		return nil, err
	}
	out := make([]InvocationInfo, len(resp.Rows))
	for i, r := range resp.Rows {
		out[i] = InvocationInfo(r)
	}
	return out, nil
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// do sends a JSON request to the admin API and decodes a JSON answer into
// out (when non-nil). Error answers become an [*Error].
func (a *Admin) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("ingress: admin %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return fmt.Errorf("ingress: admin: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if a.authKey != "" {
		req.Header.Set("Authorization", "Bearer "+a.authKey)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("ingress: admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("ingress: admin %s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb errorBody
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &eb) == nil && eb.Message != "" {
			msg = eb.Message
		}
		return &Error{StatusCode: resp.StatusCode, Message: fmt.Sprintf("admin %s %s: %s", method, path, msg)}
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("ingress: admin %s %s: decode %q: %w", method, path, data, err)
		}
	}
	return nil
}
