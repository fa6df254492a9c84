// Package h2c serves Restate services over HTTP: bidirectional streaming on
// HTTP/2 cleartext (and full-duplex HTTP/1.1), or request/response, on one
// port.
//
// [NewHandler] returns an http.Handler to mount in any mux or framework;
// [ListenAndServe] and [Serve] serve it with graceful shutdown, and
// [NewServer] returns the http.Server they use. Options:
// [WithRequestResponse], [WithIdentityKeys], [WithLogger],
// [WithMaxFrameBytes], [WithMaxBodyBytes], [WithJournalTimeout],
// [WithShutdownTimeout].
//
// Routes, relative to where the handler is mounted (a mount prefix needs no
// stripping): GET /discover (the endpoint manifest), POST
// /invoke/{service}/{handler} (one attempt of an invocation), GET /health.
// Only /health is served without identity verification, and only exactly:
// "/health", or the mount point followed by "/health" when the handler is
// mounted on an http.ServeMux pattern such as "/restate/" (which it learns
// from Request.Pattern). Under other routers mount it with
// http.StripPrefix to keep an unverified health check.
//
// Each invocation runs its handler on the request's own goroutine. In
// bidirectional mode over HTTP/2 the handler reads notifications from the
// request body on that goroutine while it waits for them, so a parked
// invocation costs one goroutine, as a bare net/http handler does, and its
// stack stays at 4 KiB: the frames under a waiting handler are kept small
// (TestParkedInvocationStack checks it). A second goroutine reads the
// notifications while a run closure executes (so that a cancellation
// reaches it), and always over HTTP/1.1. Neither outlives the request.
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

// Option configures [NewHandler], [Serve] and [ListenAndServe]. A nil Option
// is ignored.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	endpoint.Config
	journalTimeout  time.Duration
	shutdownTimeout time.Duration
}

// newConfig applies opts over the defaults. A nil option is ignored, as
// everywhere in the SDK.
func newConfig(opts []Option) config {
	c := config{
		journalTimeout:  time.Minute,
		shutdownTimeout: 30 * time.Second,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithRequestResponse serves request/response instead of bidirectional
// streaming (the default): the runtime sends the whole journal and closes
// the request body, the handler runs until it ends or waits for something
// not in the journal, and then suspends. The manifest advertises the mode.
// Use it behind proxies that cannot stream both ways; it costs a round trip
// through the runtime for every wait.
func WithRequestResponse() Option {
	return optionFunc(func(c *config) { c.Mode = endpoint.RequestResponse })
}

// WithIdentityKeys turns on request identity verification (off by
// default): every request except /health must carry a token signed by the
// private half of one of keys, which are formatted publickeyv1_…; other
// requests get 401 before any handler code runs. NewHandler fails on a
// malformed key.
func WithIdentityKeys(keys ...string) Option {
	return optionFunc(func(c *config) { c.IdentityKeys = append(c.IdentityKeys, keys...) })
}

// WithLogger sets the logger of the endpoint and the base logger of
// handlers (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.Logger = l })
}

// WithMaxFrameBytes bounds the payload of one protocol frame from the
// runtime (default 32 MiB, the runtime's own message size limit). A larger
// frame fails the attempt with a protocol violation (571) before its
// payload is buffered.
func WithMaxFrameBytes(n uint32) Option {
	return optionFunc(func(c *config) { c.MaxFrameBytes = n })
}

// WithJournalTimeout bounds how long an attempt waits for the start of its
// request body: the start message and the journal in bidirectional mode,
// the whole body in request/response mode (default one minute; 0 waits
// forever). The runtime sends these at once, so a peer that stalls longer
// gets a protocol violation (571) instead of holding the request open.
// Notifications that arrive later on a bidirectional stream have no
// deadline: the runtime decides when to close the stream.
func WithJournalTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.journalTimeout = d })
}

// WithMaxBodyBytes bounds what an attempt buffers before its handler
// starts (default 33 MiB, one frame at the runtime's message size limit
// plus headroom, as in package lambda): the whole request body in
// request/response mode, the start message and the replayed journal in
// bidirectional mode. A request declaring or sending more gets 413 before
// the handler runs, with at most one read buffer past the limit held.
// Notifications that arrive on a bidirectional stream once the handler
// runs are not counted: each is bounded by [WithMaxFrameBytes].
func WithMaxBodyBytes(n int64) Option {
	return optionFunc(func(c *config) { c.MaxBodyBytes = n })
}

