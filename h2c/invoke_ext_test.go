package h2c_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/wire"
)

// TestInvoke runs a greeter over both transports, both stream modes and
// every protocol version: the response echoes the negotiated content type
// exactly and carries the output and the end of the attempt.
func TestInvoke(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		for _, mode := range modes {
			r := newRig(t, proto, mode)
			for v := wire.MinVersion; v <= wire.MaxVersion; v++ {
				t.Run(name(proto, mode, v), func(t *testing.T) {
					t.Parallel()
					a := r.invoke(t, "/invoke/Greeter/greet", v, journal(`"Alice"`)...)
					if a.status != http.StatusOK {
						t.Fatalf("status %d: %s", a.status, a.text)
					}
					if want := map[string]int{"h2c": 2, "http1": 1}[proto]; a.proto != want {
						t.Errorf("answered over HTTP/%d, want HTTP/%d", a.proto, want)
					}
					if got := a.header.Values("content-type"); !cmp.Equal(got, []string{v.ContentType()}) {
						t.Errorf("content-type %q, want exactly %q", got, v.ContentType())
					}
					if got := a.header.Get("x-restate-server"); !strings.HasPrefix(got, "restate-sdk-go") {
						t.Errorf("x-restate-server %q", got)
					}
					diffFrames(t, output(`"Hello Alice!"`), a.frames)
				})
			}
		}
	}
}

// TestInvokeObject runs a virtual object handler with eager state.
func TestInvokeObject(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		for _, mode := range modes {
			t.Run(name(proto, mode), func(t *testing.T) {
				t.Parallel()
				r := newRig(t, proto, mode)
				st := start(1, "k")
				st.PartialState = false
				st.StateMap = []wire.StateEntry{{Key: []byte("count"), Value: []byte("5")}}
				a := r.invoke(t, "/invoke/Counter/add", wire.V6, st, input("7"))
				want := []wire.Message{
					&wire.GetEagerStateCommand{Key: []byte("count"), Result: wire.ValueResult([]byte("5"))},
					&wire.SetStateCommand{Key: []byte("count"), Value: []byte("12")},
					&wire.OutputCommand{Result: wire.ValueResult([]byte("12"))},
					&wire.EndMessage{},
				}
				diffFrames(t, want, a.frames)
			})
		}
	}
}

// TestAttemptEndings checks the other ways an attempt ends: a retryable
// error, a panic (recovered, retryable), and a wait that cannot be satisfied
// from a closed request body (suspension).
func TestAttemptEndings(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		for _, mode := range modes {
			r := newRig(t, proto, mode)
			t.Run(name(proto, mode, "error"), func(t *testing.T) {
				t.Parallel()
				a := r.invoke(t, "/invoke/Greeter/fail", wire.V6, journal(``)...)
				e := a.frames[len(a.frames)-1].(*wire.ErrorMessage)
				if e.Code != 500 || e.Message != "boom" {
					t.Errorf("error %d %q, want 500 \"boom\"", e.Code, e.Message)
				}
			})
			t.Run(name(proto, mode, "panic"), func(t *testing.T) {
				t.Parallel()
				a := r.invoke(t, "/invoke/Greeter/panic", wire.V6, journal(``)...)
				e := a.frames[len(a.frames)-1].(*wire.ErrorMessage)
				if e.Code != 500 || !strings.Contains(e.Message, "kaboom") {
					t.Errorf("error %d %q, want 500 mentioning the panic", e.Code, e.Message)
				}
			})
			for v := wire.MinVersion; v <= wire.MaxVersion; v++ {
				t.Run(name(proto, mode, "suspension", v), func(t *testing.T) {
					t.Parallel()
					a := r.invoke(t, "/invoke/Greeter/call", v, journal(`"ping"`)...)
					call := &wire.CallCommand{ServiceName: "Other", HandlerName: "echo", Parameter: []byte(`"ping"`),
						InvocationIDNotificationIdx: 1, ResultCompletionID: 2}
					var want *wire.SuspensionMessage
					if v < wire.V7 {
						want = &wire.SuspensionMessage{WaitingCompletions: []uint32{2}, WaitingSignals: []uint32{1}}
					} else {
						want = &wire.SuspensionMessage{AwaitingOn: &wire.Future{
							CombinatorType:     wire.CombinatorFirstCompleted,
							WaitingCompletions: []uint32{2}, WaitingSignals: []uint32{1},
						}}
					}
					// On an open stream a V7 handler may first say what it
					// waits on, before the end of the body makes it suspend.
					diffFrames(t, []wire.Message{call, want}, withoutAwaitingOn(a.frames))
				})
			}
			t.Run(name(proto, mode, "replayed completion"), func(t *testing.T) {
				t.Parallel()
				// The next attempt has the result in its journal: no wait.
				call := &wire.CallCommand{ServiceName: "Other", HandlerName: "echo", Parameter: []byte(`"ping"`),
					InvocationIDNotificationIdx: 1, ResultCompletionID: 2}
				a := r.invoke(t, "/invoke/Greeter/call", wire.V6, start(3, ""), input(`"ping"`), call,
					notification(wire.TypeCallCompletion, wire.CompletionID(2), wire.ValueResult([]byte(`"pong"`))))
				diffFrames(t, output(`"got pong"`), a.frames)
			})
		}
	}
}

