package h2c_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/wire"
)

// leakKind is one way an invocation ends; run performs one invocation and
// checks how it ended.
type leakKind struct {
	name string
	run  func(r *rig, i int) error
}

func expectLast(msgs []wire.Message, t wire.Type) error {
	if len(msgs) == 0 || msgs[len(msgs)-1].Type() != t {
		return fmt.Errorf("frames %v, want them to end with %v", types(msgs), t)
	}
	return nil
}

// whole sends body at once and returns the frames of the answer.
func (r *rig) whole(ctx context.Context, path string, body []byte) ([]wire.Message, error) {
	resp, err := r.post(ctx, path, wire.V6, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return decodeFrames(b)
}

// openStream starts an invocation whose request body stays open.
func (r *rig) openStream(ctx context.Context, path string, msgs ...wire.Message) (*io.PipeWriter, *wire.Reader, func(), error) {
	pr, pw := io.Pipe()
	context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
	go func() { _, _ = pw.Write(frames(msgs...)) }()
	resp, err := r.post(ctx, path, wire.V6, pr)
	if err != nil {
		pw.Close()
		return nil, nil, nil, err
	}
	return pw, wire.NewReader(resp.Body, 0), func() { pw.Close(); resp.Body.Close() }, nil
}

// readUntil reads frames up to and including the first of one of the types
// in stop.
func readUntil(fr *wire.Reader, stop ...wire.Type) ([]wire.Message, error) {
	var msgs []wire.Message
	for {
		f, err := fr.Next()
		if err != nil {
			return msgs, fmt.Errorf("after %v: %w", types(msgs), err)
		}
		m, err := f.Decode()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
		if slices.Contains(stop, m.Type()) {
			return msgs, nil
		}
	}
}

func readAll(fr *wire.Reader) ([]wire.Message, error) {
	var out []wire.Message
	for {
		f, err := fr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		m, err := f.Decode()
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

var leakKinds = []leakKind{
	{"completion", func(r *rig, i int) error {
		msgs, err := r.whole(context.Background(), "/invoke/Greeter/greet", frames(journal(`"Alice"`)...))
		if err != nil {
			return err
		}
		return expectLast(msgs, wire.TypeEnd)
	}},
	{"suspension", func(r *rig, i int) error {
		msgs, err := r.whole(context.Background(), "/invoke/Greeter/sleep", frames(journal(``)...))
		if err != nil {
			return err
		}
		return expectLast(msgs, wire.TypeSuspension)
	}},
	{"error", func(r *rig, i int) error {
		path := "/invoke/Greeter/fail"
		if i%10 == 0 {
			path = "/invoke/Greeter/panic"
		}
		msgs, err := r.whole(context.Background(), path, frames(journal(``)...))
		if err != nil {
			return err
		}
		return expectLast(msgs, wire.TypeError)
	}},
	{"cancellation", func(r *rig, i int) error {
		cancel := notification(wire.TypeSignalNotification, wire.SignalID(wire.SignalCancel), wire.VoidResult())
		if r.mode == "request-response" {
			msgs, err := r.whole(context.Background(), "/invoke/Greeter/sleep", frames(start(2, ""), input(``), cancel))
			if err != nil {
				return err
			}
			return expectLast(msgs, wire.TypeEnd)
		}
		body, fr, done, err := r.openStream(context.Background(), "/invoke/Greeter/sleep", journal(``)...)
		if err != nil {
			return err
		}
		defer done()
		if _, err := fr.Next(); err != nil { // the sleep command
			return err
		}
		if _, err := body.Write(frames(cancel)); err != nil {
			return err
		}
		// As the runtime does, end the request body once the attempt ended.
		var msgs []wire.Message
		for len(msgs) == 0 || msgs[len(msgs)-1].Type() != wire.TypeEnd {
			f, err := fr.Next()
			if err != nil {
				return fmt.Errorf("after %v: %w", types(msgs), err)
			}
			m, err := f.Decode()
			if err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
		body.Close()
		if rest, err := readAll(fr); err != nil || len(rest) > 0 {
			return fmt.Errorf("after the end: %v, %v", types(rest), err)
		}
		return nil
	}},
	{"client disconnect", func(r *rig, i int) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if r.mode == "request-response" {
			// The handler is running when the client goes away.
			go func() { time.Sleep(time.Duration(i%5) * time.Millisecond); cancel() }()
			_, _ = r.whole(ctx, "/invoke/Greeter/wait", frames(journal("10000")...))
			return nil
		}
		_, fr, done, err := r.openStream(ctx, "/invoke/Greeter/sleep", journal(``)...)
		if err != nil {
			return err
		}
		defer done()
		if _, err := fr.Next(); err != nil { // the sleep command: the handler waits
			return err
		}
		cancel()
		return nil
	}},
	{"run closure", func(r *rig, i int) error {
		// A run closure starts the reader of notifications (bidi): the
		// completion of the proposed run comes back on the open stream.
		if r.mode == "request-response" {
			msgs, err := r.whole(context.Background(), "/invoke/Greeter/slow", frames(journal("1")...))
			if err != nil {
				return err
			}
			return expectLast(msgs, wire.TypeSuspension)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pw, fr, done, err := r.openStream(ctx, "/invoke/Greeter/slow", journal("1")...)
		if err != nil {
			return err
		}
		defer done()
		msgs, err := readUntil(fr, wire.TypeProposeRunCompletion)
		if err != nil {
			return err
		}
		if _, err := pw.Write(frames(notification(wire.TypeRunCompletion, wire.CompletionID(1), wire.ValueResult([]byte(`"done"`))))); err != nil {
			return err
		}
		pw.Close()
		rest, err := readAll(fr)
		if err != nil {
			return err
		}
		return expectLast(append(msgs, rest...), wire.TypeEnd)
	}},
	{"disconnect during run", func(r *rig, i int) error {
		// The client goes away while a run closure executes (and, in bidi
		// mode, while the reader of notifications reads).
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { time.Sleep(time.Duration(1+i%5) * time.Millisecond); cancel() }()
		if r.mode == "request-response" {
			_, _ = r.whole(ctx, "/invoke/Greeter/block", frames(journal(``)...))
			return nil
		}
		_, fr, done, err := r.openStream(ctx, "/invoke/Greeter/block", journal(``)...)
		if err != nil {
			return nil // cancelled before the response began
		}
		defer done()
		_, _ = readAll(fr)
		return nil
	}},
	{"cancel signal during run", func(r *rig, i int) error {
		// The cancel signal arrives while a run closure executes: it
		// cancels the closure's context, and the invocation ends.
		if r.mode == "request-response" {
			return nil // nothing arrives while a closure executes
		}
		// Nothing is written before the closure ends (the response begins
		// with the first frames), so the signal goes out without waiting
		// for the response.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pr, pw := io.Pipe()
		defer pw.Close()
		go func() {
			if _, err := pw.Write(frames(journal(``)...)); err != nil {
				return
			}
			time.Sleep(time.Duration(1+i%3) * time.Millisecond)
			_, _ = pw.Write(frames(notification(wire.TypeSignalNotification, wire.SignalID(wire.SignalCancel), wire.VoidResult())))
		}()
		resp, err := r.post(ctx, "/invoke/Greeter/block", wire.V6, pr)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		msgs, err := readUntil(wire.NewReader(resp.Body, 0), wire.TypeEnd, wire.TypeError, wire.TypeSuspension)
		if err != nil {
			return err
		}
		// The run is journaled as cancelled, and the invocation ends as
		// cancelled in this attempt.
		return expectLast(msgs, wire.TypeEnd)
	}},
	{"stalled peer", func(r *rig, i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(2+i%5)*time.Millisecond)
		defer cancel()
		b := frames(journal(`"Alice"`)...)
		pr, pw := io.Pipe()
		// The HTTP/1.1 client waits for the body writer to end even after
		// the request was cancelled, so the stalled body must end then.
		stop := context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
		defer stop()
		go func() { _, _ = pw.Write(b[:len(b)-3]) }() // then nothing
		resp, err := r.post(ctx, "/invoke/Greeter/greet", wire.V6, pr)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return nil
	}},
}

// ownGoroutines returns the stacks of goroutines running this module's
// transport or handler code.
func ownGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "restate-sdk-go/h2c.(*Handler)") || strings.Contains(g, "internal/invocation.(*Invocation).run") {
			out = append(out, g)
		}
	}
	return out
}