// WithShutdownTimeout sets how long [Serve] and [ListenAndServe] wait for
// in-flight invocations to finish or suspend once asked to stop (default
// 30 seconds). Invocations still running then are cancelled.
func WithShutdownTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.shutdownTimeout = d })
}

// Handler is the http.Handler of a Restate deployment endpoint. It is safe
// for concurrent use.
type Handler struct {
	ep             *endpoint.Endpoint
	journalTimeout time.Duration
	maxBody        int64
	serverHeader   []string

	mu      sync.Mutex
	wg      sync.WaitGroup
	closing bool
	aborted bool
	calls   map[*call]struct{}
}

// call is one in-flight invocation, tracked for shutdown.
type call struct {
	inv *invocation.Invocation // once the handler started
}

// NewHandler returns the endpoint serving services. It fails on a nil or
// duplicate service and a malformed identity key; nil options are ignored.
//
// The handler streams: a middleware that wraps its ResponseWriter must keep
// Flush and, for bidirectional mode over HTTP/1.1, EnableFullDuplex
// reachable, by implementing them or an Unwrap method (see
// http.ResponseController). Without full duplex an HTTP/1.1 invocation in
// bidirectional mode gets 500.
func NewHandler(services []restate.ServiceDefinition, opts ...Option) (*Handler, error) {
	return newHandler(services, newConfig(opts))
}

func newHandler(services []restate.ServiceDefinition, c config) (*Handler, error) {
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
	return &Handler{
		ep:             ep,
		journalTimeout: c.journalTimeout,
		maxBody:        ep.MaxBodyBytes,
		serverHeader:   []string{ep.ServerHeader},
		calls:          map[*call]struct{}{},
	}, nil
}

func (h *Handler) log() *slog.Logger { return h.ep.Logger }

// contentTypes holds the header value of each protocol version, so that
// responses share one slice instead of allocating it.
var contentTypes = func() map[wire.Version][]string {
	m := map[wire.Version][]string{}
	for v := wire.MinVersion; v <= wire.MaxVersion; v++ {
		m[v] = []string{v.ContentType()}
	}
	return m
}()

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("content-type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

// ServeHTTP routes discovery, invocations and health checks.
//
// An invocation's handler runs below this frame, and a parked handler's
// goroutine keeps every frame under it: they are kept small (the checks
// and the setup before the handler, and the cleanup after it, are in
// functions of their own), so that a parked invocation fits in a small
// stack. See also invocation.HandlerFunc.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Restate-Server"] = h.serverHeader
	kind, path, service, handler := endpoint.RouteMounted(r.URL.Path, mountPoint(r.Pattern))
	if kind != endpoint.RouteInvoke {
		h.serveOther(w, r, kind, path)
		return
	}
	hd, v, c := h.admit(w, r, path, service, handler)
	if c == nil {
		return
	}
	defer h.untrack(c)
	if h.ep.Mode == endpoint.RequestResponse {
		h.requestResponse(w, r, hd, v, c)
	} else {
		h.bidi(w, r, hd, v, c)
	}
}

// serveOther serves the routes besides invocations.
func (h *Handler) serveOther(w http.ResponseWriter, r *http.Request, kind int, path string) {
	if kind == endpoint.RouteHealth {
		w.Header().Set("content-type", "text/plain")
		_, _ = io.WriteString(w, "ok")
		return
	}
	if !h.verified(w, r, path) {
		return
	}
	if kind == endpoint.RouteDiscover {
		h.discover(w, r)
		return
	}
	h.log().Warn("h2c: no such route", "method", r.Method, "path", r.URL.Path)
	httpError(w, http.StatusNotFound, "not found: use GET /discover, POST /invoke/{service}/{handler} or GET /health")
}