// TestStreamResumesWithoutSuspending is the point of bidirectional mode: the
// client reads the handler's call command from the open stream, answers with
// the call's completion on the still-open request body, and the handler
// resumes and ends without suspending. Over HTTP/2 and full-duplex HTTP/1.1.
func TestStreamResumesWithoutSuspending(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		for v := wire.MinVersion; v <= wire.MaxVersion; v++ {
			t.Run(name(proto, v), func(t *testing.T) {
				t.Parallel()
				r := newRig(t, proto, "bidi")
				s := r.open(t, "/invoke/Greeter/call", v, journal(`"ping"`)...)
				call := &wire.CallCommand{ServiceName: "Other", HandlerName: "echo", Parameter: []byte(`"ping"`),
					InvocationIDNotificationIdx: 1, ResultCompletionID: 2}
				if d := cmp.Diff(wire.Message(call), s.next(), cmpOpts...); d != "" {
					t.Fatalf("first frame (-want +got):\n%s", d)
				}
				if v >= wire.V7 {
					// V7 tells the runtime what it waits on, and flushes it.
					want := &wire.AwaitingOnMessage{AwaitingOn: &wire.Future{
						CombinatorType: wire.CombinatorFirstCompleted, WaitingCompletions: []uint32{2}, WaitingSignals: []uint32{1},
					}}
					if d := cmp.Diff(wire.Message(want), s.next(), cmpOpts...); d != "" {
						t.Fatalf("second frame (-want +got):\n%s", d)
					}
				}
				// Notifications may arrive in pieces: split one across writes.
				b := frames(notification(wire.TypeCallInvocationIDCompletion, wire.CompletionID(1), wire.Result{Kind: wire.ResultInvocationID, InvocationID: "inv_1child"}),
					notification(wire.TypeCallCompletion, wire.CompletionID(2), wire.ValueResult([]byte(`"pong"`))))
				for _, part := range [][]byte{b[:3], b[3:20], b[20:]} {
					if _, err := s.body.Write(part); err != nil {
						t.Fatal(err)
					}
				}
				// A V7 handler woken by the first notification says again
				// what it still waits on.
				diffFrames(t, output(`"got pong"`), withoutAwaitingOn(s.rest()))
			})
		}
	}
}

