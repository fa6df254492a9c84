package h2c

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultIdleTimeout is the IdleTimeout of the server [NewServer] returns:
// a connection with no request in flight (over HTTP/2, no open stream) is
// closed after it. A stream that is open, such as a bidirectional
// invocation parked for minutes on a notification, keeps its connection
// busy, so the timeout never cuts it.
const DefaultIdleTimeout = 5 * time.Minute

// The rapid reset bound (CVE-2023-44487) of the server NewServer returns:
// each HTTP/2 connection may reset resetBurst streams whose handler was
// running, and resetRate more per second; a connection past that is closed.
// net/http already caps the handlers running at once at the stream
// concurrency limit, but not the rate at which a client that resets its
// streams can start new ones.
const (
	resetBurst = 200
	resetRate  = 20
)

// connKey is the context key of a connection's connGuard.
type connKey struct{}

// connGuard counts one connection's streams reset while their handler ran.
type connGuard struct {
	conn   net.Conn
	mu     sync.Mutex
	tokens float64
	last   time.Time
	closed bool
}

func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connGuard{conn: c, tokens: resetBurst, last: time.Now()})
}

// reset records a reset stream and reports whether the connection is over
// its budget, which closes it (once).
func (g *connGuard) reset(now time.Time) (closeNow bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.tokens = min(resetBurst, g.tokens+now.Sub(g.last).Seconds()*resetRate)
	g.last = now
	g.tokens--
	if g.tokens >= 0 {
		return false
	}
	g.closed = true
	return true
}

// guarded is the handler of the server NewServer returns: h, plus the
// rapid reset bound on HTTP/2 connections.
type guarded struct {
	h   http.Handler
	log *slog.Logger
}

func (s *guarded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.h.ServeHTTP(w, r)
	// A stream's context ends before its handler returns only if the
	// client reset it or the connection failed: a stream that ends
	// normally is closed after its handler has returned.
	if r.ProtoMajor < 2 || r.Context().Err() == nil {
		return
	}
	g, _ := r.Context().Value(connKey{}).(*connGuard)
	if g != nil && g.reset(time.Now()) {
		l := s.log
		if l == nil {
			l = slog.Default()
		}
		l.Warn("h2c: closing a connection that reset too many streams (rapid reset)", "remote", r.RemoteAddr, "burst", resetBurst, "per_second", resetRate)
		_ = g.conn.Close()
	}
}
