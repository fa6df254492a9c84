// Package h2c serves Restate services over HTTP: bidirectional streaming on
// HTTP/2 cleartext (and full-duplex HTTP/1.1), or request/response, on one
// port.
//
// [NewHandler] returns an http.Handler to mount in any mux; [ListenAndServe]
// serves it with graceful shutdown. Options: [WithRequestResponse],
// [WithIdentityKeys], [WithLogger].
//
// Routes, relative to where the handler is mounted: GET /discover (the
// endpoint manifest), POST /invoke/{service}/{handler} (one attempt of an
// invocation), GET /health.
package h2c

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Option configures the handler.
type Option func(*config)

type config struct {
	endpoint.Config
	err error
}

// WithRequestResponse serves request/response instead of bidirectional
// streaming: the runtime sends the whole journal, the handler runs until it
// ends or blocks, and suspends whenever it waits. Use it behind proxies that
// cannot stream both ways.
func WithRequestResponse() Option {
	return func(c *config) { c.Mode = endpoint.RequestResponse }
}

// WithIdentityKeys turns on request identity verification: every request
// (except /health) must carry a token signed by one of keys, formatted
// publickeyv1_…; others get 401 before any handler code runs.
func WithIdentityKeys(keys ...string) Option {
	return func(c *config) { c.IdentityKeys = append(c.IdentityKeys, keys...) }
}

// WithLogger sets the logger of the endpoint and the base logger of
// handlers (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.Logger = l }
}

// WithMaxFrameBytes bounds the size of one protocol frame (default 32 MiB,
// as the runtime's own message size limit).
func WithMaxFrameBytes(n uint32) Option {
	return func(c *config) { c.MaxFrameBytes = n }
}

// Handler is the http.Handler of a Restate deployment endpoint.
type Handler struct {
	ep      *endpoint.Endpoint
	wg      sync.WaitGroup
	mu      sync.Mutex
	closing bool
}

// NewHandler returns the endpoint serving services. It fails on duplicate
// service names and malformed identity keys.
func NewHandler(services []restate.ServiceDefinition, opts ...Option) (*Handler, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	defs := make([]*endpoint.Service, 0, len(services))
	for _, s := range services {
		if s == nil {
			return nil, errors.New("h2c: nil service")
		}
		defs = append(defs, s.Definition())
	}
	ep, err := endpoint.New(defs, c.Config)
	if err != nil {
		return nil, fmt.Errorf("h2c: %w", err)
	}
	return &Handler{ep: ep}, nil
}

func (h *Handler) log() *slog.Logger { return h.ep.Logger }

