package h2c_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/wire"
)

// serveNewServer serves handler with the server NewServer returns, after
// tune adjusts it, and returns its address.
func serveNewServer(t *testing.T, handler http.Handler, tune func(*http.Server)) string {
	t.Helper()
	srv := h2c.NewServer("", handler)
	if tune != nil {
		tune(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// rawConn is an HTTP/2 client connection on the Framer. Its reader
// goroutine acknowledges the server's settings and reports how the
// connection ended: a GOAWAY or a read error.
type rawConn struct {
	conn  net.Conn
	fr    *http2.Framer
	wmu   sync.Mutex
	ended chan string
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &rawConn{conn: conn, fr: http2.NewFramer(conn, conn), ended: make(chan string, 1)}
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	if err := c.write(func(fr *http2.Framer) error { return fr.WriteSettings() }); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			f, err := c.fr.ReadFrame()
			if err != nil {
				c.ended <- "read error: " + err.Error()
				return
			}
			switch f := f.(type) {
			case *http2.GoAwayFrame:
				c.ended <- fmt.Sprintf("GOAWAY %v", f.ErrCode)
				return
			case *http2.SettingsFrame:
				if !f.IsAck() {
					_ = c.write(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
				}
			}
		}
	}()
	return c
}

func (c *rawConn) write(f func(*http2.Framer) error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return f(c.fr)
}

// TestRapidReset opens 20,000 invocation streams on one connection and
// resets each at once (CVE-2023-44487): the server starts a bounded number
// of handlers and then closes the connection.
func TestRapidReset(t *testing.T) {
	t.Parallel()
	h, err := h2c.NewHandler(testServices(), h2c.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	var started atomic.Int64
	counting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		h.ServeHTTP(w, r)
	})
	addr := serveNewServer(t, counting, nil)
	c := dialRaw(t, addr)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":authority", addr},
		{":path", "/invoke/Greeter/greet"}, {"content-type", wire.V6.ContentType()}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	block := hb.Bytes()
	const streams = 20000
	sent := 0
	begin := time.Now()
	for id := uint32(1); sent < streams; id += 2 {
		err := c.write(func(fr *http2.Framer) error {
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true}); err != nil {
				return err
			}
			return fr.WriteRSTStream(id, http2.ErrCodeCancel)
		})
		if err != nil {
			break // the server closed the connection
		}
		sent++
	}
	select {
	case how := <-c.ended:
		t.Logf("sent %d streams in %s; connection ended (%s); %d handlers started", sent, time.Since(begin), how, started.Load())
	case <-time.After(10 * time.Second):
		t.Fatalf("the connection stayed open after %d reset streams; %d handlers started", sent, started.Load())
	}
	if n := started.Load(); n > 1500 {
		t.Errorf("%d handlers started for %d reset streams, want at most 1500", n, sent)
	}
	waitIdle(t, h)
}

// TestIdleTimeout checks that the server NewServer returns closes an idle
// HTTP/2 connection after its IdleTimeout, and keeps one whose bidirectional
// invocation is parked on a timer for many times that.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	if h2c.DefaultIdleTimeout <= 0 {
		t.Fatalf("DefaultIdleTimeout %s", h2c.DefaultIdleTimeout)
	}
	h, err := h2c.NewHandler(testServices(), h2c.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	const idle = 200 * time.Millisecond
	addr := serveNewServer(t, h, func(s *http.Server) {
		if s.IdleTimeout != h2c.DefaultIdleTimeout {
			t.Errorf("IdleTimeout %s, want %s", s.IdleTimeout, h2c.DefaultIdleTimeout)
		}
		s.IdleTimeout = idle
	})
	t.Run("idle connection", func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, addr)
		select {
		case how := <-c.ended:
			t.Logf("idle connection ended: %s", how)
		case <-time.After(5 * time.Second):
			t.Fatal("an idle connection stayed open")
		}
	})
	t.Run("parked invocation", func(t *testing.T) {
		t.Parallel()
		r := &rig{proto: "h2c", mode: "bidi", h: h, base: "http://" + addr, client: newClient(t, "h2c")}
		s := r.open(t, "/invoke/Greeter/sleep", wire.V6, journal(``)...)
		if m := s.next(); m.Type() != wire.TypeSleepCommand {
			t.Fatalf("first frame %v, want a sleep command", m.Type())
		}
		time.Sleep(8 * idle)
		s.send(notification(wire.TypeSleepCompletion, wire.CompletionID(1), wire.VoidResult()))
		diffFrames(t, output(`"woke"`), s.rest())
	})
}

// TestRejectionLog sends a flood of requests with bad tokens: each gets 401,
// and the log holds one line for them, not one per request.
func TestRejectionLog(t *testing.T) {
	t.Parallel()
	key := newSigner(t)
	logs := newCapture()
	r := newRig(t, "h2c", "bidi", h2c.WithIdentityKeys(key.key()), h2c.WithLogger(slog.New(logs)))
	const n = 300
	for i := range n {
		h := map[string]string{"accept": runtimeAccept, "x-restate-signature-scheme": "v1", "x-restate-jwt-v1": fmt.Sprintf("forged.%d.token", i)}
		if status, _, body := get(t, r.client, r.url("/discover"), h); status != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d %q, want 401", i, status, body)
		}
	}
	rejected := 0
	for _, m := range logs.drain() {
		if strings.Contains(m, "rejected request") {
			rejected++
		}
	}
	if rejected < 1 || rejected > 2 {
		t.Errorf("%d log lines for %d rejected requests, want 1 (or 2 across an interval)", rejected, n)
	}
}
