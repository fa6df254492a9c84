package h2c_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Test services. Their handlers cover every way an attempt ends: a value,
// a suspension, a retryable error, a panic, a cancellation, and waits that
// only a notification on an open stream can end without suspending.

// runs counts handler starts, to prove that rejected requests run no user
// code.
var runs atomic.Int64

// runStarted receives a value whenever the block handler's run closure
// starts, and runEnded the context error it ended with.
var (
	runStarted  = make(chan struct{}, 1024)
	runEnded    = make(chan error, 1024)
	waitStarted = make(chan struct{}, 1024)
)

func greeterService() *restate.Service {
	return restate.NewService("Greeter",
		restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
			runs.Add(1)
			return "Hello " + name + "!", nil
		}),
		// call awaits another service: on an open stream the result
		// arrives as a notification.
		restate.NewHandler("call", func(ctx restate.Context, name string) (string, error) {
			runs.Add(1)
			out, err := restate.Remote[string, string]("Other", "echo").Call(ctx, name).Await()
			if err != nil {
				return "", err
			}
			return "got " + out, nil
		}),
		// callThenRun starts a call without awaiting it, then runs: a
		// cancellation found while awaiting the run cancels the call.
		restate.NewHandler("callThenRun", restate.NoInput(func(ctx restate.Context) (string, error) {
			runs.Add(1)
			_ = restate.Remote[string, string]("Other", "echo").Call(ctx, "x")
			return restate.Run(ctx, func(restate.RunContext) (string, error) { return "ran", nil })
		})),
		// sleep waits for a timer; cancelling the invocation ends it with
		// a terminal 409.
		restate.NewHandler("sleep", restate.NoInput(func(ctx restate.Context) (string, error) {
			runs.Add(1)
			if err := restate.Sleep(ctx, time.Hour); err != nil {
				return "", err
			}
			return "woke", nil
		})),
		restate.NewHandler("fail", restate.NoInput(func(ctx restate.Context) (string, error) {
			runs.Add(1)
			return "", errors.New("boom")
		})),
		restate.NewHandler("panic", restate.NoInput(func(ctx restate.Context) (string, error) {
			runs.Add(1)
			panic("kaboom")
		})),
		// big returns n bytes, raw.
		restate.NewHandler("big", func(ctx restate.Context, n int) ([]byte, error) {
			runs.Add(1)
			return bytes.Repeat([]byte{'x'}, n), nil
		}, restate.WithOutputCodec(restate.Raw)),
		// slow runs a closure for d milliseconds, then returns.
		restate.NewHandler("slow", func(ctx restate.Context, ms int) (string, error) {
			runs.Add(1)
			return restate.Run(ctx, func(rc restate.RunContext) (string, error) {
				select {
				case <-time.After(time.Duration(ms) * time.Millisecond):
					return "done", nil
				case <-rc.Done():
					return "", rc.Err()
				}
			})
		}),
		// wait waits ms milliseconds without journaling anything, then
		// returns; it stops early when its context ends.
		restate.NewHandler("wait", func(ctx restate.Context, ms int) (string, error) {
			runs.Add(1)
			notify(waitStarted, struct{}{})
			select {
			case <-time.After(time.Duration(ms) * time.Millisecond):
				return "done", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}),
		// block runs a closure that only ends when its context does.
		restate.NewHandler("block", restate.NoInput(func(ctx restate.Context) (string, error) {
			runs.Add(1)
			return restate.Run(ctx, func(rc restate.RunContext) (string, error) {
				notify(runStarted, struct{}{})
				<-rc.Done()
				notify(runEnded, rc.Err())
				return "", rc.Err()
			})
		})),
	)
}

// notify sends v on ch unless ch is full: the channels are shared by tests
// that do not all read them.
func notify[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// drainChan empties ch.
func drainChan[T any](ch chan T) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

var count = restate.NewStateKey[int]("count")

func counterObject() *restate.Object {
	return restate.NewObject("Counter",
		restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
			runs.Add(1)
			v, err := count.Get(ctx)
			if err != nil {
				return 0, err
			}
			v += n
			return v, count.Set(ctx, v)
		}),
	)
}

func testServices() []restate.ServiceDefinition {
	return []restate.ServiceDefinition{greeterService(), counterObject()}
}

// quietLogger drops records below Error, so that tests of bad input do not
// flood the output; set H2C_TEST_LOG=1 to see everything.
func quietLogger() *slog.Logger {
	level := slog.LevelError + 1
	if testing.Verbose() && envSet("H2C_TEST_LOG") {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))
}

