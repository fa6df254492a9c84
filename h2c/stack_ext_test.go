package h2c_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/wire"
)

// TestParkedInvocationStack parks invocations on a timer over HTTP/2 and
// checks that each costs one goroutine whose stack stayed at 4 KiB: the
// frames under a waiting handler (net/http, the endpoint, the typed layer,
// the wait and the read of the request body) fit in it, so Go never doubled
// it to 8 KiB. A parked invocation's memory is mostly that stack; see
// BENCHMARKS.md. The client is a bare HTTP/2 framer on one goroutine, so that
// the endpoint's goroutines are the only ones that grow in number.
//
// It measures in a process of its own (the test binary run again), because
// goroutines that ended elsewhere in the process leave their stacks for new
// ones to reuse. The race detector's instrumentation enlarges every frame,
// so the test skips itself under -race; `make unit` runs it without.
func TestParkedInvocationStack(t *testing.T) {
	if raceEnabled {
		t.Skip("frame sizes are only meaningful without -race (make unit runs this test without it)")
	}
	if runtime.GOARCH != "amd64" {
		t.Skipf("frame sizes were measured on amd64, not %s", runtime.GOARCH)
	}
	if os.Getenv("H2C_STACK_CHILD") == "1" {
		measureParkedStack(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestParkedInvocationStack$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "H2C_STACK_CHILD=1")
	out, err := cmd.CombinedOutput()
	t.Logf("measured in a process of its own:\n%s", out)
	if err != nil {
		t.Fatalf("the measuring process failed: %v", err)
	}
}

func measureParkedStack(t *testing.T) {
	r := newRig(t, "h2c", "bidi")
	conn, err := net.Dial("tcp", r.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := newRawH2(conn)

	// One invocation first, so that the connection's own goroutines exist
	// before the measurement starts.
	c.open(t, 1)
	c.waitResponses(t, 1)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	const n = 200 // under net/http's 250 concurrent streams per connection
	for i := range n {
		c.open(t, uint32(3+2*i))
	}
	c.waitResponses(t, n+1)
	// Every handler has written its sleep command and waits for the timer;
	// give the last ones the moment between the write and the read.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() < goroutines+n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if got := runtime.NumGoroutine() - goroutines; got != n {
		t.Fatalf("%d parked invocations made %d goroutines, want one each", n, got)
	}
	perInvocation := float64(after.StackInuse-before.StackInuse) / n
	t.Logf("stack per parked invocation: %.0f bytes", perInvocation)
	if perInvocation > 6<<10 {
		t.Errorf("stack per parked invocation is %.0f bytes, want 4 KiB: a frame under the waiting handler grew (see ServeHTTP and invocation.HandlerFunc)", perInvocation)
	}
}

// rawH2 is a minimal HTTP/2 client: it opens streams to /invoke/Greeter/sleep
// and reads the server's frames on the test goroutine, acknowledging its
// settings and counting the streams that got response data.
type rawH2 struct {
	conn net.Conn
	br   *bufio.Reader
	data map[uint32]bool // streams that received DATA
}

func newRawH2(conn net.Conn) *rawH2 {
	c := &rawH2{conn: conn, br: bufio.NewReader(conn), data: map[uint32]bool{}}
	_, _ = io.WriteString(conn, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	c.write(0x4, 0, 0, nil) // SETTINGS
	return c
}

func (c *rawH2) write(typ, flags byte, stream uint32, payload []byte) {
	h := make([]byte, 9, 9+len(payload))
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream)
	_, _ = c.conn.Write(append(h, payload...))
}

// open starts an invocation on stream id, its request body left open.
func (c *rawH2) open(t *testing.T, id uint32) {
	t.Helper()
	var block []byte
	field := func(name, value string) { // literal, never indexed, no Huffman
		block = append(block, 0x10, byte(len(name)))
		block = append(block, name...)
		block = append(block, byte(len(value)))
		block = append(block, value...)
	}
	field(":method", "POST")
	field(":scheme", "http")
	field(":authority", "localhost")
	field(":path", "/invoke/Greeter/sleep")
	field("content-type", wire.V6.ContentType())
	c.write(0x1, 0x4, id, block) // HEADERS, END_HEADERS
	c.write(0x0, 0, id, frames(journal(``)...))
}

// waitResponses reads frames until n streams have received data.
func (c *rawH2) waitResponses(t *testing.T, n int) {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var h [9]byte
	for len(c.data) < n {
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			t.Fatalf("after data on %d streams: %v", len(c.data), err)
		}
		size := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
		typ, flags, stream := h[3], h[4], binary.BigEndian.Uint32(h[5:])&0x7fffffff
		payload := make([]byte, size)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			t.Fatal(err)
		}
		switch {
		case typ == 0x0 && size > 0:
			c.data[stream] = true
		case typ == 0x4 && flags&0x1 == 0:
			c.write(0x4, 0x1, 0, nil) // SETTINGS ACK
		case typ == 0x6 && flags&0x1 == 0:
			c.write(0x6, 0x1, 0, payload) // PING ACK
		case typ == 0x3 || typ == 0x7:
			t.Fatalf("stream %d: %s", stream, map[byte]string{0x3: "RST_STREAM", 0x7: "GOAWAY"}[typ]+fmt.Sprintf(" %x", payload))
		}
	}
}