// verified checks the request's identity, and answers 401 if it fails.
func (h *Handler) verified(w http.ResponseWriter, r *http.Request, path string) bool {
	if err := h.ep.Verifier.Verify(path, r.Header); err != nil {
		h.rejected(r, err)
		httpError(w, http.StatusUnauthorized, "Unauthorized")
		return false
	}
	return true
}

func (h *Handler) discover(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		h.log().Warn("h2c: discovery with a wrong method", "method", r.Method)
		w.Header().Set("allow", http.MethodGet)
		httpError(w, http.StatusMethodNotAllowed, "discovery needs GET")
		return
	}
	if hasBody(r) {
		h.log().Warn("h2c: discovery request with a body")
		httpError(w, http.StatusBadRequest, "discovery takes no request body")
		return
	}
	status, ct, body := h.ep.Discover(r.Header.Get("accept"), h.ep.Mode)
	if status != http.StatusOK {
		h.log().Warn("h2c: discovery failed", "status", status, "accept", r.Header.Get("accept"), "reason", string(body))
	}
	w.Header().Set("content-type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// hasBody reports whether a request carries a non-empty body. A GET with an
// empty body (or a chunked one that ends at once) is fine.
func hasBody(r *http.Request) bool {
	if r.ContentLength > 0 {
		return true
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return false
	}
	var b [1]byte
	n, _ := io.ReadFull(r.Body, b[:])
	return n > 0
}

// admit checks an invocation request and registers the invocation; it
// answers the request and returns a nil call if the invocation cannot run.
// The caller untracks the call.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request, path, service, handler string) (*endpoint.Handler, wire.Version, *call) {
	if !h.verified(w, r, path) {
		return nil, 0, nil
	}
	if r.Method != http.MethodPost {
		h.log().Warn("h2c: invocation with a wrong method", "method", r.Method, "path", r.URL.Path)
		w.Header().Set("allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "invocations need POST")
		return nil, 0, nil
	}
	v, err := wire.ParseContentType(r.Header.Get("content-type"))
	if err != nil {
		h.log().Warn("h2c: unsupported invocation content type", "path", r.URL.Path, "error", err)
		httpError(w, http.StatusUnsupportedMediaType, err.Error())
		return nil, 0, nil
	}
	_, hd, err := h.ep.Lookup(service, handler)
	if err != nil {
		h.log().Warn("h2c: invocation of an unknown target", "path", r.URL.Path, "error", err)
		httpError(w, http.StatusNotFound, err.Error())
		return nil, 0, nil
	}
	// The invocation runs with the request's context: no context of its own,
	// which would cost several allocations and a lock of the parent per
	// request. A forced shutdown detaches it instead (see abort).
	c := h.track()
	if c == nil {
		h.log().Warn("h2c: invocation refused while shutting down", "path", r.URL.Path)
		httpError(w, http.StatusServiceUnavailable, "shutting down")
		return nil, 0, nil
	}
	return hd, v, c
}

// attempt returns the configuration of the request's attempt, with the
// trace context of its headers.
func (h *Handler) attempt(r *http.Request, v wire.Version) invocation.Config {
	return h.ep.Attempt(v, endpoint.Attempt{TraceParent: r.Header.Get("traceparent"), TraceState: r.Header.Get("tracestate")})
}

// ended logs why the response of an invocation could not be written.
func (h *Handler) ended(r *http.Request, inv *invocation.Invocation) {
	if err := inv.WriteErr(); err != nil {
		h.log().Warn("h2c: writing the response failed", "path", r.URL.Path, "error", err)
	}
}

// track registers an in-flight invocation, or returns nil if the handler is
// shutting down.
func (h *Handler) track() *call {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil
	}
	c := &call{}
	h.calls[c] = struct{}{}
	h.wg.Add(1)
	return c
}

func (h *Handler) untrack(c *call) {
	h.mu.Lock()
	delete(h.calls, c)
	h.mu.Unlock()
	h.wg.Done()
}

// started records the running invocation of a call. During a shutdown its
// input is closed at once, so it suspends at its next wait.
func (h *Handler) started(c *call, inv *invocation.Invocation) {
	h.mu.Lock()
	c.inv = inv
	closing, aborted := h.closing, h.aborted
	h.mu.Unlock()
	if aborted {
		inv.Detach()
	} else if closing {
		inv.CloseInput()
	}
}

