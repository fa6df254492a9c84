package ingress_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

// The tests of this package run against a real restate-server, started
// once for the test binary by TestMain; they fail (not skip) when it cannot
// be installed or started.

var (
	server *restateserver.Server
	client *ingress.Client
	admin  *ingress.Admin
	// ingressURL and adminURL are what the examples pass to NewClient and
	// NewAdmin.
	ingressURL, adminURL string
	// endpointURL is where the test services are served.
	endpointURL string
)

// The services the tests and examples call.

var greet = restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
	if name == "" {
		return "", &restate.TerminalError{Code: 422, Message: "a name is required",
			Metadata: map[string]string{"field": "name"}}
	}
	return "Hello " + name + "!", nil
})

var greetRuns atomic.Int64

var countedGreet = restate.NewHandler("countedGreet", func(ctx restate.Context, name string) (string, error) {
	greetRuns.Add(1)
	return "Hi " + name, nil
})

var echoHeader = restate.NewHandler("echoHeader", func(ctx restate.Context, name string) (string, error) {
	return ctx.Request().Headers[name], nil
})

var slowEcho = restate.NewHandler("slowEcho", func(ctx restate.Context, in SlowInput) (string, error) {
	if err := restate.Sleep(ctx, time.Duration(in.Millis)*time.Millisecond); err != nil {
		return "", err
	}
	return in.Text, nil
})

// SlowInput is the input of slowEcho.
type SlowInput struct {
	Text   string `json:"text"`
	Millis int    `json:"millis"`
}

var startedAt = restate.NewHandler("startedAt", restate.NoInput(func(ctx restate.Context) (int64, error) {
	now, err := restate.Now(ctx)
	return now.UnixMilli(), err
}))

var ping = restate.NewHandler("ping", restate.NoInputOutput(func(ctx restate.Context) error { return nil }))

var waitAwakeable = restate.NewHandler("waitAwakeable", func(ctx restate.Context, tag string) (string, error) {
	a := restate.NewAwakeable[string](ctx)
	// Publish the id through a state-free side channel: a journaled run
	// hands it to the test.
	if err := restate.RunVoid(ctx, func(restate.RunContext) error {
		awakeables.publish(tag, a.ID())
		return nil
	}); err != nil {
		return "", err
	}
	return a.Await()
})

var testService = restate.NewService("IngressTest", greet, countedGreet, echoHeader, slowEcho, startedAt, ping, waitAwakeable)

var total = restate.NewStateKey[int]("total")

var addTo = restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
	v, err := total.Get(ctx)
	if err != nil {
		return 0, err
	}
	return v + n, total.Set(ctx, v+n)
})

var testObject = restate.NewObject("IngressCounter", addTo)

var approve = restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, doc string) (string, error) {
	verdict, err := restate.Promise[string](ctx, "verdict").Result().Await()
	if err != nil {
		return "", err
	}
	return doc + ": " + verdict, nil
})

var decide = restate.NewWorkflowSharedHandler("decide", restate.NoOutput(func(ctx restate.WorkflowSharedContext, verdict string) error {
	return restate.Promise[string](ctx, "verdict").Resolve(verdict)
}))

var testWorkflow = restate.NewWorkflow("IngressApproval", approve, decide)

// awakeables hands awakeable ids from handlers to tests, by tag.
var awakeables = &mailbox{chans: map[string]chan string{}}

type mailbox struct {
	mu    sync.Mutex
	chans map[string]chan string
}

func (m *mailbox) ch(tag string) chan string {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.chans[tag]
	if c == nil {
		c = make(chan string, 1)
		m.chans[tag] = c
	}
	return c
}

func (m *mailbox) publish(tag, id string) {
	select {
	case m.ch(tag) <- id:
	default:
	}
}

func (m *mailbox) wait(t testing.TB, tag string) string {
	t.Helper()
	id := m.next(tag)
	if id == "" {
		t.Fatalf("no awakeable published for %q", tag)
	}
	return id
}

// next returns the next awakeable id published for tag, or "" after 20s.
func (m *mailbox) next(tag string) string {
	select {
	case id := <-m.ch(tag):
		return id
	case <-time.After(20 * time.Second):
		return ""
	}
}

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingress tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Two partitions instead of 24: a fresh server elects a leader for each
	// before the first invocation on it runs, which takes seconds.
	srv, err := restateserver.Start(ctx, restateserver.Options{Env: map[string]string{"RESTATE_DEFAULT_NUM_PARTITIONS": "2"}})
	if err != nil {
		return 0, fmt.Errorf("cannot start restate-server (these end-to-end tests need it): %w", err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	served := make(chan error, 1)
	go func() {
		served <- h2c.Serve(ctx, ln, []restate.ServiceDefinition{testService, testObject, testWorkflow})
	}()
	server, ingressURL, adminURL = srv, srv.IngressURL(), srv.AdminURL()
	endpointURL = "http://" + ln.Addr().String()
	client, admin = ingress.NewClient(ingressURL), ingress.NewAdmin(adminURL)
	if _, err := admin.Register(ctx, endpointURL); err != nil {
		return 0, err
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- restate-server log (last lines) ---\n%s\n", tail(srv.Logs(), 60))
	}
	cancel()
	if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
		return code, fmt.Errorf("serving the test services: %w", err)
	}
	return code, nil
}

func tail(s string, n int) string {
	lines := 0
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			lines++
			if lines > n {
				return s[i+1:]
			}
		}
	}
	return s
}

// testCtx returns a context that ends with the test or after a minute.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
