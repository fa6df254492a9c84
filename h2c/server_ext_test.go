package h2c_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/wire"
)

// served is an endpoint run by h2c.Serve on a loopback port.
type served struct {
	*rig
	cancel context.CancelFunc
	errc   chan error
	addr   string
}

// startServe runs h2c.Serve until the returned cancel is called, and waits
// until it answers health checks.
func startServe(t *testing.T, proto string, ctx context.Context, opts ...h2c.Option) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &served{cancel: cancel, errc: make(chan error, 1), addr: ln.Addr().String()}
	go func() {
		s.errc <- h2c.Serve(ctx, ln, testServices(), append([]h2c.Option{h2c.WithLogger(quietLogger())}, opts...)...)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.errc:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return")
		}
	})
	s.rig = &rig{proto: proto, mode: "bidi", client: newClient(t, proto), base: "http://" + s.addr}
	for {
		resp, err := s.client.Get(s.base + "/health")
		if err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case err := <-s.errc:
			t.Fatalf("Serve: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// wait returns Serve's result.
func (s *served) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.errc:
		s.errc <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

// TestServeGracefulShutdown cancels Serve's context, or sends the process
// SIGTERM, while two invocations are in flight: the one parked on a timer
// suspends at once, the busy one finishes, Serve returns nil and the port
// is closed.
func TestServeGracefulShutdown(t *testing.T) {
	for _, trigger := range []string{"cancel", "SIGTERM"} {
		for _, proto := range protos {
			t.Run(trigger+"/"+proto, func(t *testing.T) { testGracefulShutdown(t, trigger, proto) })
		}
	}
}

func testGracefulShutdown(t *testing.T, trigger, proto string) {
	drainChan(waitStarted)
	s := startServe(t, proto, context.Background())
	parked := s.open(t, "/invoke/Greeter/sleep", wire.V6, journal(``)...)
	if m := parked.next(); m.Type() != wire.TypeSleepCommand {
		t.Fatalf("first frame %v", m.Type())
	}
	busy := make(chan answer, 1)
	go func() { busy <- s.invoke(t, "/invoke/Greeter/wait", wire.V6, journal("300")...) }()
	<-waitStarted

	begin := time.Now()
	if trigger == "SIGTERM" {
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	} else {
		s.cancel()
	}
	want := []wire.Message{&wire.SuspensionMessage{WaitingCompletions: []uint32{1}, WaitingSignals: []uint32{1}}}
	diffFrames(t, want, parked.rest())
	diffFrames(t, output(`"done"`), (<-busy).frames)
	if err := s.wait(t); err != nil {
		t.Errorf("Serve returned %v, want nil", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	if c, err := net.Dial("tcp", s.addr); err == nil {
		c.Close()
		t.Error("the port still accepts connections")
	}
}

// TestServeShutdownTimeout: a handler that does not end by itself is
// cancelled when the shutdown timeout expires, and Serve says so.
func TestServeShutdownTimeout(t *testing.T) {
	drainChan(runStarted)
	drainChan(runEnded)
	s := startServe(t, "h2c", context.Background(), h2c.WithShutdownTimeout(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		resp, err := s.post(ctx, "/invoke/Greeter/block", wire.V6, strings.NewReader(string(frames(journal(``)...))))
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-runStarted
	s.cancel()
	err := s.wait(t)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 invocations in flight") {
		t.Errorf("Serve returned %v, want a timeout naming 1 invocation", err)
	}
	select {
	case err := <-runEnded:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the run closure ended with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the run closure was not cancelled")
	}
}

// TestServeSIGTERM stops Serve with SIGTERM, as a process manager would.
func TestServeSIGTERM(t *testing.T) {
	s := startServe(t, "http1", context.Background())
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t); err != nil {
		t.Errorf("Serve returned %v, want nil", err)
	}
}

// TestHandlerShutdown uses Handler.Shutdown on a handler mounted in a
// server of the caller's: parked invocations suspend, new ones get 503.
func TestHandlerShutdown(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, proto, "bidi")
			parked := r.open(t, "/invoke/Greeter/sleep", wire.V6, journal(``)...)
			if m := parked.next(); m.Type() != wire.TypeSleepCommand {
				t.Fatalf("first frame %v", m.Type())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := r.h.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			want := []wire.Message{&wire.SuspensionMessage{WaitingCompletions: []uint32{1}, WaitingSignals: []uint32{1}}}
			diffFrames(t, want, parked.rest())
			a := r.invoke(t, "/invoke/Greeter/greet", wire.V6, journal(`"late"`)...)
			if a.status != http.StatusServiceUnavailable {
				t.Errorf("status %d after shutdown, want 503: %q", a.status, a.text)
			}
			// Discovery and health still answer.
			if status, _, _ := get(t, r.client, r.url("/health"), nil); status != 200 {
				t.Errorf("health: %d", status)
			}
		})
	}
}

// TestHandlerShutdownTimeout: Shutdown cancels what is still running when
// its context ends.
func TestHandlerShutdownTimeout(t *testing.T) {
	drainChan(runStarted)
	drainChan(runEnded)
	r := newRig(t, "h2c", "request-response")
	go func() {
		resp, err := r.post(context.Background(), "/invoke/Greeter/block", wire.V6, strings.NewReader(string(frames(journal(``)...))))
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-runStarted
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.h.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown returned %v, want context.DeadlineExceeded", err)
	}
	if err := <-runEnded; !errors.Is(err, context.Canceled) {
		t.Errorf("the run closure ended with %v", err)
	}
	waitIdle(t, r.h)
}

// TestServeErrors covers construction and listening failures.
func TestServeErrors(t *testing.T) {
	t.Parallel()
	if _, err := h2c.NewHandler(testServices(), nil, h2c.WithRequestResponse(), nil); err != nil {
		t.Errorf("NewHandler with nil options: %v, want them ignored", err)
	}
	if _, err := h2c.NewHandler(append(testServices(), nil)); err == nil {
		t.Error("NewHandler accepted a nil service")
	}
	if _, err := h2c.NewHandler(append(testServices(), greeterService())); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("NewHandler with a duplicate service: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := h2c.Serve(context.Background(), ln, append(testServices(), nil)); err == nil {
		t.Error("Serve accepted a nil service")
	}
	if _, err := ln.Accept(); err == nil {
		t.Error("Serve did not close the listener after failing")
	}
	if err := h2c.ListenAndServe(context.Background(), "127.0.0.1:-1", testServices()); err == nil {
		t.Error("ListenAndServe accepted a bad address")
	}
}

// TestShutdownClosesCutHTTP1Connection: an HTTP/1.1 attempt whose request
// body Shutdown cuts off ends its response and closes the connection, so
// the rest of the body the runtime sends is never parsed as a request of
// its own (which net/http answered with 400 on the runtime's next
// invocation over the same connection).
func TestShutdownClosesCutHTTP1Connection(t *testing.T) {
	t.Parallel()
	h, err := h2c.NewHandler(testServices(), h2c.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, h)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	body := frames(journal(``)...)
	fmt.Fprintf(conn, "POST /invoke/Greeter/sleep HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n",
		wire.V6.ContentType(), len(body), body)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	frames := wire.NewReader(resp.Body, 0)
	if f, err := frames.Next(); err != nil || f.Header.Type != wire.TypeSleepCommand {
		t.Fatalf("first frame %v, %v", f.Header, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("the response did not end cleanly: %v", err)
	}
	if len(rest) == 0 {
		t.Fatal("no suspension after Shutdown")
	}
	// What the runtime does next: end the body, then reuse the connection.
	fmt.Fprintf(conn, "0\r\n\r\nPOST /invoke/Greeter/greet HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 0\r\n\r\n", wire.V6.ContentType())
	if next, err := http.ReadResponse(br, nil); err == nil {
		t.Fatalf("the connection stayed open and answered %s to what followed the cut body", next.Status)
	}
}
