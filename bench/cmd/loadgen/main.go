// Command loadgen sends one workload to a running endpoint with the service
// protocol, directly (no runtime), and prints the endpoint's CPU per
// invocation, the throughput and latency percentiles. Use it to profile an
// endpoint (start it with -cpuprofile) or to try one scenario by hand.
//
//	loadgen -url http://127.0.0.1:9080 -pid PID [-workload greet] [-n 10] [-proto h2] [-c 8] [-d 10s] [-hold 0s]
//
// Workloads: greet, counter, gets (n state reads), runs (n runs, answered
// over the open stream), replay (a journal of n completed runs), park (n
// invocations parked on an awakeable, then completed; prints RSS, and sends
// the endpoint SIGUSR1, which the benchmark endpoints take as "free memory").
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/qcodr/restate-sdk-go/bench/loadgen"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9080", "endpoint base URL")
	pid := flag.Int("pid", 0, "endpoint process id (for /proc CPU and RSS)")
	wl := flag.String("workload", "greet", "greet, counter, gets, runs, replay or park")
	n := flag.Int("n", 10, "size of the workload (gets, runs, replay, park)")
	proto := flag.String("proto", "h2", "h2 or h1")
	conc := flag.Int("c", 8, "concurrent invocations")
	d := flag.Duration("d", 10*time.Second, "length of the load")
	hold := flag.Duration("hold", 0, "park: keep the invocations parked this long before completing them (to profile the endpoint)")
	flag.Parse()
	if *pid == 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -pid is required")
		os.Exit(2)
	}
	ctx := context.Background()
	p := loadgen.Proto(*proto)
	conns := 1
	if p == loadgen.H1 {
		conns = *conc
	}
	var req loadgen.Request
	switch *wl {
	case "greet":
		req = loadgen.Greet("")
	case "counter":
		req = loadgen.CounterAdd("")
	case "gets":
		req = loadgen.Gets("", *n)
	case "runs":
		req = loadgen.RunsLive("", *n)
	case "replay":
		req = loadgen.RunsReplay("", *n)
	case "park":
		var parked func()
		if *hold > 0 {
			parked = func() {
				fmt.Printf("parked %d invocations; completing them in %s\n", *n, *hold)
				time.Sleep(*hold)
			}
		}
		res, err := loadgen.ParkThen(ctx, loadgen.NewClient(loadgen.H2, (*n+99)/100), *url, *pid, *n, loadgen.Wait(""), 10*time.Second, parked)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		fmt.Printf("parked %d: RSS %d KiB before, %d KiB parked (%.1f KiB each), %d KiB after (%.1f KiB each), %d KiB after SIGUSR1 (%.1f KiB each)\n",
			res.Parked, res.Baseline>>10, res.Peak>>10, res.PerParked()/1024, res.After>>10, res.Retained()/1024, res.AfterGC>>10, res.RetainedGC()/1024)
		return
	default:
		fmt.Fprintln(os.Stderr, "loadgen: unknown workload", *wl)
		os.Exit(2)
	}
	c := loadgen.NewClient(p, conns)
	defer c.Close()
	st, err := loadgen.Closed(ctx, *pid, *conc, *d, loadgen.Direct(c, *url, req))
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	fmt.Printf("%s/%s: %d invocations, %.1f µs CPU each, %.0f/s, p50 %s, p90 %s, p99 %s\n", *wl, *proto, st.N,
		float64(st.CPUPerOp())/1e3, st.Throughput(), st.Percentile(50), st.Percentile(90), st.Percentile(99))
}
