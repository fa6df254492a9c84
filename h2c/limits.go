package h2c

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// errBodyTooLarge is the cause of a read that went past WithMaxBodyBytes.
var errBodyTooLarge = errors.New("request body too large")

// tooLarge answers 413 if err is errBodyTooLarge (or the declared length
// is over the limit) and reports whether it did.
func (h *Handler) tooLarge(w http.ResponseWriter, r *http.Request, err error) bool {
	if !errors.Is(err, errBodyTooLarge) {
		return false
	}
	h.log().Warn("h2c: request body over the limit", "path", r.URL.Path, "limit", h.maxBody, "content_length", r.ContentLength)
	httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes before the handler started (WithMaxBodyBytes)", h.maxBody))
	return true
}

// cutoff interrupts a blocked request body read after a delay, by moving
// the read deadline into the past. Unlike a future deadline set up front,
// it costs nothing on HTTP/2 until it is needed: setting a read deadline
// there goes through the connection's serve goroutine. Every attempt arms
// one, from the start of its request, so cutoffs and their timers are
// pooled (BenchmarkCutoff: no allocation per attempt).
type cutoff struct {
	mu    sync.Mutex
	t     *time.Timer
	rc    *http.ResponseController
	done  bool
	fired bool
}

var cutoffs sync.Pool

func newCutoff(rc *http.ResponseController, d time.Duration) *cutoff {
	c, _ := cutoffs.Get().(*cutoff)
	if c == nil {
		c = &cutoff{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rc, c.done, c.fired = rc, false, false
	if c.t == nil {
		c.t = time.AfterFunc(d, c.fire)
	} else {
		c.t.Reset(d)
	}
	return c
}

func (c *cutoff) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.fired = true
	_ = c.rc.SetReadDeadline(past)
}

// stop disarms the cutoff and reports whether it fired. Once stop returned,
// the cutoff no longer touches the response. A fired cutoff leaves the read
// deadline in the past: the body cannot be read any more.
//
// The cutoff goes back to the pool only if its timer never started fire: a
// fire that started may still be waiting for the lock, and would otherwise
// act on the cutoff's next use.
func (c *cutoff) stop() bool {
	stopped := c.t.Stop()
	c.mu.Lock()
	c.done = true
	fired := c.fired
	c.rc = nil
	c.mu.Unlock()
	if stopped {
		cutoffs.Put(c)
	}
	return fired
}

// mountPoint returns the path prefix of an http.ServeMux pattern that
// routed a request to the handler ("/restate" for "GET /restate/", or for
// "example.com/restate/{rest...}"), or "" if there is none.
func mountPoint(pattern string) string {
	if pattern == "" {
		return ""
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimLeft(pattern[i+1:], " \t")
	}
	i := strings.IndexByte(pattern, '/')
	if i < 0 {
		return ""
	}
	pattern = pattern[i:]
	if i := strings.IndexByte(pattern, '{'); i >= 0 {
		pattern = pattern[:i]
	}
	return strings.TrimRight(pattern, "/")
}

// rejected logs a request that failed identity verification: the first at
// once, then at most one per endpoint.RejectLogInterval with the number
// held back, so that a flood of bad tokens does not flood the logs.
func (h *Handler) rejected(r *http.Request, err error) {
	if ok, n := h.ep.Rejected.Allow(time.Now()); ok {
		h.log().Warn("h2c: rejected request (at most one such line per 10s)", "method", r.Method, "path", r.URL.Path, "error", err, "suppressed", n)
	}
}
