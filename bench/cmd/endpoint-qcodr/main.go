// Command endpoint-qcodr serves the benchmark workloads (package workload)
// with this SDK over h2c.ListenAndServe: HTTP/2 cleartext and HTTP/1.1 on one
// port, bidirectional streaming.
//
//	endpoint-qcodr -addr 127.0.0.1:9080 [-prefix P] [-cpuprofile FILE] [-memprofile FILE] [-pprof ADDR]
//
// It logs warnings and errors only, and frees memory on SIGUSR1 (package
// freemem), like the other benchmark endpoints.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"

	"github.com/qcodr/restate-sdk-go/bench/internal/freemem"
	"github.com/qcodr/restate-sdk-go/bench/internal/profile"
	"github.com/qcodr/restate-sdk-go/bench/services/qcodrsvc"
	"github.com/qcodr/restate-sdk-go/h2c"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9080", "listen address")
	prefix := flag.String("prefix", "", "prefix of every service name")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until SIGTERM")
	memprofile := flag.String("memprofile", "", "write an allocation profile to this file at SIGTERM")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address")
	flag.Parse()
	freemem.OnSignal()
	profile.Serve(*pprofAddr)
	stop := profile.Start(*cpuprofile, *memprofile)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	slog.SetDefault(logger)
	err := h2c.ListenAndServe(context.Background(), *addr, qcodrsvc.Services(*prefix), h2c.WithLogger(logger))
	if err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("endpoint-qcodr", "error", err)
		stop()
		os.Exit(1)
	}
}