func (h *Handler) header(w http.ResponseWriter) {
	w.Header().Set("x-restate-server", h.ep.ServerHeader)
}

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("content-type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

// ServeHTTP routes discovery, invocations and health checks.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.header(w)
	kind, path, service, handler := endpoint.Route(r.URL.Path)
	if kind == endpoint.RouteHealth {
		w.Header().Set("content-type", "text/plain")
		_, _ = io.WriteString(w, "ok")
		return
	}
	if err := h.ep.Verifier.Verify(path, r.Header); err != nil {
		h.log().Warn("rejected request", "path", r.URL.Path, "error", err)
		httpError(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	switch kind {
	case endpoint.RouteDiscover:
		h.discover(w, r)
	case endpoint.RouteInvoke:
		h.invoke(w, r, service, handler)
	default:
		httpError(w, http.StatusNotFound, "not found: use /discover or /invoke/{service}/{handler}")
	}
}

func (h *Handler) discover(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		httpError(w, http.StatusMethodNotAllowed, "discovery needs GET")
		return
	}
	if r.ContentLength > 0 {
		httpError(w, http.StatusBadRequest, "discovery takes no request body")
		return
	}
	status, ct, body := h.ep.Discover(r.Header.Get("accept"), h.ep.Mode)
	if status != http.StatusOK {
		h.log().Warn("discovery failed", "status", status, "reason", string(body))
	}
	w.Header().Set("content-type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (h *Handler) invoke(w http.ResponseWriter, r *http.Request, service, handler string) {
	if r.Method != http.MethodPost {
		httpError(w, http.StatusMethodNotAllowed, "invocations need POST")
		return
	}
	v, err := wire.ParseContentType(r.Header.Get("content-type"))
	if err != nil {
		httpError(w, http.StatusUnsupportedMediaType, err.Error())
		return
	}
	_, hd, err := h.ep.Lookup(service, handler)
	if err != nil {
		httpError(w, http.StatusNotFound, err.Error())
		return
	}
	if !h.track() {
		httpError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	defer h.wg.Done()
	attempt := endpoint.Attempt{TraceParent: r.Header.Get("traceparent"), TraceState: r.Header.Get("tracestate")}
	if h.ep.Mode == endpoint.RequestResponse {
		h.requestResponse(w, r, hd, v, attempt)
		return
	}
	h.bidi(w, r, hd, v, attempt)
}

// track registers an in-flight invocation unless the handler is shutting
// down.
func (h *Handler) track() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.wg.Add(1)
	return true
}

func (h *Handler) requestResponse(w http.ResponseWriter, r *http.Request, hd *endpoint.Handler, v wire.Version, a endpoint.Attempt) {
	body, err := io.ReadAll(io.LimitReader(r.Body, h.ep.MaxBodyBytes+1))
	if err != nil {
		h.log().Warn("reading the request body failed", "error", err)
		httpError(w, http.StatusBadRequest, "cannot read the request body: "+err.Error())
		return
	}
	if int64(len(body)) > h.ep.MaxBodyBytes {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", h.ep.MaxBodyBytes))
		return
	}
	out := h.ep.RunBuffered(r.Context(), hd, v, body, a)
	w.Header().Set("content-type", v.ContentType())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// bidi serves one attempt as a bidirectional stream. The request's own
// goroutine reads the replayed journal, then a reader goroutine keeps
// feeding notifications while the handler goroutine runs and writes; both
// are awaited before returning.
func (h *Handler) bidi(w http.ResponseWriter, r *http.Request, hd *endpoint.Handler, v wire.Version, a endpoint.Attempt) {
	rc := http.NewResponseController(w)
	if r.ProtoMajor == 1 {
		if err := rc.EnableFullDuplex(); err != nil {
			httpError(w, http.StatusInternalServerError, "bidirectional streaming over HTTP/1.1 needs full duplex: "+err.Error())
			return
		}
	}
	m := h.ep.NewMachine(v)
	buf := make([]byte, 32<<10)
	for !m.Ready() && !m.Closed() {
		n, err := r.Body.Read(buf)
		if n > 0 {
			_ = m.FeedBytes(buf[:n])
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				h.log().Warn("reading the replayed journal failed", "error", err)
			}
			_ = m.CloseInput()
			break
		}
	}
	w.Header().Set("content-type", v.ContentType())
	w.WriteHeader(http.StatusOK)
	if !m.Ready() {
		// The attempt failed before the handler could start; the engine wrote
		// an ErrorMessage saying why.
		_, _ = w.Write(m.TakeOutput())
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	inv := invocation.New(r.Context(), m, func(frames []byte) error {
		if _, err := w.Write(frames); err != nil {
			return err
		}
		return rc.Flush()
	})
	h.ep.Prepare(inv, a)

	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				_ = inv.Feed(buf[:n])
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !isBodyClosed(err) {
					h.log().Debug("request body ended", "error", err)
				}
				inv.CloseInput()
				return
			}
		}
	}()
	inv.Start(hd.Invoke)
	<-inv.Done()
	// Unblock the reader: the runtime usually ends the request body after our
	// last frame, but it does not have to.
	select {
	case <-readerDone:
	default:
		if err := rc.SetReadDeadline(time.Now()); err != nil {
			_ = r.Body.Close()
		}
		<-readerDone
	}
	if err := inv.WriteErr(); err != nil {
		h.log().Debug("writing the response failed", "error", err)
	}
}

func isBodyClosed(err error) bool {
	return errors.Is(err, http.ErrBodyReadAfterClose) || errors.Is(err, os.ErrDeadlineExceeded) ||
		strings.Contains(err.Error(), "body closed by handler")
}

// Shutdown stops accepting invocations and waits until the in-flight ones
// finish or suspend, or ctx ends.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
