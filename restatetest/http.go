package restatetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/wire"
)

// IngressClient returns an ingress client whose requests the environment
// serves in process, without a network: every function of package ingress
// works against it as against restate-server, so a test written for the
// real server runs here unchanged. See [Env.IngressHandler] for what is
// served.
func (e *Env) IngressClient() *ingress.Client {
	return ingress.NewClient("http://ingress.restatetest", ingress.WithHTTPClient(&http.Client{Transport: inProcess{e.IngressHandler()}}))
}

// AdminClient returns an admin client whose requests the environment
// serves in process. See [Env.AdminHandler] for what is served.
func (e *Env) AdminClient() *ingress.Admin {
	return ingress.NewAdmin("http://admin.restatetest", ingress.WithHTTPClient(&http.Client{Transport: inProcess{e.AdminHandler()}}))
}

// inProcess is an http.RoundTripper that calls a handler directly.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	_ = r.Body.Close()
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// IngressHandler returns an http.Handler that serves the ingress HTTP API
// of restate-server for the environment, with the same status codes,
// headers (x-restate-id, x-restate-error-source) and JSON bodies:
//
//   - POST /{service}/{handler} and /{service}/{key}/{handler} call a
//     handler; with /send appended they start it and answer 202 with the
//     invocation id (the delay query parameter delays it; the
//     Idempotency-Key header deduplicates);
//   - GET /restate/invocation/{id}/attach and …/output,
//     /restate/invocation/{service}[/{key}]/{handler}/{idempotency key}/…
//     and /restate/workflow/{name}/{key}/… attach to an invocation or read
//     its output (470 when it has not completed);
//   - POST /restate/awakeables/{id}/resolve and …/reject.
//
// A call that waits for a paused invocation gets a 500 answer from the
// ingress, where restate-server would keep waiting.
func (e *Env) IngressHandler() http.Handler { return ingressHandler{e} }

type ingressHandler struct{ e *Env }

// segments splits an escaped path into unescaped segments.
func segments(escaped string) ([]string, error) {
	parts := strings.Split(strings.Trim(escaped, "/"), "/")
	for i, p := range parts {
		s, err := url.PathUnescape(p)
		if err != nil {
			return nil, err
		}
		parts[i] = s
	}
	return parts, nil
}

const badServicePath = "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler"

func (h ingressHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs, err := segments(r.URL.EscapedPath())
	if err != nil {
		ingressError(w, 400, fmt.Sprintf("bad path, cannot decode key: %v", err))
		return
	}
	if segs[0] == "restate" && len(segs) > 1 {
		switch segs[1] {
		case "awakeables":
			h.awakeable(w, r, segs[2:])
		case "invocation":
			h.invocation(w, r, segs[2:])
		case "workflow":
			h.workflow(w, r, segs[2:])
		default:
			ingressError(w, 404, "not found")
		}
		return
	}
	h.invoke(w, r, segs)
}