// TestStreamSleepAndCancel resumes a parked timer with its completion, and
// cancels another invocation with the cancel signal: a terminal 409.
func TestStreamSleepAndCancel(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		r := newRig(t, proto, "bidi")
		t.Run(name(proto, "timer fires"), func(t *testing.T) {
			t.Parallel()
			s := r.open(t, "/invoke/Greeter/sleep", wire.V6, journal(``)...)
			sleep, ok := s.next().(*wire.SleepCommand)
			if !ok || sleep.ResultCompletionID != 1 {
				t.Fatalf("first frame %#v, want a sleep command with completion 1", sleep)
			}
			s.send(notification(wire.TypeSleepCompletion, wire.CompletionID(1), wire.VoidResult()))
			diffFrames(t, output(`"woke"`), s.rest())
		})
		t.Run(name(proto, "cancelled"), func(t *testing.T) {
			t.Parallel()
			s := r.open(t, "/invoke/Greeter/sleep", wire.V6, journal(``)...)
			if m := s.next(); m.Type() != wire.TypeSleepCommand {
				t.Fatalf("first frame %v, want a sleep command", m.Type())
			}
			s.send(notification(wire.TypeSignalNotification, wire.SignalID(wire.SignalCancel), wire.VoidResult()))
			got := s.rest()
			want := []wire.Message{&wire.OutputCommand{Result: wire.FailureResult(409, "cancelled")}, &wire.EndMessage{}}
			diffFrames(t, want, got)
		})
		t.Run(name(proto, "input closed"), func(t *testing.T) {
			t.Parallel()
			s := r.open(t, "/invoke/Greeter/sleep", wire.V6, journal(``)...)
			if m := s.next(); m.Type() != wire.TypeSleepCommand {
				t.Fatalf("first frame %v, want a sleep command", m.Type())
			}
			// The runtime ends the request body to make the handler suspend.
			_ = s.body.Close()
			want := []wire.Message{&wire.SuspensionMessage{WaitingCompletions: []uint32{1}, WaitingSignals: []uint32{1}}}
			diffFrames(t, want, s.rest())
		})
	}
}

// TestReplayedRunCancelledWaitsForCallID replays a run whose result is in
// the journal after the cancel signal, with a call before it whose
// invocation id has not arrived: cancelling the call needs that id, so
// restate.Run waits for it on the open stream, then cancels the call and
// returns the terminal 409.
func TestReplayedRunCancelledWaitsForCallID(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, proto, "bidi")
			call := &wire.CallCommand{ServiceName: "Other", HandlerName: "echo", Parameter: []byte(`"x"`),
				InvocationIDNotificationIdx: 1, ResultCompletionID: 2}
			s := r.open(t, "/invoke/Greeter/callThenRun", wire.V7, start(5, ""), input(``), call,
				notification(wire.TypeSignalNotification, wire.SignalID(wire.SignalCancel), wire.VoidResult()),
				&wire.RunCommand{ResultCompletionID: 3},
				notification(wire.TypeRunCompletion, wire.CompletionID(3), wire.ValueResult([]byte(`"ran"`))))
			// V7 says what it waits on: the call's invocation id.
			if m := s.next(); m.Type() != wire.TypeAwaitingOn {
				t.Fatalf("first frame %v, want AwaitingOn", m.Type())
			}
			s.send(notification(wire.TypeCallInvocationIDCompletion, wire.CompletionID(1), wire.Result{Kind: wire.ResultInvocationID, InvocationID: "inv_1child"}))
			want := []wire.Message{
				&wire.SendSignalCommand{TargetInvocationID: "inv_1child", Idx: wire.SignalCancel, Result: wire.VoidResult()},
				&wire.OutputCommand{Result: wire.FailureResult(409, "cancelled")},
				&wire.EndMessage{},
			}
			diffFrames(t, want, withoutAwaitingOn(s.rest()))
		})
	}
}

// TestRequestResponseSuspendsAtOnce shows the other mode: with the request
// body still open, the endpoint reads it to its end before the handler runs,
// and a wait suspends instead of parking.
func TestRequestResponseSuspendsAtOnce(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, proto, "request-response")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			pr, pw := io.Pipe()
			respc := make(chan *http.Response, 1)
			go func() {
				resp, err := r.post(ctx, "/invoke/Greeter/sleep", wire.V6, pr)
				if err != nil {
					t.Error(err)
					close(respc)
					return
				}
				respc <- resp
			}()
			_, _ = pw.Write(frames(journal(``)...))
			select {
			case <-respc:
				t.Fatal("answered before the request body ended")
			case <-time.After(50 * time.Millisecond):
			}
			_ = pw.Close()
			resp := <-respc
			if resp == nil {
				return
			}
			defer resp.Body.Close()
			a := readAnswer(t, resp)
			want := []wire.Message{
				&wire.SleepCommand{ResultCompletionID: 1},
				&wire.SuspensionMessage{WaitingCompletions: []uint32{1}, WaitingSignals: []uint32{1}},
			}
			if d := cmp.Diff(want, a.frames, cmp.Options(cmpOpts), cmp.FilterPath(func(p cmp.Path) bool {
				return p.Last().String() == ".WakeUpTime"
			}, cmp.Ignore())); d != "" {
				t.Errorf("frames (-want +got):\n%s", d)
			}
		})
	}
}