// The read buffers of the start of request bodies: a small one first,
// because most journals are small and many invocations starting at once
// then hold little memory; a large one once a read fills the small one, so
// that a long journal takes few reads.
var (
	smallBuffers = sync.Pool{New: func() any { b := make([]byte, 4<<10); return &b }}
	largeBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}
)

// past is a read deadline that has passed: setting it interrupts a blocked
// read at once, on HTTP/1.1 and HTTP/2 alike.
var past = time.Unix(1, 0)

// errJournalTimeout is the cause of a read that WithJournalTimeout cut off.
var errJournalTimeout = errors.New("the start of the request body did not arrive in time")

// readStart feeds the request body to the attempt m until the handler can start (or,
// when whole, until the body ends), or the attempt fails. It reports whether
// the body ended; a body whose declared length (size, or -1) has been read
// counts as ended, so that no reader waits for the rest of it. The journal
// timeout runs from the start, so that a body that sends nothing is cut
// off too (a pooled timer: see cutoff). More than maxBody bytes fail with
// errBodyTooLarge.
//
// The engine copies what it keeps: the read buffers are free again when
// readStart returns.
func (h *Handler) readStart(rc *http.ResponseController, body io.Reader, size int64, m *invocation.Invocation, whole bool) (eof bool, err error) {
	var t *cutoff
	bp, pool := smallBuffers.Get().(*[]byte), &smallBuffers
	defer func() {
		pool.Put(bp)
		if t != nil && t.stop() && err != nil {
			err = fmt.Errorf("%w (after %s): %w", errJournalTimeout, h.journalTimeout, err)
		}
	}()
	if h.journalTimeout > 0 && size != 0 {
		t = newCutoff(rc, h.journalTimeout)
	}
	var read int64
	for {
		n, rerr := body.Read(*bp)
		if n > 0 {
			read += int64(n)
			if read > h.maxBody {
				return false, errBodyTooLarge
			}
			_ = m.Feed((*bp)[:n])
			if n == len(*bp) && pool == &smallBuffers {
				pool.Put(bp)
				bp, pool = largeBuffers.Get().(*[]byte), &largeBuffers
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return true, nil
			}
			return false, rerr
		}
		if m.Closed() {
			return false, nil
		}
		complete := size >= 0 && read >= size // the next read returns EOF at once
		if !whole && m.Ready() && !complete {
			return false, nil
		}
	}
}

// readFailed logs why the start of an attempt could not be read and closes
// its input, which fails the attempt with a protocol violation unless the
// whole journal arrived.
func (h *Handler) readFailed(r *http.Request, m *invocation.Invocation, err error) {
	if err != nil {
		h.log().Warn("h2c: reading the request body failed", "path", r.URL.Path, "error", err)
	}
	m.CloseInput()
	if m.Closed() && !m.Ready() {
		h.log().Warn("h2c: invocation failed before its handler started", "path", r.URL.Path, "error", m.Err())
	}
}

// requestResponse serves one attempt whose request body is read whole before
// the handler starts: every wait for a notification that is not in the
// journal suspends.
func (h *Handler) requestResponse(w http.ResponseWriter, r *http.Request, hd *endpoint.Handler, v wire.Version, c *call) {
	inv := h.openRequestResponse(w, r, v, c)
	if inv == nil {
		return
	}
	inv.Run(hd.Invoke)
	h.ended(r, inv)
}

// openRequestResponse reads the request body and returns the invocation to
// run, or nil if there is none: the response is written then.
func (h *Handler) openRequestResponse(w http.ResponseWriter, r *http.Request, v wire.Version, c *call) *invocation.Invocation {
	rc := http.NewResponseController(w)
	cfg := h.attempt(r, v)
	// The frames go to the response writer as the handler produces them,
	// without flushing: the runtime reads the response only once the
	// attempt ends, and a short response gets a Content-Length.
	cfg.Output = invocation.OutputFunc(func(frames []byte) error {
		_, err := w.Write(frames)
		return err
	})
	inv := invocation.New(r.Context(), cfg)
	eof, err := h.readStart(rc, r.Body, r.ContentLength, inv, true)
	if h.tooLarge(w, r, err) {
		return nil
	}
	if !eof {
		h.readFailed(r, inv, err)
	}
	inv.CloseInput()
	w.Header()["Content-Type"] = contentTypes[v]
	w.WriteHeader(http.StatusOK)
	if !inv.Ready() {
		inv.Reject()
		return nil
	}
	h.started(c, inv)
	return inv
}

