// Command endpoint-sdkgo serves the benchmark workloads (package workload)
// with the official Go SDK, github.com/restatedev/sdk-go v1.2.0, which runs
// the shared Rust core as WebAssembly.
//
//	endpoint-sdkgo -addr 127.0.0.1:9080 [-prefix P] [-http1]
//
// By default it serves with sdk-go's own server.Restate.Start: HTTP/2
// cleartext only, bidirectional streaming. With -http1 it serves sdk-go's
// Handler on an http.Server that speaks HTTP/1.1 and h2c on one port (the
// configuration of this SDK's h2c.NewServer); sdk-go enables full duplex for
// bidirectional streaming over HTTP/1.1 itself.
//
// It logs warnings and errors only, and frees memory on SIGUSR1 (package
// freemem), like the other benchmark endpoints.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/qcodr/restate-sdk-go/bench/internal/freemem"
	"github.com/qcodr/restate-sdk-go/bench/services/sdkgosvc"
	"github.com/restatedev/sdk-go/server"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9080", "listen address")
	prefix := flag.String("prefix", "", "prefix of every service name")
	http1 := flag.Bool("http1", false, "serve HTTP/1.1 as well as h2c (sdk-go's Start serves h2c only)")
	flag.Parse()
	freemem.OnSignal()
	lh := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	slog.SetDefault(slog.New(lh))
	r := server.NewRestate().WithLogger(lh, true)
	for _, s := range sdkgosvc.Services(*prefix) {
		r = r.Bind(s)
	}
	if !*http1 {
		if err := r.Start(context.Background(), *addr); err != nil {
			slog.Error("endpoint-sdkgo", "error", err)
			os.Exit(1)
		}
		return
	}
	h, err := r.Handler()
	if err != nil {
		slog.Error("endpoint-sdkgo", "error", err)
		os.Exit(1)
	}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Addr: *addr, Handler: h, Protocols: &p, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		slog.Error("endpoint-sdkgo", "error", err)
		os.Exit(1)
	}
}