// waitGoroutines polls until at most n goroutines run, and reports the
// count it saw last.
func waitGoroutines(n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		got := runtime.NumGoroutine()
		if got <= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var leakN = flag.Int("leak.n", 400, "invocations per kind, transport and mode in TestNoGoroutineLeaks (100 with -short)")

// TestNoGoroutineLeaks runs thousands of invocations of every kind (400 per
// kind, transport and mode: 1600 per kind; see -leak.n) and checks that no
// goroutine outlives them: first that no handler or transport goroutine of
// ours is left while the servers still run, then that the goroutine count
// returns to the baseline once the servers and clients are closed.
func TestNoGoroutineLeaks(t *testing.T) {
	n := *leakN
	if testing.Short() {
		n = min(n, 100)
	}
	const workers = 48
	base := runtime.NumGoroutine()
	total := 0
	for _, proto := range protos {
		for _, mode := range modes {
			opts := append([]h2c.Option{h2c.WithLogger(quietLogger())}, modeOptions(mode)...)
			h, err := h2c.NewHandler(testServices(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			srv := serve(t, h)
			r := &rig{proto: proto, mode: mode, h: h, srv: srv, base: srv.URL, client: newClient(t, proto)}
			for _, k := range leakKinds {
				begin := time.Now()
				var (
					wg   sync.WaitGroup
					mu   sync.Mutex
					errs []error
				)
				next := make(chan int)
				for range workers {
					wg.Go(func() {
						for i := range next {
							if err := k.run(r, i); err != nil {
								mu.Lock()
								errs = append(errs, err)
								mu.Unlock()
							}
						}
					})
				}
				for i := range n {
					next <- i
				}
				close(next)
				wg.Wait()
				total += n
				if len(errs) > 0 {
					t.Errorf("%s/%s/%s: %d of %d invocations failed, first: %v", proto, mode, k.name, len(errs), n, errs[0])
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				err := h2c.Idle(ctx, h)
				cancel()
				if err != nil {
					t.Fatalf("%s/%s/%s: invocations still in flight after 20s", proto, mode, k.name)
				}
				if own := waitOwn(5 * time.Second); len(own) > 0 {
					t.Fatalf("%s/%s/%s: %d goroutines of ours left while the server runs; first:\n%s", proto, mode, k.name, len(own), own[0])
				}
				t.Logf("%s/%s/%s: %d invocations in %s, goroutines now %d (%d stacks)", proto, mode, k.name, n, time.Since(begin).Round(time.Millisecond), runtime.NumGoroutine(), stacks())
			}
			r.client.Transport.(interface{ CloseIdleConnections() }).CloseIdleConnections()
			srv.Close()
		}
	}
	got := waitGoroutines(base, 10*time.Second)
	t.Logf("%d invocations; goroutines: %d before, %d after", total, base, got)
	if got > base {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after the invocations, %d before:\n%s", got, base, buf[:runtime.Stack(buf, true)])
	}
}

func stacks() int {
	buf := make([]byte, 4<<20)
	n := runtime.Stack(buf, true)
	return bytes.Count(buf[:n], []byte("\ngoroutine ")) + 1
}

// waitOwn polls ownGoroutines until none is left or d passes.
func waitOwn(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		own := ownGoroutines()
		if len(own) == 0 || time.Now().After(deadline) {
			return own
		}
		time.Sleep(10 * time.Millisecond)
	}
}
