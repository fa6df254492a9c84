package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qcodr/restate-sdk-go/bench/loadgen"
	"github.com/qcodr/restate-sdk-go/bench/workload"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

// e2e sends greeter invocations through a real restate-server to each
// SDK's endpoint and to the floor, at the same paced load, and measures the
// endpoints' CPU.
// Both endpoints are registered with one server under different service
// name prefixes, so the rounds can alternate between them. With -e2e-http1
// the server invokes them over HTTP/1.1 instead of HTTP/2.
func e2e(ctx context.Context, c config, r *report) error {
	if os.Getenv(restateserver.CacheDirEnv) == "" {
		// Share the main module's installation (make deps) instead of
		// installing into bench/.cache.
		root, err := restateserver.ModuleRoot()
		if err != nil {
			return err
		}
		if err := os.Setenv(restateserver.CacheDirEnv, filepath.Join(filepath.Dir(root), ".cache", "restate")); err != nil {
			return err
		}
	}
	bins, err := restateserver.Install(ctx)
	if err != nil {
		return err
	}
	srv, err := restateserver.Start(ctx, restateserver.Options{Binaries: bins})
	if err != nil {
		return err
	}
	defer srv.Close()
	prefixes := map[string]string{floor: "F", qcodr: "Q", sdkgo: "S", before: "B"}
	sdks := withBefore(c, floor, qcodr, sdkgo)
	eps := map[string]*loadgen.Endpoint{}
	for _, sdk := range sdks {
		args := []string{"-prefix", prefixes[sdk]}
		if sdk == sdkgo && c.e2eHTTP1 {
			args = append(args, "-http1")
		}
		e := endpoint(c, sdk, args...)
		if err := e.Start(ctx); err != nil {
			return err
		}
		defer e.Stop()
		if _, err := srv.Register(ctx, e.Base(), restateserver.RegisterOptions{UseHTTP11: c.e2eHTTP1}); err != nil {
			return fmt.Errorf("registering %s: %w", sdk, err)
		}
		eps[sdk] = e
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 64}}
	defer client.CloseIdleConnections()
	conc := 32
	name := "Greeter/e2e"
	if c.e2eHTTP1 {
		name += "-h1"
	}
	for round := range c.rounds {
		for _, sdk := range rotate(sdks, round) {
			e := eps[sdk]
			op := ingressOp(client, srv.IngressURL()+"/"+workload.Name(prefixes[sdk], workload.Greeter)+"/"+workload.GreeterGreet)
			if _, err := loadgen.Paced(ctx, e.Pid(), conc, c.e2eRate, c.warmup, op); err != nil {
				return fmt.Errorf("%s: %w", sdk, err)
			}
			st, err := loadgen.Paced(ctx, e.Pid(), conc, c.e2eRate, c.e2ePhase, op)
			if err != nil {
				return fmt.Errorf("%s: %w", sdk, err)
			}
			r.add(name, sdk, round, sample{stats: st})
			logf("%-22s %-6s round %d: %7.1f µs CPU/inv, %6.0f inv/s, p50 %s p99 %s", name, sdk, round,
				us(st.CPUPerOp()), st.Throughput(), st.Percentile(50).Round(time.Microsecond), st.Percentile(99).Round(time.Microsecond))
		}
	}
	return nil
}

// ingressOp calls the greeter through the ingress and checks the greeting.
func ingressOp(client *http.Client, url string) loadgen.Op {
	want := []byte(`"` + workload.GreetText("Alice") + `"`)
	return func(ctx context.Context) (time.Duration, error) {
		t := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`"Alice"`))
		if err != nil {
			return 0, err
		}
		req.Header.Set("content-type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(bytes.TrimSpace(b), want) {
			return 0, fmt.Errorf("ingress: status %d, body %q", resp.StatusCode, b)
		}
		return time.Since(t), nil
	}
}