// capture is a slog handler that keeps messages, to check that bad input
// is logged.
type capture struct{ msgs chan string }

func newCapture() *capture { return &capture{msgs: make(chan string, 1<<14)} }

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	select {
	case c.msgs <- r.Message:
	default:
	}
	return nil
}
func (c *capture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *capture) WithGroup(string) slog.Handler      { return c }

func (c *capture) drain() []string {
	var out []string
	for {
		select {
		case m := <-c.msgs:
			out = append(out, m)
		default:
			return out
		}
	}
}

// ---------------------------------------------------------------------------
// Servers and clients

// Transport protocols under test: HTTP/2 cleartext with prior knowledge,
// and HTTP/1.1.
var protos = []string{"h2c", "http1"}

// Stream modes under test.
var modes = []string{"bidi", "request-response"}

// protocols returns the protocols of a client speaking proto.
func protocols(proto string) *http.Protocols {
	var p http.Protocols
	switch proto {
	case "h2c":
		p.SetUnencryptedHTTP2(true)
	case "http1":
		p.SetHTTP1(true)
	default:
		panic("unknown protocol " + proto)
	}
	return &p
}

// newClient returns a client that speaks only proto.
func newClient(t testing.TB, proto string) *http.Client {
	tr := &http.Transport{Protocols: protocols(proto), MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// serve starts an httptest server for h that speaks HTTP/1.1 and HTTP/2
// cleartext on one port, as h2c.NewServer configures it.
func serve(t testing.TB, h http.Handler) *httptest.Server {
	s := httptest.NewUnstartedServer(h)
	s.Config.Protocols = h2c.NewServer("", nil).Protocols
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// rig is an endpoint served over a real server, and a client for one
// protocol.
type rig struct {
	proto, mode string
	h           *h2c.Handler
	srv         *httptest.Server // nil when the endpoint is served otherwise
	base        string           // URL of the endpoint
	client      *http.Client
}

func modeOptions(mode string) []h2c.Option {
	if mode == "request-response" {
		return []h2c.Option{h2c.WithRequestResponse()}
	}
	return nil
}

func newRig(t testing.TB, proto, mode string, opts ...h2c.Option) *rig {
	t.Helper()
	opts = append(append([]h2c.Option{h2c.WithLogger(quietLogger())}, modeOptions(mode)...), opts...)
	h, err := h2c.NewHandler(testServices(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return newRigFor(t, proto, mode, h, h)
}

// newRigFor serves handler (which contains h) over a new server.
func newRigFor(t testing.TB, proto, mode string, h *h2c.Handler, handler http.Handler) *rig {
	srv := serve(t, handler)
	return &rig{proto: proto, mode: mode, h: h, srv: srv, base: srv.URL, client: newClient(t, proto)}
}

func (r *rig) url(path string) string { return r.base + path }

// post sends an invocation request with body and returns the response, whose
// body the caller closes.
func (r *rig) post(ctx context.Context, path string, v wire.Version, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url(path), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("content-type", v.ContentType())
	req.Header.Set("accept", v.ContentType())
	return r.client.Do(req)
}

// answer is a whole response to an invocation request.
type answer struct {
	status int
	header http.Header
	proto  int
	frames []wire.Message
	text   string // the body of a non-200 answer
}

// invoke sends msgs as one request body and reads the whole answer.
func (r *rig) invoke(t testing.TB, path string, v wire.Version, msgs ...wire.Message) answer {
	t.Helper()
	return r.invokeRaw(t, path, v, frames(msgs...))
}

func (r *rig) invokeRaw(t testing.TB, path string, v wire.Version, body []byte) answer {
	t.Helper()
	resp, err := r.post(context.Background(), path, v, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return readAnswer(t, resp)
}

func readAnswer(t testing.TB, resp *http.Response) answer {
	t.Helper()
	a := answer{status: resp.StatusCode, header: resp.Header, proto: resp.ProtoMajor}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		a.text = string(b)
		return a
	}
	a.frames, err = decodeFrames(b)
	if err != nil {
		t.Fatalf("decoding the response: %v", err)
	}
	return a
}

// ---------------------------------------------------------------------------
// Frames

var invocationID = []byte{0, 0, 0, 0, 0, 0, 0, 0x2a, 0x01, 0x96, 0xf1, 0xc2, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8, 0x09, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}

// start returns the start message of an attempt whose journal has known
// entries.
func start(known uint32, key string) *wire.StartMessage {
	return &wire.StartMessage{
		ID: invocationID, DebugID: "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz",
		KnownEntries: known, Key: key, RandomSeed: 42, PartialState: true,
	}
}

func input(json string) *wire.InputCommand { return &wire.InputCommand{Value: []byte(json)} }

// journal returns a start message and an input command: the body of a first
// attempt.
func journal(json string) []wire.Message {
	return []wire.Message{start(1, ""), input(json)}
}

func frames(msgs ...wire.Message) []byte {
	var b []byte
	for _, m := range msgs {
		b = wire.AppendFrame(b, m, 0)
	}
	return b
}

func decodeFrames(b []byte) ([]wire.Message, error) {
	r := wire.NewReader(bytes.NewReader(b), 0)
	var msgs []wire.Message
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		m, err := f.Decode()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}

func notification(t wire.Type, id wire.NotificationID, r wire.Result) *wire.Notification {
	return &wire.Notification{MessageType: t, ID: id, Result: r}
}

func output(json string) []wire.Message {
	return []wire.Message{&wire.OutputCommand{Result: wire.ValueResult([]byte(json))}, &wire.EndMessage{}}
}

var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

func diffFrames(t testing.TB, want, got []wire.Message) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("frames (-want +got):\n%s", d)
	}
}

// types returns the message types of msgs.
func types(msgs []wire.Message) []wire.Type {
	out := make([]wire.Type, len(msgs))
	for i, m := range msgs {
		out[i] = m.Type()
	}
	return out
}

// withoutAwaitingOn drops AwaitingOnMessage hints from msgs.
func withoutAwaitingOn(msgs []wire.Message) []wire.Message {
	var out []wire.Message
	for _, m := range msgs {
		if m.Type() != wire.TypeAwaitingOn {
			out = append(out, m)
		}
	}
	return out
}

// errorCode returns the code of the ErrorMessage that ends msgs.
func errorCode(t testing.TB, msgs []wire.Message) uint32 {
	t.Helper()
	if len(msgs) == 0 {
		t.Fatal("no frames")
	}
	e, ok := msgs[len(msgs)-1].(*wire.ErrorMessage)
	if !ok {
		t.Fatalf("frames end with %v, want an ErrorMessage", types(msgs))
	}
	return e.Code
}

// stream is an open bidirectional invocation: the request body is a pipe
// the test writes to while it reads the response frames.
type stream struct {
	t      testing.TB
	body   *io.PipeWriter
	resp   *http.Response
	frames *wire.Reader
	cancel context.CancelFunc
}

// open starts an invocation whose request body stays open, writes msgs, and
// waits for the response headers.
func (r *rig) open(t testing.TB, path string, v wire.Version, msgs ...wire.Message) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := r.post(ctx, path, v, pr)
		done <- result{resp, err}
	}()
	if _, err := pw.Write(frames(msgs...)); err != nil {
		cancel()
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil {
		cancel()
		t.Fatal(res.err)
	}
	if res.resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("status %d", res.resp.StatusCode)
	}
	s := &stream{t: t, body: pw, resp: res.resp, frames: wire.NewReader(res.resp.Body, 0), cancel: cancel}
	t.Cleanup(s.close)
	return s
}

// send writes msgs on the open request body.
func (s *stream) send(msgs ...wire.Message) {
	s.t.Helper()
	if _, err := s.body.Write(frames(msgs...)); err != nil {
		s.t.Fatalf("writing the request body: %v", err)
	}
}

// next reads the next response frame.
func (s *stream) next() wire.Message {
	s.t.Helper()
	f, err := s.frames.Next()
	if err != nil {
		s.t.Fatalf("reading the next frame: %v", err)
	}
	m, err := f.Decode()
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

// rest reads the frames up to the end of the response. Once a frame ends
// the attempt it ends the request body, as restate-server does.
func (s *stream) rest() []wire.Message {
	s.t.Helper()
	var out []wire.Message
	for {
		if n := len(out); n > 0 {
			switch out[n-1].Type() {
			case wire.TypeEnd, wire.TypeSuspension, wire.TypeError:
				_ = s.body.Close()
			}
		}
		f, err := s.frames.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			s.t.Fatalf("reading frames: %v (after %v)", err, types(out))
		}
		m, err := f.Decode()
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, m)
	}
}

func (s *stream) close() {
	_ = s.body.Close()
	_ = s.resp.Body.Close()
	s.cancel()
}

func envSet(name string) bool {
	v, _ := os.LookupEnv(name)
	return v != "" && v != "0"
}

func name(parts ...any) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, "/")
}

func slogger(h slog.Handler) *slog.Logger { return slog.New(h) }
