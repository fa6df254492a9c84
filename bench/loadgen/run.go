package loadgen

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is the outcome of a load phase.
type Stats struct {
	N         int           // invocations completed and validated
	Wall      time.Duration // length of the phase
	CPU       time.Duration // endpoint CPU used during the phase
	Latencies []time.Duration
}

// CPUPerOp returns the endpoint CPU per invocation.
func (s Stats) CPUPerOp() time.Duration {
	if s.N == 0 {
		return 0
	}
	return s.CPU / time.Duration(s.N)
}

// Throughput returns invocations per second.
func (s Stats) Throughput() float64 { return float64(s.N) / s.Wall.Seconds() }

// Percentile returns the p-th latency percentile (0 < p ≤ 100).
func (s Stats) Percentile(p float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.Latencies)
	slices.Sort(l)
	i := int(float64(len(l))*p/100+0.5) - 1
	return l[max(0, min(i, len(l)-1))]
}

// Op is one invocation; it returns its latency.
type Op func(ctx context.Context) (time.Duration, error)

// Closed runs op from conc workers back to back for d, measuring the CPU of
// process pid over exactly that span. The first error stops the phase and
// is returned.
func Closed(ctx context.Context, pid, conc int, d time.Duration, op Op) (Stats, error) {
	return phase(ctx, pid, conc, d, 0, op)
}

// Paced starts op rate times per second for d (open loop, from at most conc
// workers at once), measuring the CPU of process pid.
func Paced(ctx context.Context, pid, conc int, rate float64, d time.Duration, op Op) (Stats, error) {
	return phase(ctx, pid, conc, d, rate, op)
}

func phase(ctx context.Context, pid, conc int, d time.Duration, rate float64, op Op) (Stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		lats     []time.Duration
		firstErr error
		tickets  atomic.Int64
		wg       sync.WaitGroup
	)
	cpu0, err := CPU(pid)
	if err != nil {
		return Stats{}, err
	}
	begin := time.Now()
	end := begin.Add(d)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			defer func() {
				mu.Lock()
				lats = append(lats, local...)
				mu.Unlock()
			}()
			for ctx.Err() == nil {
				if rate > 0 {
					at := begin.Add(time.Duration(float64(tickets.Add(1)-1) / rate * float64(time.Second)))
					if at.After(end) {
						return
					}
					if w := time.Until(at); w > 0 {
						time.Sleep(w)
					}
				} else if time.Now().After(end) {
					return
				}
				lat, err := op(ctx)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				local = append(local, lat)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(begin)
	cpu1, err := CPU(pid)
	if err != nil {
		return Stats{}, err
	}
	if firstErr != nil {
		return Stats{}, firstErr
	}
	if len(lats) == 0 {
		return Stats{}, fmt.Errorf("loadgen: no invocation completed")
	}
	return Stats{N: len(lats), Wall: wall, CPU: cpu1 - cpu0, Latencies: lats}, nil
}

// Direct returns an Op that sends req to the endpoint at base with c and
// validates the response.
func Direct(c *Client, base string, req Request) Op {
	return func(ctx context.Context) (time.Duration, error) {
		call, err := c.Invoke(ctx, base, req.Path, Version, req.Body)
		if err != nil {
			return 0, err
		}
		return call.Finish(req.Respond, req.Want)
	}
}
