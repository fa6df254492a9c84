// Command test-services serves the Restate SDK conformance test-services
// (package services) on one deployment endpoint, configured by the
// environment as the conformance contract says:
//
//   - PORT: the TCP port (default 9080).
//   - SERVICES: comma-separated names of the services to bind; empty or "*"
//     binds all of them, an unknown name is an error.
//   - E2E_REQUEST_SIGNING: comma-separated publickeyv1_ keys; when set,
//     every request must carry a request identity signed by one of them.
//   - PROTOCOL_MODE: "bidi" (default) or "request-response".
//   - RESTATE_LOGGING: log level (error, warn, info, debug, trace).
//
// It runs until SIGTERM or SIGINT, then shuts down gracefully.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/qcodr/restate-sdk-go/conformance/services"
	"github.com/qcodr/restate-sdk-go/h2c"
)

func main() {
	if err := run(os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "test-services:", err)
		os.Exit(1)
	}
}

// logLevel maps RESTATE_LOGGING to a slog level (info when unset or
// unknown).
func logLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		return slog.LevelError
	case "warn", "warning":
		return slog.LevelWarn
	case "debug":
		return slog.LevelDebug
	case "trace":
		return slog.LevelDebug - 4
	}
	return slog.LevelInfo
}

// options builds the h2c options from the environment.
func options(getenv func(string) string, logger *slog.Logger) ([]h2c.Option, error) {
	opts := []h2c.Option{h2c.WithLogger(logger)}
	switch mode := strings.TrimSpace(getenv("PROTOCOL_MODE")); mode {
	case "", "bidi":
	case "request-response":
		opts = append(opts, h2c.WithRequestResponse())
	default:
		return nil, fmt.Errorf("PROTOCOL_MODE %q: want bidi or request-response", mode)
	}
	if keys := splitList(getenv("E2E_REQUEST_SIGNING")); len(keys) > 0 {
		opts = append(opts, h2c.WithIdentityKeys(keys...))
	}
	return opts, nil
}

// splitList splits a comma-separated list, dropping spaces around items
// and empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func run(getenv func(string) string) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(getenv("RESTATE_LOGGING"))}))
	slog.SetDefault(logger)
	defs, err := services.Register(splitList(getenv("SERVICES")))
	if err != nil {
		return err
	}
	opts, err := options(getenv, logger)
	if err != nil {
		return err
	}
	port := getenv("PORT")
	if port == "" {
		port = "9080"
	}
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name()
	}
	logger.Info("serving test-services", "port", port, "services", strings.Join(names, ","))
	return h2c.ListenAndServe(context.Background(), ":"+port, defs, opts...)
}
