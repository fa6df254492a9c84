package h2c_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/wire"
)

// TestSilentPeer covers a peer that sends the request headers and then not
// one byte of body: the journal timeout runs from the start of the request,
// so the attempt fails with a protocol violation instead of holding its
// goroutine until the client gives up.
func TestSilentPeer(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		for _, mode := range modes {
			t.Run(name(proto, mode), func(t *testing.T) {
				t.Parallel()
				r := newRig(t, proto, mode, h2c.WithJournalTimeout(100*time.Millisecond))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				pr, pw := io.Pipe()
				defer pw.Close()
				begin := time.Now()
				resp, err := r.post(ctx, "/invoke/Greeter/greet", wire.V6, pr)
				if err != nil {
					t.Fatalf("no answer before the client gave up: %v", err)
				}
				defer resp.Body.Close()
				a := readAnswer(t, resp)
				if len(a.frames) != 1 || errorCode(t, a.frames) != 571 {
					t.Fatalf("frames %v, want one ErrorMessage 571", types(a.frames))
				}
				if msg := a.frames[0].(*wire.ErrorMessage).Message; !strings.Contains(msg, "did not arrive in time") && !strings.Contains(msg, "input closed while waiting for the start message") {
					t.Errorf("message %q does not say the body did not arrive", msg)
				}
				if d := time.Since(begin); d > 3*time.Second {
					t.Errorf("answered after %s", d)
				}
				waitIdle(t, r.h)
			})
		}
	}
}

// endless is a request body of n bytes (or endless if n < 0) of one
// repeated well-formed frame, generated as it is read: the test never holds
// the body in memory.
type endless struct {
	frame []byte
	off   int
	n     int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n == 0 {
		return 0, io.EOF
	}
	total := 0
	for len(p) > 0 && e.n != 0 {
		k := copy(p, e.frame[e.off:])
		if e.n > 0 && int64(k) > e.n {
			k = int(e.n)
		}
		p, total, e.off = p[k:], total+k, (e.off+k)%len(e.frame)
		if e.n > 0 {
			e.n -= int64(k)
		}
	}
	return total, nil
}

// TestBodyLimit sends a start message announcing many entries, followed by
// far more journal bytes than WithMaxBodyBytes allows (streamed, and in
// request/response mode with no declared length): the request gets 413
// before the handler runs, with the heap bounded far below the body.
func TestBodyLimit(t *testing.T) {
	const limit = 1 << 20
	const sent = 64 << 20
	for _, proto := range protos {
		for _, mode := range modes {
			for _, declared := range []bool{false, true} {
				t.Run(name(proto, mode, "declared", declared), func(t *testing.T) {
					r := newRig(t, proto, mode, h2c.WithMaxBodyBytes(limit))
					head := frames(start(1<<30, ""), input(`"Alice"`))
					filler := frames(&wire.SetStateCommand{Key: []byte("k"), Value: []byte(strings.Repeat("x", 4000))})
					body := io.MultiReader(strings.NewReader(string(head)), &endless{frame: filler, n: sent})
					req, err := http.NewRequest(http.MethodPost, r.url("/invoke/Greeter/greet"), body)
					if err != nil {
						t.Fatal(err)
					}
					if declared {
						req.ContentLength = int64(len(head)) + sent
					}
					req.Header.Set("content-type", wire.V6.ContentType())
					var before, after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					resp, err := r.client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					runtime.ReadMemStats(&after)
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusRequestEntityTooLarge {
						t.Fatalf("status %d %q, want 413", resp.StatusCode, b)
					}
					if !strings.Contains(string(b), "WithMaxBodyBytes") {
						t.Errorf("body %q does not name the limit", b)
					}
					if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 8*limit {
						t.Errorf("heap grew by %d bytes for a limit of %d", grew, limit)
					}
					waitIdle(t, r.h)
				})
			}
		}
	}
}
