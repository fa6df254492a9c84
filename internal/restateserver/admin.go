package restateserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// APIError is a non-successful answer of the admin API.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	Body       string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("restateserver: admin %s %s: status %d: %s", e.Method, e.Path, e.StatusCode, e.Body)
}

// RegisterOptions tunes [Server.Register].
type RegisterOptions struct {
	// UseHTTP11 makes the runtime discover and invoke the deployment with
	// HTTP/1.1 instead of HTTP/2 prior knowledge (h2c).
	UseHTTP11 bool
	// Force overrides an existing deployment with the same URI.
	Force bool
	// AdditionalHeaders are sent by the runtime with every discovery and
	// invocation request to the deployment.
	AdditionalHeaders map[string]string
}

// RegisterResult describes a registered deployment.
type RegisterResult struct {
	// ID is the deployment id (dp_...).
	ID string
	// Services lists the names of the discovered services.
	Services []string
	// Created is true when the deployment was new (201), false when an
	// identical one already existed (200).
	Created bool
}

// Register registers the deployment served at endpointURL through
// POST {admin}/deployments. The runtime performs discovery synchronously, so
// a nil error means the services are registered and invocable.
func (s *Server) Register(ctx context.Context, endpointURL string, opts RegisterOptions) (RegisterResult, error) {
	body := map[string]any{
		"uri":         endpointURL,
		"force":       opts.Force,
		"use_http_11": opts.UseHTTP11,
	}
	if len(opts.AdditionalHeaders) > 0 {
		body["additional_headers"] = opts.AdditionalHeaders
	}
	var resp struct {
		ID       string `json:"id"`
		Services []struct {
			Name string `json:"name"`
		} `json:"services"`
	}
	status, err := s.adminJSON(ctx, http.MethodPost, "/deployments", body, &resp)
	if err != nil {
		return RegisterResult{}, err
	}
	res := RegisterResult{ID: resp.ID, Created: status == http.StatusCreated}
	for _, svc := range resp.Services {
		res.Services = append(res.Services, svc.Name)
	}
	return res, nil
}

// CancelInvocation asks the runtime to cancel an invocation gracefully
// (PATCH {admin}/invocations/{id}/cancel).
func (s *Server) CancelInvocation(ctx context.Context, invocationID string) error {
	_, err := s.adminJSON(ctx, http.MethodPatch, "/invocations/"+url.PathEscape(invocationID)+"/cancel", nil, nil)
	return err
}

// KillInvocation terminates an invocation forcefully
// (PATCH {admin}/invocations/{id}/kill).
func (s *Server) KillInvocation(ctx context.Context, invocationID string) error {
	_, err := s.adminJSON(ctx, http.MethodPatch, "/invocations/"+url.PathEscape(invocationID)+"/kill", nil, nil)
	return err
}

// Query runs a SQL query against the runtime's introspection tables (for
// example sys_invocation, sys_journal, state) through POST {admin}/query and
// returns the rows. JSON numbers decode as float64.
func (s *Server) Query(ctx context.Context, sql string) ([]map[string]any, error) {
	var resp struct {
		Rows []map[string]any `json:"rows"`
	}
	if _, err := s.adminJSON(ctx, http.MethodPost, "/query", map[string]string{"query": sql}, &resp); err != nil {
		return nil, err
	}
	if resp.Rows == nil {
		resp.Rows = []map[string]any{}
	}
	return resp.Rows, nil
}

// adminJSON sends a JSON request to the admin API and decodes a JSON answer
// into out (when non-nil). Any status outside 2xx becomes an *APIError.
func (s *Server) adminJSON(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.AdminURL()+path, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("content-type", "application/json")
	}
	req.Header.Set("accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("restateserver: admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("restateserver: admin %s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, &APIError{Method: method, Path: path, StatusCode: resp.StatusCode, Body: string(data)}
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("restateserver: admin %s %s: decode %q: %w", method, path, data, err)
		}
	}
	return resp.StatusCode, nil
}
