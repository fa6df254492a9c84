package h2c

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// ShutdownTimeout is how long ListenAndServe waits for in-flight
// invocations to finish or suspend after it was asked to stop.
var ShutdownTimeout = 30 * time.Second

// NewServer returns an http.Server for h that speaks HTTP/1.1 and HTTP/2
// cleartext (prior knowledge, as the Restate runtime connects) on the same
// port.
func NewServer(addr string, h http.Handler) *http.Server {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		Protocols:         &p,
		ReadHeaderTimeout: 10 * time.Second,
	}
}

// ListenAndServe serves services on addr until ctx ends or the process gets
// SIGINT or SIGTERM, then shuts down gracefully: it stops accepting
// connections and waits up to ShutdownTimeout for in-flight invocations.
func ListenAndServe(ctx context.Context, addr string, services []restate.ServiceDefinition, opts ...Option) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, services, opts...)
}

// Serve is ListenAndServe on an existing listener.
func Serve(ctx context.Context, ln net.Listener, services []restate.ServiceDefinition, opts ...Option) error {
	h, err := NewHandler(services, opts...)
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
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	herr := h.Shutdown(sctx)
	serr := srv.Shutdown(sctx)
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(herr, serr)
}