func (h ingressHandler) invoke(w http.ResponseWriter, r *http.Request, segs []string) {
	e := h.e
	if r.Method != http.MethodPost {
		ingressError(w, 405, "method not allowed")
		return
	}
	svc := e.services[segs[0]]
	if svc == nil {
		ingressError(w, 404, fmt.Sprintf("service '%s' not found, make sure to register the service before calling it.", segs[0]))
		return
	}
	var key, handler string
	send := false
	switch n := len(segs); {
	case svc.Kind != endpoint.KindService && (n == 3 || n == 4 && segs[3] == "send"):
		key, handler, send = segs[1], segs[2], n == 4
	case svc.Kind == endpoint.KindService && (n == 2 || n == 3 && segs[2] == "send"):
		handler, send = segs[1], n == 3
	default:
		ingressError(w, 400, badServicePath)
		return
	}
	hd := svc.Handler(handler)
	if hd == nil {
		ingressError(w, 404, fmt.Sprintf("the service '%s' exists, but the handler '%s' was not found, check that the handler exists in the latest registered service version.", svc.Name, handler))
		return
	}
	var delay time.Duration
	if d := r.URL.Query().Get("delay"); d != "" {
		if !send {
			ingressError(w, 400, "cannot use the delay query parameter with calls. The delay is supported only with sends")
			return
		}
		var err error
		if delay, err = parseDelay(d); err != nil {
			ingressError(w, 400, fmt.Sprintf("bad delay query parameter, must be a ISO8601 duration: %v", err))
			return
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		ingressError(w, 500, fmt.Sprintf("cannot read body: %v", err))
		return
	}
	if ct := r.Header.Get("content-type"); hd.Input.None && (len(body) > 0 || ct != "") {
		ingressError(w, 400, fmt.Sprintf("input validation error: Expected body and content-type to be empty, but wasn't with content-type '%s'", ct))
		return
	}
	q := request{service: svc.Name, handler: handler, key: key, idem: r.Header.Get("idempotency-key"), failAt: -1, ingress: true}
	if len(body) > 0 {
		q.input = body
	}
	q.headers = append(q.headers, wire.HeaderEntry{Key: "x-restate-ingress-path", Value: r.URL.RequestURI()})
	for _, k := range slices.Sorted(maps.Keys(r.Header)) {
		lk := strings.ToLower(k)
		if lk == "connection" || lk == "host" || lk == "idempotency-key" || lk == "idempotency-expires" {
			continue
		}
		for _, v := range r.Header[k] {
			q.headers = append(q.headers, wire.HeaderEntry{Key: lk, Value: v})
		}
	}
	if send {
		h.send(w, r.Context(), q, delay)
		return
	}
	id, res, err := e.call(r.Context(), q)
	if err != nil {
		clientError(w, err)
		return
	}
	writeResult(w, id, hd, res)
}

func (h ingressHandler) send(w http.ResponseWriter, ctx context.Context, q request, delay time.Duration) {
	id, status, err := h.e.send(ctx, q, delay)
	if err != nil {
		clientError(w, err)
		return
	}
	resp := struct {
		InvocationID  string             `json:"invocationId"`
		ExecutionTime string             `json:"executionTime,omitempty"`
		Status        ingress.SendStatus `json:"status"`
	}{InvocationID: id, Status: status}
	if delay > 0 {
		if in, ok := h.e.Invocation(id); ok && in.Status == "scheduled" {
			resp.ExecutionTime = in.CreatedAt.Add(delay).UTC().Format("2006-01-02T15:04:05.000000000Z")
		}
	}
	w.Header().Set("x-restate-id", id)
	writeJSON(w, http.StatusAccepted, resp)
}

// parseDelay parses the delay query parameter: a Go duration ("1500ms",
// "10s", "1h") or an ISO 8601 duration of days, hours, minutes and
// seconds ("PT60S", "P1DT2H").
func parseDelay(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	rest, ok := strings.CutPrefix(strings.ToUpper(s), "P")
	if !ok || rest == "" {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	var total time.Duration
	inTime := false
	num := ""
	for _, c := range rest {
		switch {
		case c == 'T':
			inTime = true
		case c >= '0' && c <= '9' || c == '.':
			num += string(c)
		default:
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			unit := map[rune]time.Duration{'D': 24 * time.Hour, 'H': time.Hour, 'M': time.Minute, 'S': time.Second}[c]
			if !inTime && c == 'M' || unit == 0 {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			total += time.Duration(f * float64(unit))
			num = ""
		}
	}
	if num != "" {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return total, nil
}

func (h ingressHandler) awakeable(w http.ResponseWriter, r *http.Request, segs []string) {
	if len(segs) != 2 || segs[1] != "resolve" && segs[1] != "reject" {
		ingressError(w, 400, "bad path, expected either /restate/awakeables/:id/resolve or /restate/awakeables/:id/reject")
		return
	}
	if r.Method != http.MethodPost {
		ingressError(w, 405, "method not allowed")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		ingressError(w, 500, fmt.Sprintf("cannot read body: %v", err))
		return
	}
	res := wire.ValueResult(append([]byte{}, body...))
	if segs[1] == "reject" {
		res = wire.FailureResult(500, string(body))
	}
	if err := h.e.completeAwakeable(r.Context(), segs[0], res); err != nil {
		clientError(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (h ingressHandler) invocation(w http.ResponseWriter, r *http.Request, segs []string) {
	var find func(*Env) *record
	switch len(segs) {
	case 2:
		id := segs[0]
		if err := checkInvocationID(id); err != nil {
			ingressError(w, 400, fmt.Sprintf("bad invocation id '%s': %v", id, err))
			return
		}
		find = func(e *Env) *record { return e.records[id] }
	case 4, 5:
		k := idemKey{service: segs[0], handler: segs[len(segs)-3], idem: segs[len(segs)-2]}
		if len(segs) == 5 {
			k.key = segs[1]
		}
		find = func(e *Env) *record { return e.idem[k] }
	default:
		ingressError(w, 400, "bad path, expected either /restate/invocation/:invocation_id/output or /restate/invocation/:invocation_id/attach or /restate/invocation/:invocation_target/:idempotency_key/output or /restate/invocation/:invocation_target/:idempotency_key/attach")
		return
	}
	h.lookup(w, r, segs[len(segs)-1], find)
}

func (h ingressHandler) workflow(w http.ResponseWriter, r *http.Request, segs []string) {
	if len(segs) != 3 {
		ingressError(w, 400, "bad path, expected either /restate/workflow/:workflow_name/:workflow_key/output or /restate/workflow/:workflow_name/:workflow_key/attach")
		return
	}
	k := objectKey{segs[0], segs[1]}
	h.lookup(w, r, segs[2], func(e *Env) *record {
		if o := e.objects[k]; o != nil {
			return o.run
		}
		return nil
	})
}

// lookup answers attach and output requests.
func (h ingressHandler) lookup(w http.ResponseWriter, r *http.Request, op string, find func(*Env) *record) {
	if op != "attach" && op != "output" {
		ingressError(w, 404, "not found")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		ingressError(w, 405, "method not allowed")
		return
	}
	if op == "output" {
		rec, res, done := h.e.output(find)
		switch {
		case rec == nil:
			ingressError(w, 404, "invocation not found")
		case !done:
			ingressError(w, 470, "the invocation exists but has not completed yet")
		default:
			writeResult(w, rec.id, rec.h, res)
		}
		return
	}
	rec, res, err := h.e.attach(r.Context(), find)
	switch {
	case err != nil:
		clientError(w, err)
	case rec == nil:
		writeFailure(w, "", failureNotFound.Failure)
	default:
		writeResult(w, rec.id, rec.h, res)
	}
}

// writeResult answers with an invocation's result, as the ingress does.
func writeResult(w http.ResponseWriter, id string, h *endpoint.Handler, res wire.Result) {
	if res.Kind == wire.ResultFailure {
		writeFailure(w, id, res.Failure)
		return
	}
	if id != "" {
		w.Header().Set("x-restate-id", id)
	}
	if !h.Output.None && (len(res.Value) > 0 || h.Output.SetContentTypeIfEmpty) && h.Output.ContentType != "" {
		w.Header().Set("content-type", h.Output.ContentType)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Value)
}

// writeFailure answers with the terminal failure of an invocation.
func writeFailure(w http.ResponseWriter, id string, f wire.Failure) {
	if id != "" {
		w.Header().Set("x-restate-id", id)
	}
	body := struct {
		Code     uint32            `json:"code"`
		Message  string            `json:"message"`
		Metadata map[string]string `json:"metadata,omitempty"`
		Source   string            `json:"source"`
	}{Code: f.Code, Message: f.Message, Source: "invocation"}
	for _, m := range f.Metadata {
		if body.Metadata == nil {
			body.Metadata = map[string]string{}
		}
		body.Metadata[m.Key] = m.Value
	}
	status := int(f.Code)
	if status < 100 || status > 999 {
		status = 500
	}
	w.Header().Set("x-restate-error-source", "invocation")
	writeJSON(w, status, body)
}

// ingressError answers with an error of the ingress itself.
func ingressError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("x-restate-error-source", "ingress")
	writeJSON(w, status, struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Source  string `json:"source"`
	}{status, msg, "ingress"})
}

// clientError answers with the error a client operation returned.
func clientError(w http.ResponseWriter, err error) {
	var ie *ingress.Error
	switch {
	case errors.As(err, &ie):
		ingressError(w, ie.StatusCode, ie.Message)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		ingressError(w, 408, err.Error()) // the client is gone
	default:
		ingressError(w, 500, err.Error())
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`{"message":"cannot encode the answer"}`)
	}
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// AdminHandler returns an http.Handler serving the part of restate-server's
// admin API that tests use, with its status codes and messages:
//
//   - PATCH /invocations/{id}/cancel and …/kill ([Env.CancelInvocation],
//     [Env.KillInvocation]);
//   - POST /deployments accepts any registration and lists the
//     environment's services (they are always registered);
//   - POST /query runs a small subset of SQL over the sys_invocation and
//     state tables: SELECT columns (or *) FROM table, WHERE conditions
//     "column = 'value'" joined with AND, ORDER BY one column, LIMIT;
//   - GET /services, /services/{name}, /services/{name}/handlers and
//     /services/{name}/handlers/{handler} describe the services: kinds,
//     documentation, metadata, JSON schemas;
//   - GET /health.
func (e *Env) AdminHandler() http.Handler { return adminHandler{e} }

type adminHandler struct{ e *Env }

func (h adminHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs, err := segments(r.URL.EscapedPath())
	if err != nil {
		adminError(w, 400, err.Error())
		return
	}
	switch {
	case len(segs) == 3 && segs[0] == "invocations" && (segs[2] == "cancel" || segs[2] == "kill"):
		if r.Method != http.MethodPatch {
			adminError(w, 405, "method not allowed")
			return
		}
		fn := h.e.CancelInvocation
		if segs[2] == "kill" {
			fn = h.e.KillInvocation
		}
		if err := fn(r.Context(), segs[1]); err != nil {
			var ie *ingress.Error
			if errors.As(err, &ie) {
				adminError(w, ie.StatusCode, ie.Message)
			} else {
				adminError(w, 500, err.Error())
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	case len(segs) == 1 && segs[0] == "deployments" && r.Method == http.MethodPost:
		type svc struct {
			Name string `json:"name"`
		}
		resp := struct {
			ID       string `json:"id"`
			Services []svc  `json:"services"`
		}{ID: "dp_restatetest"}
		for _, name := range slices.Sorted(maps.Keys(h.e.services)) {
			resp.Services = append(resp.Services, svc{name})
		}
		writeJSON(w, http.StatusCreated, resp)
	case len(segs) == 1 && segs[0] == "query" && r.Method == http.MethodPost:
		var req struct {
			Query string `json:"query"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			adminError(w, 400, fmt.Sprintf("cannot decode the query: %v", err))
			return
		}
		rows, err := h.e.query(req.Query)
		if err != nil {
			adminError(w, 400, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Rows []map[string]any `json:"rows"`
		}{rows})
	case len(segs) >= 1 && segs[0] == "services" && r.Method == http.MethodGet:
		h.services(w, segs[1:])
	case len(segs) == 1 && segs[0] == "health":
		w.WriteHeader(http.StatusOK)
	default:
		adminError(w, 404, "not found")
	}
}

// services answers GET /services, /services/{name},
// /services/{name}/handlers and /services/{name}/handlers/{handler} with
// what the environment knows of the services, in the shape of the admin
// API's service and handler metadata.
func (h adminHandler) services(w http.ResponseWriter, segs []string) {
	if len(segs) == 0 {
		var list []map[string]any
		for _, name := range slices.Sorted(maps.Keys(h.e.services)) {
			list = append(list, serviceMetadata(h.e.services[name]))
		}
		writeJSON(w, http.StatusOK, map[string]any{"services": list})
		return
	}
	svc := h.e.services[segs[0]]
	if svc == nil {
		adminError(w, 404, fmt.Sprintf("The requested service '%s' does not exist", segs[0]))
		return
	}
	switch {
	case len(segs) == 1:
		writeJSON(w, http.StatusOK, serviceMetadata(svc))
	case len(segs) == 2 && segs[1] == "handlers":
		var list []map[string]any
		for _, hd := range svc.Handlers {
			list = append(list, handlerMetadata(svc, hd))
		}
		writeJSON(w, http.StatusOK, map[string]any{"handlers": list})
	case len(segs) == 3 && segs[1] == "handlers":
		hd := svc.Handler(segs[2])
		if hd == nil {
			adminError(w, 404, fmt.Sprintf("The requested handler '%s' does not exist", segs[2]))
			return
		}
		writeJSON(w, http.StatusOK, handlerMetadata(svc, hd))
	default:
		adminError(w, 404, "not found")
	}
}

func serviceMetadata(svc *endpoint.Service) map[string]any {
	ty := map[endpoint.ServiceKind]string{endpoint.KindService: "Service", endpoint.KindVirtualObject: "VirtualObject", endpoint.KindWorkflow: "Workflow"}[svc.Kind]
	var handlers []map[string]any
	for _, hd := range svc.Handlers {
		handlers = append(handlers, handlerMetadata(svc, hd))
	}
	m := map[string]any{"name": svc.Name, "ty": ty, "handlers": handlers, "public": !private(svc, &endpoint.Handler{}),
		"deployment_id": "dp_restatetest", "revision": 1}
	if svc.Options.Documentation != "" {
		m["documentation"] = svc.Options.Documentation
	}
	if len(svc.Options.Metadata) > 0 {
		m["metadata"] = svc.Options.Metadata
	}
	return m
}

func handlerMetadata(svc *endpoint.Service, hd *endpoint.Handler) map[string]any {
	ty := "Shared"
	switch {
	case hd.Kind == endpoint.HandlerWorkflow:
		ty = "Workflow"
	case exclusive(svc, hd):
		ty = "Exclusive"
	}
	m := map[string]any{"name": hd.Name, "ty": ty, "public": !private(svc, hd),
		"input_description": payloadDescription(hd.Input), "output_description": payloadDescription(hd.Output)}
	if hd.Options.Documentation != "" {
		m["documentation"] = hd.Options.Documentation
	}
	if len(hd.Options.Metadata) > 0 {
		m["metadata"] = hd.Options.Metadata
	}
	if hd.Input.Schema != nil {
		m["input_json_schema"] = hd.Input.Schema
	}
	if hd.Output.Schema != nil {
		m["output_json_schema"] = hd.Output.Schema
	}
	return m
}

func payloadDescription(p endpoint.Payload) string {
	if p.None {
		return "none"
	}
	return fmt.Sprintf("value with content-type '%s'", p.ContentType)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Message     string `json:"message"`
		RestateCode *int   `json:"restate_code"`
	}{Message: msg})
}
