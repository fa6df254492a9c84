package loadgen

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// ParkResult is the memory an endpoint held for invocations parked on an
// awakeable.
type ParkResult struct {
	Parked   int
	Baseline int64 // RSS before, bytes
	Peak     int64 // RSS with every invocation parked
	After    int64 // RSS after they all completed and the process settled
	AfterGC  int64 // RSS after that and SIGUSR1 (package freemem)
}

// PerParked returns the RSS per parked invocation.
func (r ParkResult) PerParked() float64 { return float64(r.Peak-r.Baseline) / float64(r.Parked) }

// Retained returns the RSS per invocation still held after they completed.
func (r ParkResult) Retained() float64 { return float64(r.After-r.Baseline) / float64(r.Parked) }

// RetainedGC returns the RSS per invocation still held after they completed
// and the endpoint freed what it could.
func (r ParkResult) RetainedGC() float64 { return float64(r.AfterGC-r.Baseline) / float64(r.Parked) }

// Park opens n invocations of req (an awakeable wait) on the endpoint at
// base, process pid, with c, waits until the endpoint is idle (they are
// parked), reads its RSS, completes them all with req.Later, validates
// their outputs and reads the RSS again once the process returned what it
// frees (it waits up to settle for the RSS to stop falling), and once more
// after asking it to free memory with SIGUSR1 (the benchmark endpoints run
// runtime/debug.FreeOSMemory then, see package freemem).
func Park(ctx context.Context, c *Client, base string, pid, n int, req Request, settle time.Duration) (ParkResult, error) {
	return ParkThen(ctx, c, base, pid, n, req, settle, nil)
}

// ParkThen is Park that calls parked, when not nil, once the invocations are
// parked and the RSS is read, and completes them when it returns: a moment
// to profile the endpoint while it holds them.
func ParkThen(ctx context.Context, c *Client, base string, pid, n int, req Request, settle time.Duration, parked func()) (ParkResult, error) {
	res := ParkResult{Parked: n}
	Settle(pid, 300*time.Millisecond, 5*time.Second)
	var err error
	if res.Baseline, err = RSS(pid); err != nil {
		return res, err
	}
	ps := make([]*Pending, n)
	for i := range ps {
		ps[i] = c.Start(ctx, base, req.Path, Version, req.Body)
	}
	// Parked: the endpoint stops using CPU once every handler waits.
	time.Sleep(200 * time.Millisecond)
	Settle(pid, 500*time.Millisecond, 20*time.Second)
	if res.Peak, err = RSS(pid); err != nil {
		return res, err
	}
	if parked != nil {
		parked()
	}
	// Complete them: the notification goes on each open request body.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	sem := make(chan struct{}, 64)
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			err := finishParked(p, req)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	c.Close()
	if res.After, err = settleRSS(pid, settle); err != nil {
		return res, err
	}
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		return res, err
	}
	time.Sleep(100 * time.Millisecond)
	res.AfterGC, err = settleRSS(pid, settle)
	return res, err
}

func finishParked(p *Pending, req Request) error {
	// The response headers of a parked invocation may come only with its
	// output: send the notification before waiting for them.
	p.Body.Send(req.Later)
	call, err := p.Wait()
	if err != nil {
		return err
	}
	if _, err := call.Finish(req.Respond, req.Want); err != nil {
		return fmt.Errorf("parked invocation: %w", err)
	}
	return nil
}

// settleRSS waits until the RSS of pid stops falling for a second, or for
// at most max, and returns it.
func settleRSS(pid int, max time.Duration) (int64, error) {
	start := time.Now()
	last, err := RSS(pid)
	if err != nil {
		return 0, err
	}
	stable := time.Now()
	for time.Since(start) < max && time.Since(stable) < time.Second {
		time.Sleep(100 * time.Millisecond)
		r, err := RSS(pid)
		if err != nil {
			return 0, err
		}
		if r < last {
			stable = time.Now()
		}
		last = r
	}
	return last, nil
}
