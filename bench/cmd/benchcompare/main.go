// Command benchcompare measures this SDK side by side with the official Go
// SDK (github.com/restatedev/sdk-go v1.2.0) and the transport floor (a bare
// net/http handler), in one run on one machine, and writes the results into
// BENCHMARKS.md. `make bench-compare` builds the endpoints and runs it.
//
//	benchcompare -bin DIR [-rounds 8] [-phase 1s] [-out ../BENCHMARKS.md] [-raw FILE] [-only LIST]
//
// Every endpoint runs as its own process (bin/endpoint-floor,
// bin/endpoint-qcodr, bin/endpoint-sdkgo), so /proc/<pid>/stat charges CPU to
// one SDK. The load generator (package loadgen) speaks the service protocol
// to them directly, over HTTP/2 cleartext and HTTP/1.1, and validates every
// response; the end-to-end part goes through a real restate-server instead.
// Each measurement is repeated -rounds times, the endpoints taking turns
// within a round (in a rotating order), and the tables show the medians of
// the values and of the per-round ratios.
//
// Sections (-only takes a comma-separated subset): startup, h2, h1, replay,
// memory, e2e.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/qcodr/restate-sdk-go/bench/loadgen"
)

// SDK labels.
const (
	floor = "floor"
	qcodr = "qcodr"
	sdkgo = "sdk-go"
	// before is this SDK's endpoint built from an earlier commit (-before),
	// for recording the effect of a fix.
	before = "before"
)

type config struct {
	bin        string
	before     string
	rounds     int
	phase      time.Duration
	warmup     time.Duration
	conc       int
	parked     int
	e2eRate    float64
	e2eHTTP1   bool
	e2ePhase   time.Duration
	startups   int
	out, raw   string
	only       map[string]bool
	replayNs   []int
	liveRuns   int
	stateGets  int
	memRounds  int
	settleTime time.Duration
}