// bidi serves one attempt as a bidirectional stream. The request's goroutine
// reads the replayed journal, then runs the handler. Over HTTP/2 the
// handler reads the notifications on the same goroutine whenever it waits
// for them, until a run closure first executes; from then on, and always
// over HTTP/1.1, a reader goroutine feeds them (so that a cancellation
// reaches an executing closure).
//
// A handler that completes without waiting, the common case, costs no read
// of notifications and no buffer for them; one parked on a notification
// costs no goroutine besides the request's own.
func (h *Handler) bidi(w http.ResponseWriter, r *http.Request, hd *endpoint.Handler, v wire.Version, c *call) {
	inv, pull := h.openBidi(w, r, v, c)
	switch {
	case inv == nil:
		return
	case pull == nil: // the request body has ended
		inv.CloseInput()
		inv.Run(hd.Invoke)
	default:
		inv.Run(hd.Invoke)
		h.closeBidi(inv, pull)
	}
	h.ended(r, inv)
}

// openBidi reads the start of a bidirectional stream and returns the
// invocation to run, with the puller of its notifications unless the
// request body has ended; or a nil invocation if there is none to run: the
// response is written then.
func (h *Handler) openBidi(w http.ResponseWriter, r *http.Request, v wire.Version, c *call) (*invocation.Invocation, *puller) {
	rc := http.NewResponseController(w)
	if r.ProtoMajor == 1 {
		if err := rc.EnableFullDuplex(); err != nil {
			h.log().Error("h2c: bidirectional streaming over HTTP/1.1 needs full duplex", "error", err)
			httpError(w, http.StatusInternalServerError, "bidirectional streaming over HTTP/1.1 needs full duplex: "+err.Error())
			return nil, nil
		}
	}
	// The puller is the attempt's input and output: the hooks are its
	// methods, and what they do depends on whether the start read reached
	// the end of the body (eof), which is known only after the attempt was
	// configured.
	pull := &puller{h: h, r: r, w: w, rc: rc, done: make(chan struct{})}
	cfg := h.attempt(r, v)
	cfg.Output = pull
	// On HTTP/1.1 the reader is always a goroutine of its own: a read
	// interrupted there (see puller.interrupt) cancels the request's
	// context, which the handler still needs to suspend.
	// Once the reader goroutine starts, the handler pulls no more, so the
	// two take turns with one puller.
	cfg.Input, cfg.PullInput = pull, r.ProtoMajor >= 2
	inv := invocation.New(r.Context(), cfg)
	pull.inv = inv
	eof, err := h.readStart(rc, r.Body, r.ContentLength, inv, false)
	if h.tooLarge(w, r, err) {
		return nil, nil
	}
	if eof || err != nil {
		h.readFailed(r, inv, err)
	} else if inv.Closed() {
		h.log().Warn("h2c: invocation failed before its handler started", "path", r.URL.Path, "error", inv.Err())
	}
	w.Header()["Content-Type"] = contentTypes[v]
	w.WriteHeader(http.StatusOK)
	if !inv.Ready() {
		// The engine wrote an ErrorMessage saying why.
		inv.Reject()
		return nil, nil
	}
	// The status line goes out with the first frames: the runtime waits for
	// those, not for the headers. The last batch of an attempt is not
	// flushed here either, so that returning from ServeHTTP sends it with
	// the end of the stream in one write; except on an HTTP/1.1 connection
	// whose request body is still open: the runtime ends the body once it
	// sees the end of the attempt, and a body read to its end keeps the
	// connection reusable.
	pull.linger = r.ProtoMajor == 1 && !eof
	pull.eof = eof
	h.started(c, inv)
	if eof {
		return inv, nil
	}
	return inv, pull
}

