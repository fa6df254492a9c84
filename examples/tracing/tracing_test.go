package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/ingress"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

var (
	env   e2e.Env
	spans = tracetest.NewInMemoryExporter()
	logs  syncBuffer
)

func TestMain(m *testing.M) {
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	e2e.Main(m, &env, e2e.Options{
		// Server-side tracing on, so that restate-server sends each attempt
		// the trace context of its invocation span. Nothing listens on the
		// collector address: the server's own spans are dropped.
		ServerEnv: map[string]string{"RESTATE_TRACING_ENDPOINT": "http://" + closedAddr()},
		Serve:     []h2c.Option{h2c.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))},
	}, Orders)
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:1"
	}
	defer ln.Close()
	return ln.Addr().String()
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the log records of the invocation id.
func (b *syncBuffer) records(id string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(b.buf.String(), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["restate.invocation.id"] == id {
			out = append(out, r)
		}
	}
	return out
}

func TestTraceAndLogs(t *testing.T) {
	ctx := e2e.Context(t)

	// The caller's span, propagated to the ingress as a traceparent header.
	cctx, client := otel.Tracer("test").Start(ctx, "client request")
	headers := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(cctx, headers)
	inv, err := ingress.Send(cctx, env.Client, Process.Target(), Order{ID: "o-1", Items: 3, Flaky: true},
		ingress.WithHeaders(headers))
	if err != nil {
		t.Fatal(err)
	}
	got, err := inv.Attach(ctx)
	client.End()
	if err != nil || got != "R-o-1-3/P-o-1" {
		t.Fatalf("process = %q, %v", got, err)
	}

	// Spans: every one in the caller's trace; one per attempt (two: the
	// first charge timed out), one per run.
	traceID := client.SpanContext().TraceID()
	count := map[string]int{}
	for _, s := range spans.GetSpans() {
		if s.SpanContext.TraceID() != traceID {
			continue
		}
		count[s.Name]++
		if s.Name != "client request" && s.Parent.SpanID() == client.SpanContext().SpanID() {
			t.Errorf("span %q is a direct child of the client's span; want it under restate-server's invocation span", s.Name)
		}
	}
	want := map[string]int{"client request": 1, "process attempt": 2, "reserve stock": 1, "charge": 2}
	for name, n := range want {
		if count[name] != n {
			t.Errorf("%d %q spans in the trace, want %d (all: %v)", count[name], name, n, count)
		}
	}

	// Logs: each line once, although the handler ran twice.
	lines := map[string]int{}
	for _, r := range logs.records(inv.ID()) {
		lines[r["msg"].(string)]++
		if r["restate.invocation.target"] != "Orders/process" || r["order"] != "o-1" {
			t.Errorf("log record %v lacks the invocation's attributes", r)
		}
	}
	for _, msg := range []string{"processing order", "stock reserved", "order processed"} {
		if lines[msg] != 1 {
			t.Errorf("%q logged %d times, want once (all: %v)", msg, lines[msg], lines)
		}
	}
}
