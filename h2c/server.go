package h2c

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// NewServer returns an http.Server for h that speaks HTTP/1.1 and HTTP/2
// cleartext with prior knowledge (as the Restate runtime connects to http://
// deployments) on the same port. It sets a ReadHeaderTimeout of 10 seconds
// and an IdleTimeout of [DefaultIdleTimeout], and no read or write
// timeout: a bidirectional invocation stays open for as long as the
// runtime keeps it open, since the idle timeout only closes a connection
// with no request in flight.
//
// Its handler wraps h with a bound on rapid reset (CVE-2023-44487): an
// HTTP/2 connection that resets more than 200 streams while their handler
// runs, plus 20 a second, is closed, which ends the streams it still has
// (the runtime retries their invocations). Its ConnContext carries the
// bound's per-connection state: keep it if you replace ConnContext.
func NewServer(addr string, h http.Handler) *http.Server {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	g := &guarded{h: h}
	if hh, ok := h.(*Handler); ok {
		g.log = hh.log()
	}
	return &http.Server{
		Addr:              addr,
		Handler:           g,
		Protocols:         &p,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       DefaultIdleTimeout,
		ConnContext:       connContext,
	}
}

// ListenAndServe serves services on addr (for example ":9080") until ctx
// ends or the process gets SIGINT or SIGTERM, then shuts down gracefully; see
// [Serve]. It fails if it cannot listen on addr.
func ListenAndServe(ctx context.Context, addr string, services []restate.ServiceDefinition, opts ...Option) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("h2c: %w", err)
	}
	return Serve(ctx, ln, services, opts...)
}

// Serve serves services on ln with HTTP/1.1 and HTTP/2 cleartext until ctx
// ends or the process gets SIGINT or SIGTERM. Then it stops accepting
// connections and invocations and waits for the in-flight ones to finish or
// suspend (a handler that waits for a notification suspends at once), for
// at most the shutdown timeout ([WithShutdownTimeout], 30 seconds by
// default). Invocations still running then are cancelled and their
// connections closed.
//
// Serve returns nil after a graceful shutdown, an error wrapping
// context.DeadlineExceeded if the shutdown timed out, and the error of
// http.Server.Serve if serving failed. It closes ln.
func Serve(ctx context.Context, ln net.Listener, services []restate.ServiceDefinition, opts ...Option) error {
	c := newConfig(opts)
	h, err := newHandler(services, c)
	if err != nil {
		_ = ln.Close()
		return err
	}
	srv := NewServer(ln.Addr().String(), h)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		// Serving failed: the in-flight invocations lost their connections.
		h.abort()
		_ = h.wait(context.Background())
		return fmt.Errorf("h2c: %w", err)
	case <-ctx.Done():
	}
	// From here a second signal terminates the process as usual.
	stop()
	h.log().Info("h2c: shutting down", "in_flight", h.inFlight(), "timeout", c.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	// Closing the input of streaming invocations first lets them suspend,
	// which http.Server.Shutdown then sees as idle connections.
	h.beginShutdown()
	serr := srv.Shutdown(sctx)
	herr := h.wait(sctx)
	if serr != nil || herr != nil {
		n := h.inFlight()
		h.abort()
		_ = srv.Close()
		// Cancelled handlers end at their next operation; give them a moment
		// so that Serve returns without leaving them behind.
		gctx, gcancel := context.WithTimeout(context.Background(), time.Second)
		_ = h.wait(gctx)
		gcancel()
		<-errc
		return fmt.Errorf("h2c: shutdown timed out after %s with %d invocations in flight: %w", c.shutdownTimeout, n, errors.Join(serr, herr))
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("h2c: %w", err)
	}
	h.log().Info("h2c: shut down")
	return nil
}