func main() {
	var c config
	only := flag.String("only", "startup,h2,h1,replay,memory,e2e", "sections to run")
	flag.StringVar(&c.bin, "bin", "bin", "directory holding endpoint-floor, endpoint-qcodr and endpoint-sdkgo")
	flag.StringVar(&c.before, "before", "", "an endpoint-qcodr binary built from an earlier commit, measured as \"before\" next to this SDK")
	flag.IntVar(&c.rounds, "rounds", 8, "rounds of each CPU measurement")
	flag.DurationVar(&c.phase, "phase", time.Second, "length of one measured load phase")
	flag.DurationVar(&c.warmup, "warmup", 250*time.Millisecond, "unmeasured load before each phase")
	flag.IntVar(&c.conc, "c", 8, "concurrent invocations (streams on one HTTP/2 connection, or HTTP/1.1 connections)")
	flag.IntVar(&c.parked, "parked", 1000, "invocations parked on an awakeable")
	flag.IntVar(&c.memRounds, "mem-rounds", 2, "rounds of the memory measurement")
	flag.Float64Var(&c.e2eRate, "e2e-rate", 100, "end-to-end load: invocations per second through restate-server")
	flag.BoolVar(&c.e2eHTTP1, "e2e-http1", false, "register the end-to-end endpoints for HTTP/1.1 instead of HTTP/2")
	flag.DurationVar(&c.e2ePhase, "e2e-phase", 4*time.Second, "length of one end-to-end phase")
	flag.IntVar(&c.startups, "startups", 10, "process starts per endpoint")
	flag.StringVar(&c.out, "out", "", "markdown file to write the results section into (empty: stdout only)")
	flag.StringVar(&c.raw, "raw", "", "file for the raw per-round results in Go benchmark format (for benchstat)")
	flag.DurationVar(&c.settleTime, "settle", 4*time.Second, "longest wait for the RSS to fall after parked invocations complete")
	flag.Parse()
	c.only = map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		c.only[strings.TrimSpace(s)] = true
	}
	c.replayNs = []int{10, 100, 1000, 3000}
	c.liveRuns = 10
	c.stateGets = 10
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "benchcompare:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	ctx := context.Background()
	r := &report{cfg: c, start: time.Now()}
	var raw io.Writer = io.Discard
	if c.raw != "" {
		f, err := os.Create(c.raw)
		if err != nil {
			return err
		}
		defer f.Close()
		raw = f
	}
	r.raw = raw
	fmt.Fprintf(raw, "goos: %s\ngoarch: %s\ncpu: %s\n", runtime.GOOS, runtime.GOARCH, cpuModel())
	steps := []struct {
		name string
		fn   func(context.Context, config, *report) error
	}{
		{"startup", startup},
		{"h2", func(ctx context.Context, c config, r *report) error { return micro(ctx, c, r, loadgen.H2) }},
		{"h1", func(ctx context.Context, c config, r *report) error { return micro(ctx, c, r, loadgen.H1) }},
		{"replay", replay},
		{"memory", memory},
		{"e2e", e2e},
	}
	for _, s := range steps {
		if !c.only[s.name] {
			continue
		}
		t := time.Now()
		logf("== %s", s.name)
		if err := s.fn(ctx, c, r); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		logf("== %s done in %s", s.name, time.Since(t).Round(time.Second))
	}
	md := r.markdown()
	fmt.Println(md)
	if c.out != "" {
		return writeSection(c.out, md)
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func endpoint(c config, sdk string, args ...string) *loadgen.Endpoint {
	if sdk == before {
		return &loadgen.Endpoint{Name: sdk, Bin: c.before, Args: args}
	}
	bin := map[string]string{floor: "endpoint-floor", qcodr: "endpoint-qcodr", sdkgo: "endpoint-sdkgo"}[sdk]
	return &loadgen.Endpoint{Name: sdk, Bin: filepath.Join(c.bin, bin), Args: args}
}

// withBefore adds the "before" endpoint to sdks when -before is set.
func withBefore(c config, sdks ...string) []string {
	if c.before != "" {
		sdks = append(sdks, before)
	}
	return sdks
}

// rotate returns s rotated left by i, so that no endpoint always goes
// first within a round.
func rotate[T any](s []T, i int) []T {
	i %= len(s)
	return append(slices.Clone(s[i:]), s[:i]...)
}

// startup measures the time from process start to serving discovery.
func startup(ctx context.Context, c config, r *report) error {
	sdks := withBefore(c, floor, qcodr, sdkgo)
	for i := range c.startups {
		for _, sdk := range rotate(sdks, i) {
			e := endpoint(c, sdk)
			if err := e.Start(ctx); err != nil {
				return err
			}
			e.Stop()
			r.add("Startup", sdk, i, sample{startup: e.StartupTime()})
		}
	}
	return nil
}

// scenario is one CPU measurement: the same request on several endpoints.
type scenario struct {
	name string
	sdks []string
	req  func(prefix string) loadgen.Request
}

// micro measures endpoint CPU per invocation of each workload over proto,
// with the load generator talking to the endpoints directly.
func micro(ctx context.Context, c config, r *report, proto loadgen.Proto) error {
	sdkgoArgs := []string{}
	if proto == loadgen.H1 {
		sdkgoArgs = append(sdkgoArgs, "-http1")
	}
	eps := map[string]*loadgen.Endpoint{
		floor: endpoint(c, floor),
		qcodr: endpoint(c, qcodr),
		sdkgo: endpoint(c, sdkgo, sdkgoArgs...),
	}
	if c.before != "" {
		eps[before] = endpoint(c, before)
	}
	for _, e := range eps {
		if err := e.Start(ctx); err != nil {
			return err
		}
		defer e.Stop()
	}
	all, sdks := withBefore(c, floor, qcodr, sdkgo), withBefore(c, qcodr, sdkgo)
	scs := []scenario{{"Greeter", all, loadgen.Greet}}
	if proto == loadgen.H2 {
		scs = append(scs,
			scenario{"Counter", sdks, loadgen.CounterAdd},
			scenario{fmt.Sprintf("StateGets/n=%d", c.stateGets), sdks, func(p string) loadgen.Request { return loadgen.Gets(p, c.stateGets) }},
			scenario{fmt.Sprintf("Runs/n=%d", c.liveRuns), sdks, func(p string) loadgen.Request { return loadgen.RunsLive(p, c.liveRuns) }},
		)
	}
	return measure(ctx, c, r, proto, eps, scs)
}

// replay measures the replay of journals of n completed runs.
func replay(ctx context.Context, c config, r *report) error {
	eps := map[string]*loadgen.Endpoint{qcodr: endpoint(c, qcodr), sdkgo: endpoint(c, sdkgo)}
	if c.before != "" {
		eps[before] = endpoint(c, before)
	}
	for _, e := range eps {
		if err := e.Start(ctx); err != nil {
			return err
		}
		defer e.Stop()
	}
	var scs []scenario
	for _, n := range c.replayNs {
		scs = append(scs, scenario{fmt.Sprintf("Replay/n=%d", n), withBefore(c, qcodr, sdkgo),
			func(p string) loadgen.Request { return loadgen.RunsReplay(p, n) }})
	}
	return measure(ctx, c, r, loadgen.H2, eps, scs)
}

func measure(ctx context.Context, c config, r *report, proto loadgen.Proto, eps map[string]*loadgen.Endpoint, scs []scenario) error {
	conns := 1
	if proto == loadgen.H1 {
		conns = c.conc
	}
	for _, sc := range scs {
		name := sc.name + "/" + string(proto)
		for round := range c.rounds {
			for _, sdk := range rotate(sc.sdks, round) {
				e := eps[sdk]
				cl := loadgen.NewClient(proto, conns)
				op := loadgen.Direct(cl, e.Base(), sc.req(""))
				if _, err := loadgen.Closed(ctx, e.Pid(), c.conc, c.warmup, op); err != nil {
					cl.Close()
					return fmt.Errorf("%s on %s: %w", name, sdk, err)
				}
				st, err := loadgen.Closed(ctx, e.Pid(), c.conc, c.phase, op)
				cl.Close()
				if err != nil {
					return fmt.Errorf("%s on %s: %w", name, sdk, err)
				}
				r.add(name, sdk, round, sample{stats: st})
				logf("%-22s %-6s round %d: %7.1f µs CPU/inv, %6.0f inv/s, p50 %s p99 %s", name, sdk, round,
					us(st.CPUPerOp()), st.Throughput(), st.Percentile(50).Round(time.Microsecond), st.Percentile(99).Round(time.Microsecond))
			}
		}
	}
	return nil
}

// memory parks invocations on an awakeable in a fresh process of each
// endpoint and reads its RSS.
func memory(ctx context.Context, c config, r *report) error {
	sdks := withBefore(c, floor, qcodr, sdkgo)
	for round := range c.memRounds {
		for _, sdk := range rotate(sdks, round) {
			e := endpoint(c, sdk)
			if err := e.Start(ctx); err != nil {
				return err
			}
			err := func() error {
				defer e.Stop()
				// Warm up: the transport and the SDK's pools, as a serving
				// process would be.
				cl := loadgen.NewClient(loadgen.H2, 1)
				if _, err := loadgen.Closed(ctx, e.Pid(), c.conc, c.warmup, loadgen.Direct(cl, e.Base(), loadgen.Greet(""))); err != nil {
					return err
				}
				cl.Close()
				pc := loadgen.NewClient(loadgen.H2, (c.parked+99)/100)
				res, err := loadgen.Park(ctx, pc, e.Base(), e.Pid(), c.parked, loadgen.Wait(""), c.settleTime)
				if err != nil {
					return err
				}
				r.add(fmt.Sprintf("Parked/n=%d/h2", c.parked), sdk, round, sample{park: res})
				logf("parked %-6s round %d: baseline %.1f MiB, parked %.1f MiB (%.1f KiB each), after %.1f MiB (%.1f KiB each), after GC %.1f MiB (%.1f KiB each)", sdk, round,
					mib(res.Baseline), mib(res.Peak), res.PerParked()/1024, mib(res.After), res.Retained()/1024, mib(res.AfterGC), res.RetainedGC()/1024)
				return nil
			}()
			if err != nil {
				return fmt.Errorf("%s: %w", sdk, err)
			}
		}
	}
	return nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
