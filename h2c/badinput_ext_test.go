package h2c_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/wire"
)

// header returns a raw frame header.
func header(t wire.Type, length uint32) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t)<<48|uint64(length))
}

// TestBadInput sends malformed, oversized and truncated request bodies. Each
// gets a 200 whose stream holds one ErrorMessage with the protocol
// violation code 571, in both modes and over both transports.
func TestBadInput(t *testing.T) {
	t.Parallel()
	good := frames(journal(`"Alice"`)...)
	inputFrame := frames(input(`"Alice"`))
	tests := []struct {
		name string
		body []byte
	}{
		{"empty body", nil},
		{"garbage", []byte("this is not a frame stream at all")},
		{"no start message", inputFrame},
		{"start message only", frames(start(1, ""))},
		{"journal shorter than announced", frames(start(3, ""), input(`"Alice"`))},
		{"known entries zero", frames(start(0, ""), input(`"Alice"`))},
		{"cut inside a header", good[:len(good)-len(inputFrame)+3]},
		{"cut inside a payload", good[:len(good)-2]},
		{"unknown message type", append(frames(start(2, ""), input(`"Alice"`)), header(0x0999, 0)...)},
		{"notification before start", frames(notification(wire.TypeSleepCompletion, wire.CompletionID(1), wire.VoidResult()), start(1, ""), input(`""`))},
		{"second start message", frames(start(2, ""), start(1, ""), input(`""`))},
		{"malformed payload", append(frames(start(2, ""), input(`""`)), append(header(wire.TypeSetStateCommand, 3), 0xff, 0xff, 0xff)...)},
		{"frame over the limit", frames(start(1, ""), input(`"`+strings.Repeat("x", 2000)+`"`))},
		{"header announcing 4 GiB", append(frames(start(1, "")), header(wire.TypeInputCommand, 0xffffffff)...)},
	}
	for _, proto := range protos {
		for _, mode := range modes {
			r := newRig(t, proto, mode, h2c.WithMaxFrameBytes(1024))
			for _, tc := range tests {
				t.Run(name(proto, mode, tc.name), func(t *testing.T) {
					t.Parallel()
					a := r.invokeRaw(t, "/invoke/Greeter/greet", wire.V6, tc.body)
					if a.status != http.StatusOK {
						t.Fatalf("status %d: %s", a.status, a.text)
					}
					if len(a.frames) != 1 {
						t.Fatalf("frames %v, want one ErrorMessage", types(a.frames))
					}
					e := a.frames[0].(*wire.ErrorMessage)
					if e.Code != 571 || e.Message == "" {
						t.Errorf("error %d %q, want 571 with a message", e.Code, e.Message)
					}
				})
			}
		}
	}
}

// TestBadNotification sends a malformed frame after the journal, on an open
// stream: the waiting handler ends with a protocol violation.
func TestBadNotification(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, proto, "bidi")
			s := r.open(t, "/invoke/Greeter/sleep", wire.V6, journal(``)...)
			if m := s.next(); m.Type() != wire.TypeSleepCommand {
				t.Fatalf("first frame %v", m.Type())
			}
			if _, err := s.body.Write(header(0x0999, 0)); err != nil {
				t.Fatal(err)
			}
			got := s.rest()
			if len(got) != 1 || errorCode(t, got) != 571 {
				t.Errorf("frames %v, want one ErrorMessage 571", types(got))
			}
		})
	}
}

// TestDiscoverWithStreamedBody sends a discovery request whose body has no
// declared length.
func TestDiscoverWithStreamedBody(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, proto, "bidi")
			req, _ := http.NewRequest("GET", r.url("/discover"), io.MultiReader(strings.NewReader("{}")))
			req.Header.Set("accept", runtimeAccept)
			if status, _, body := do(t, r.client, req); status != 400 {
				t.Errorf("status %d %q, want 400", status, body)
			}
		})
	}
}

// TestStalledPeer covers a peer that sends the start of a body and then
// nothing: the journal timeout fails the attempt with a protocol violation
// that names the timeout.
func TestStalledPeer(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		for _, mode := range modes {
			t.Run(name(proto, mode), func(t *testing.T) {
				t.Parallel()
				r := newRig(t, proto, mode, h2c.WithJournalTimeout(100*time.Millisecond))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				pr, pw := io.Pipe()
				defer pw.Close()
				go func() {
					// The start message and half of the input command.
					b := frames(journal(`"Alice"`)...)
					_, _ = pw.Write(b[:len(b)-3])
				}()
				begin := time.Now()
				resp, err := r.post(ctx, "/invoke/Greeter/greet", wire.V6, pr)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				a := readAnswer(t, resp)
				if len(a.frames) != 1 || errorCode(t, a.frames) != 571 {
					t.Fatalf("frames %v, want one ErrorMessage 571", types(a.frames))
				}
				if msg := a.frames[0].(*wire.ErrorMessage).Message; !strings.Contains(msg, "did not arrive in time") && !strings.Contains(msg, "input closed") {
					t.Errorf("message %q does not say the body stalled", msg)
				}
				if d := time.Since(begin); d > 5*time.Second {
					t.Errorf("answered after %s", d)
				}
			})
		}
	}
}

// TestStalledReader covers a peer that stops reading a response larger
// than the flow-control window and the socket buffers: once its request is
// cancelled, the blocked write fails, the handler ends and the request
// returns.
func TestStalledReader(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		for _, mode := range modes {
			t.Run(name(proto, mode), func(t *testing.T) {
				t.Parallel()
				r := newRig(t, proto, mode)
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				resp, err := r.post(ctx, "/invoke/Greeter/big", wire.V6, strings.NewReader(string(frames(journal("8388608")...))))
				if err == nil {
					// Never read the body; wait for the timeout.
					<-ctx.Done()
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error %v, want the client's deadline", err)
				}
				waitIdle(t, r.h)
			})
		}
	}
}

// waitIdle waits until h has no invocation in flight.
func waitIdle(t testing.TB, h *h2c.Handler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h2c.Idle(ctx, h); err != nil {
		t.Fatalf("invocations still in flight: %v", err)
	}
}