// TestLargeOutput streams an output larger than the HTTP/2 flow-control
// window of the client's stream (4 MiB).
func TestLargeOutput(t *testing.T) {
	t.Parallel()
	for _, proto := range protos {
		for _, mode := range modes {
			t.Run(name(proto, mode), func(t *testing.T) {
				t.Parallel()
				r := newRig(t, proto, mode)
				const n = 5 << 20
				a := r.invoke(t, "/invoke/Greeter/big", wire.V6, journal(strconv.Itoa(n))...)
				if len(a.frames) != 2 {
					t.Fatalf("frames %v", types(a.frames))
				}
				out := a.frames[0].(*wire.OutputCommand)
				if len(out.Result.Value) != n {
					t.Errorf("output of %d bytes, want %d", len(out.Result.Value), n)
				}
			})
		}
	}
}

// TestMountedUnderPrefix mounts the handler in a mux under a prefix, without
// stripping it.
func TestMountedUnderPrefix(t *testing.T) {
	t.Parallel()
	h, err := h2c.NewHandler(testServices(), h2c.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/restate/", h)
	mux.HandleFunc("/other", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "mine") })
	r := newRigFor(t, "h2c", "bidi", h, mux)
	a := r.invoke(t, "/restate/invoke/Greeter/greet", wire.V6, journal(`"Bob"`)...)
	diffFrames(t, output(`"Hello Bob!"`), a.frames)
	resp, err := r.client.Get(r.url("/other"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "mine" {
		t.Errorf("the mux's other route answered %q", b)
	}
}

// opaque hides the ResponseWriter's optional interfaces, as a careless
// middleware does.
type opaque struct{ http.ResponseWriter }

// TestBidiNeedsFullDuplex: over HTTP/1.1, bidirectional mode needs a full
// duplex connection; behind a middleware that hides it, the endpoint says so
// with a 500 rather than deadlocking. Request/response mode does not need it.
func TestBidiNeedsFullDuplex(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h, err := h2c.NewHandler(testServices(), append(modeOptions(mode), h2c.WithLogger(quietLogger()))...)
			if err != nil {
				t.Fatal(err)
			}
			wrap := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(opaque{w}, r) })
			r := newRigFor(t, "http1", mode, h, wrap)
			a := r.invoke(t, "/invoke/Greeter/greet", wire.V6, journal(`"Alice"`)...)
			switch mode {
			case "bidi":
				if a.status != http.StatusInternalServerError || !strings.Contains(a.text, "full duplex") {
					t.Errorf("%d %q, want 500 explaining full duplex", a.status, a.text)
				}
			default:
				diffFrames(t, output(`"Hello Alice!"`), a.frames)
			}
		})
	}
}

// TestHTTP1StreamKeepsConnection: over HTTP/1.1, a bidirectional attempt
// flushes its end while the request body is open, and waits for the client
// to end the body, as restate-server does on reading the end; the
// connection then serves the next invocation.
func TestHTTP1StreamKeepsConnection(t *testing.T) {
	t.Parallel()
	h, err := h2c.NewHandler(testServices(), h2c.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	s := httptest.NewUnstartedServer(h)
	s.Config.Protocols = h2c.NewServer("", nil).Protocols
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	r := &rig{proto: "http1", mode: "bidi", h: h, srv: s, base: s.URL, client: newClient(t, "http1")}
	for range 10 {
		st := r.open(t, "/invoke/Greeter/call", wire.V6, journal(`"ping"`)...)
		if m := st.next(); m.Type() != wire.TypeCallCommand {
			t.Fatalf("first frame %v", m.Type())
		}
		st.send(notification(wire.TypeCallCompletion, wire.CompletionID(2), wire.ValueResult([]byte(`"pong"`))))
		diffFrames(t, output(`"got pong"`)[:1], []wire.Message{st.next()})
		if m := st.next(); m.Type() != wire.TypeEnd {
			t.Fatalf("frame %v, want End", m.Type())
		}
		_ = st.body.Close()
		if rest := st.rest(); len(rest) > 0 {
			t.Fatalf("frames after End: %v", types(rest))
		}
		st.close()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 10 invocations, want 1", n)
	}
}
