package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func main() {
	addr := flag.String("addr", ":9080", "address to serve the Restate endpoint on")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "tracing:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	exp, err := stdouttrace.New(stdouttrace.WithPrettyPrint())
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	defer tp.Shutdown(context.Background())
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	logger.Info("serving", "addr", addr)
	return h2c.ListenAndServe(context.Background(), addr, []restate.ServiceDefinition{Orders}, h2c.WithLogger(logger))
}