// closeBidi stops reading the request body once the handler is done. On
// HTTP/1.1 it waits for the runtime to end the body (see lingerTimeout).
func (h *Handler) closeBidi(inv *invocation.Invocation, pull *puller) {
	grace := time.Duration(0)
	if pull.r.ProtoMajor == 1 && inv.WriteErr() == nil && !h.isClosing() {
		grace = lingerTimeout
	}
	cut := false
	if inv.InputStarted() {
		cut = stopReading(pull.rc, pull.r.Body, pull.done, grace)
	} else {
		cut = drain(pull.rc, pull.r.Body, grace)
	}
	pull.release() // after the reader is done
	if cut && pull.r.ProtoMajor == 1 {
		closeCutConnection(pull.rc)
	}
}

// closeCutConnection ends the response of an HTTP/1.1 request whose body
// was cut off and closes its connection. net/http would otherwise keep the
// connection and parse the rest of the body the runtime still sends as the
// next request, answering 400 to the runtime's next invocation on it.
// The headers are long sent, so "Connection: close" is too late: the
// connection is taken over, the chunked body ended by hand (every frame
// was flushed already, see openBidi) and closed.
func closeCutConnection(rc *http.ResponseController) {
	conn, buf, err := rc.Hijack()
	if err != nil {
		return // a wrapped ResponseWriter that cannot hijack: nothing better to do
	}
	_, _ = buf.WriteString("0\r\n\r\n")
	_ = buf.Flush()
	_ = conn.Close()
}

// notificationBuffers are the read buffers of notifications: they are small,
// and a parked invocation holds one for as long as it waits.
var notificationBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<10); return &b }}

// puller reads notifications: for a waiting handler on its own goroutine
// (invocation.Input), or in a loop on a reader goroutine.
type puller struct {
	h      *Handler
	r      *http.Request
	w      http.ResponseWriter
	rc     *http.ResponseController
	inv    *invocation.Invocation
	buf    *[]byte
	failed bool
	eof    bool          // the start read reached the end of the body
	linger bool          // flush the attempt's last frames too (see openBidi)
	done   chan struct{} // closed when the reader goroutine is done
}

// Write is the attempt's output (invocation.Output).
func (p *puller) Write(frames []byte) error {
	if _, err := p.w.Write(frames); err != nil {
		return err
	}
	if !p.linger && endsAttempt(frames) {
		return nil
	}
	return p.rc.Flush()
}

// Start starts the reader goroutine, unless the body already ended.
func (p *puller) Start() {
	if !p.eof {
		go readNotifications(p, p.inv)
	}
}

// Pull reads once for a waiting handler (invocation.Input).
func (p *puller) Pull(feed func([]byte) error) error {
	if p.eof {
		return io.EOF
	}
	if p.buf == nil {
		p.buf = notificationBuffers.Get().(*[]byte)
	}
	n, err := p.r.Body.Read(*p.buf)
	if n > 0 && !p.failed {
		if ferr := feed((*p.buf)[:n]); ferr != nil {
			p.failed = true
			p.h.log().Warn("h2c: bad frame from the runtime", "path", p.r.URL.Path, "error", ferr)
		}
	}
	if err != nil && !errors.Is(err, io.EOF) && !isBodyClosed(err) {
		p.h.log().Debug("h2c: request body ended", "path", p.r.URL.Path, "error", err)
	}
	return err
}

// Interrupt ends a blocked pull: the input was closed, or the invocation
// detached, from another goroutine.
func (p *puller) Interrupt() {
	if err := p.rc.SetReadDeadline(past); err != nil {
		_ = p.r.Body.Close()
	}
}

func (p *puller) release() {
	if p.buf != nil {
		notificationBuffers.Put(p.buf)
		p.buf = nil
	}
}

// readNotifications feeds the rest of the request body to the invocation
// until the body ends or fails, then closes the invocation's input.
func readNotifications(p *puller, inv *invocation.Invocation) {
	defer close(p.done)
	defer inv.CloseInput()
	for p.Pull(inv.Feed) == nil {
	}
}

