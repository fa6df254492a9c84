// Command tracing serves a Restate service that logs with the replay-aware
// logger and bridges Restate's trace context to OpenTelemetry.
//
// Logging: ctx.Log() is a *slog.Logger that drops records while the
// handler replays journaled operations, so each line appears once per
// invocation, not once per attempt. It carries the invocation id and
// target as attributes.
//
// Tracing: restate-server sends each attempt the W3C trace context of the
// invocation's span (when its own tracing is on, RESTATE_TRACING_ENDPOINT);
// the handler sees it in Request().TraceParent and TraceState. [SpanContext]
// turns it into a context.Context for OpenTelemetry, so spans made in the
// handler join the trace that started at the caller. Without server-side
// tracing it falls back to the caller's own traceparent header.
//
// This example lives in its own Go module because it depends on
// go.opentelemetry.io/otel; the SDK itself does not.
//
//	go run . &   # serves on :9080, spans printed to stdout
//	restate deployments register http://localhost:9080
//	curl localhost:8080/Orders/process --json '{"id": "o-1", "items": 3}'
package main

import (
	"context"
	"fmt"

	restate "github.com/qcodr/restate-sdk-go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Order is the input of process.
type Order struct {
	ID    string `json:"id"`
	Items int    `json:"items"`
	// Flaky makes the payment provider time out on the first attempt, so
	// the handler is retried and replays its journal.
	Flaky bool `json:"flaky,omitempty"`
}

// tracer is the example's tracer, from the global provider main (or the
// test) installs.
func tracer() trace.Tracer { return otel.Tracer("github.com/qcodr/restate-sdk-go/examples/tracing") }

// SpanContext returns a context carrying the invocation's trace context:
// the one restate-server sent with the attempt, or else the traceparent
// header the caller sent with the invocation. Spans started from it are
// children of the invocation's span.
func SpanContext(ctx restate.Context) context.Context {
	req := ctx.Request()
	carrier := propagation.MapCarrier{}
	if req.TraceParent != "" {
		carrier["traceparent"] = req.TraceParent
		if req.TraceState != "" {
			carrier["tracestate"] = req.TraceState
		}
	} else {
		for _, k := range []string{"traceparent", "tracestate"} {
			if v, ok := req.Headers[k]; ok {
				carrier[k] = v
			}
		}
	}
	return propagation.TraceContext{}.Extract(ctx, carrier)
}

// traced runs fn in a run, inside a span. The closure of a run executes
// once per invocation (its result is journaled), so the span is recorded
// once too, even when the handler is retried.
func traced[T any](ctx restate.Context, parent context.Context, name string, fn func(context.Context) (T, error)) (T, error) {
	return restate.Run(ctx, func(rc restate.RunContext) (T, error) {
		sctx, span := tracer().Start(parent, name)
		defer span.End()
		v, err := fn(sctx)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		return v, err
	}, restate.WithName(name))
}

// Process handles an order: it reserves stock and charges the customer,
// each a durable step with its own span, and logs its progress.
var Process = restate.NewHandler("process", func(ctx restate.Context, o Order) (string, error) {
	log := ctx.Log().With("order", o.ID)
	log.Info("processing order", "items", o.Items)

	// One span per attempt: it shows retries in the trace.
	parent, attempt := tracer().Start(SpanContext(ctx), "process attempt",
		trace.WithAttributes(attribute.Int("restate.retry_count", int(ctx.Request().RetryCount))))
	defer attempt.End()

	reservation, err := traced(ctx, parent, "reserve stock", func(context.Context) (string, error) {
		return fmt.Sprintf("R-%s-%d", o.ID, o.Items), nil
	})
	if err != nil {
		return "", err
	}
	log.Info("stock reserved", "reservation", reservation)

	payment, err := traced(ctx, parent, "charge", func(context.Context) (string, error) {
		if o.Flaky && ctx.Request().RetryCount == 0 {
			return "", fmt.Errorf("payment provider timed out")
		}
		return "P-" + o.ID, nil
	})
	if err != nil {
		// Only a terminal error gets here: a transient one ends the attempt
		// inside Run, and Restate retries the invocation.
		log.Warn("charge failed", "err", err)
		return "", err
	}
	log.Info("order processed", "payment", payment)
	return reservation + "/" + payment, nil
})

// Orders is the service to serve.
var Orders = restate.NewService("Orders", Process)