// lingerTimeout is how long an HTTP/1.1 attempt that ended waits for the
// runtime to end its request body (as sdk-go drains it for 5 seconds).
// restate-server does so within a millisecond of reading the end of the
// attempt, which it already has: the wait delays nothing but the release of
// the connection, which stays reusable. Past the timeout, or at once while
// shutting down, the body is cut off, and the connection is closed after the
// response (see closeCutConnection).
const lingerTimeout = 5 * time.Second

// stopReading ends the reader goroutine once the handler is done, waiting
// up to grace for the request body to end by itself. The runtime ends the
// body only after it has read the end of the attempt, and need not do it
// at all; a read deadline in the past unblocks the reader without the lock
// contention of closing the body under a concurrent read. It reports
// whether it cut the body off.
func stopReading(rc *http.ResponseController, body io.ReadCloser, done <-chan struct{}, grace time.Duration) (cut bool) {
	select {
	case <-done:
		return false
	default:
	}
	if grace > 0 {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-done:
			return false
		case <-t.C:
		}
	}
	if err := rc.SetReadDeadline(past); err != nil {
		_ = body.Close()
	}
	<-done
	return true
}

// drain ends a request body that nobody read after the handler finished
// without waiting for input: on an HTTP/1.1 connection it waits up to grace
// for the runtime to end the body (see lingerTimeout), otherwise it cuts it
// off at once. It reports whether it cut the body off.
func drain(rc *http.ResponseController, body io.ReadCloser, grace time.Duration) (cut bool) {
	if grace <= 0 {
		return true
	}
	if err := rc.SetReadDeadline(time.Now().Add(grace)); err != nil {
		return true
	}
	_, err := io.Copy(io.Discard, body)
	_ = rc.SetReadDeadline(time.Time{})
	return err != nil
}

// endsAttempt reports whether the last of frames is End, Suspension or
// Error: nothing follows it.
func endsAttempt(frames []byte) bool {
	var last wire.Type
	for len(frames) >= wire.HeaderSize {
		hd, err := wire.DecodeHeader(frames)
		if err != nil {
			break
		}
		last = hd.Type
		n := wire.HeaderSize + int(hd.Length)
		if n > len(frames) {
			break
		}
		frames = frames[n:]
	}
	return last == wire.TypeEnd || last == wire.TypeSuspension || last == wire.TypeError
}

func isBodyClosed(err error) bool {
	return errors.Is(err, http.ErrBodyReadAfterClose) || errors.Is(err, os.ErrDeadlineExceeded) ||
		strings.Contains(err.Error(), "body closed by handler")
}

// Shutdown stops accepting invocations (new ones get 503) and waits until
// the in-flight ones finish or suspend: the input of every bidirectional
// invocation is closed, so a handler that waits for a notification suspends
// at once. If ctx ends first, Shutdown gives up on the remaining
// invocations and returns ctx's error: nothing more they do reaches the
// runtime (which retries them), a waiting handler ends at once, a running
// one at its next durable operation, and an executing run closure sees its
// context cancelled. The handlers' own context is the request's: it ends
// when the server closes the connection. Shutdown does not close
// connections; [Serve] does, with http.Server.Shutdown and Close.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.beginShutdown()
	err := h.wait(ctx)
	if err != nil {
		h.abort()
	}
	return err
}

// beginShutdown refuses new invocations and closes the input of the
// running bidirectional ones.
func (h *Handler) beginShutdown() {
	h.mu.Lock()
	h.closing = true
	var open []*invocation.Invocation
	for c := range h.calls {
		if c.inv != nil {
			open = append(open, c.inv)
		}
	}
	h.mu.Unlock()
	for _, inv := range open {
		inv.CloseInput()
	}
}

// abort gives up on every in-flight invocation.
func (h *Handler) abort() {
	h.mu.Lock()
	h.aborted = true
	var running []*invocation.Invocation
	for c := range h.calls {
		if c.inv != nil {
			running = append(running, c.inv)
		}
	}
	h.mu.Unlock()
	for _, inv := range running {
		inv.Detach()
	}
}

// wait waits for the in-flight invocations or for ctx.
func (h *Handler) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Handler) isClosing() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closing
}

// inFlight returns the number of running invocations.
func (h *Handler) inFlight() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}
