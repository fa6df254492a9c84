package props_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/props"
	"pgregory.net/rapid"
)

// Each test here checks a deliberately non-deterministic handler and
// asserts that props fails it, and that its report, after rapid shrank the
// scenario, names the command where the handler diverges.

// capture is a rapid.TB that records what rapid reports instead of failing
// the test that runs it.
type capture struct {
	name   string
	mu     sync.Mutex
	out    strings.Builder
	failed bool
}

func (c *capture) Helper()      {}
func (c *capture) Name() string { return c.name }
func (c *capture) Logf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(&c.out, format+"\n", args...)
}
func (c *capture) Log(args ...any) { c.Logf("%s", fmt.Sprint(args...)) }
func (c *capture) Errorf(format string, args ...any) {
	c.Logf(format, args...)
	c.Fail()
}
func (c *capture) Error(args ...any) { c.Errorf("%s", fmt.Sprint(args...)) }
func (c *capture) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
}
func (c *capture) Fatal(args ...any) { c.Errorf("%s", fmt.Sprint(args...)) }
func (c *capture) FailNow()          { c.Fail() }
func (c *capture) Fail() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed = true
}
func (c *capture) Failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}
func (c *capture) Skipf(format string, args ...any) {
	panic("capture: skip: " + fmt.Sprintf(format, args...))
}
func (c *capture) Skip(args ...any) { panic("capture: skip: " + fmt.Sprint(args...)) }
func (c *capture) SkipNow()         { panic("capture: skip") }

// mustFail runs prop with rapid, in a temporary directory so that rapid's
// fail files do not land in testdata/, and returns rapid's report. It fails
// t when prop holds.
func mustFail(t *testing.T, prop func(*rapid.T)) string {
	t.Helper()
	t.Chdir(t.TempDir())
	c := &capture{name: t.Name()}
	rapid.Check(c, prop)
	if !c.failed {
		t.Fatalf("props accepted a non-deterministic handler; rapid said:\n%s", c.out.String())
	}
	return c.out.String()
}

// wantReport checks that the report names the violated property and
// contains every one of culprits.
func wantReport(t *testing.T, out, property string, culprits ...string) {
	t.Helper()
	if !strings.Contains(out, "violates "+property) {
		t.Errorf("the report does not say the handler violates %s:\n%s", property, out)
	}
	for _, c := range culprits {
		if !strings.Contains(out, c) {
			t.Errorf("the report does not name the culprit %q:\n%s", c, out)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("rapid's report:\n%s", out)
}

// TestCatchesTimeNow: the handler branches on how long the work took. The
// first execution runs the work; a replay skips it (its result is
// journaled) and takes the other branch.
func TestCatchesTimeNow(t *testing.T) {
	h := restate.NewObjectHandler("process", func(ctx restate.ObjectContext, job string) (string, error) {
		started := time.Now()
		if _, err := restate.Run(ctx, func(restate.RunContext) (string, error) {
			time.Sleep(3 * time.Millisecond)
			return job, nil
		}, restate.WithName("work")); err != nil {
			return "", err
		}
		if time.Since(started) > 2*time.Millisecond {
			return "slow", restate.NewStateKey[bool]("slow").Set(ctx, true) // the culprit
		}
		return "fast", nil
	})
	obj := restate.NewObject("Jobs", h)
	out := mustFail(t, props.Property(obj, h, rapid.StringMatching(`[a-z]{1,4}`)))
	wantReport(t, out, "replay determinism", `set state "slow"`)
}

// TestCatchesMathRand: the handler draws a partition with math/rand.
func TestCatchesMathRand(t *testing.T) {
	h := restate.NewHandler("place", func(ctx restate.Context, order string) (string, error) {
		partition := rand.IntN(1000)
		return restate.Remote[string, string]("Shard", "store").Call(ctx, order,
			restate.WithName(fmt.Sprint("store in partition ", partition))).Await() // the culprit
	})
	svc := restate.NewService("Orders", h)
	out := mustFail(t, props.Property(svc, h, rapid.StringMatching(`[a-z]{1,4}`)))
	wantReport(t, out, "replay determinism", `call Shard/store "store in partition `)
}

// TestCatchesMapIteration: the handler writes one state entry per item in
// map iteration order, which Go randomizes.
func TestCatchesMapIteration(t *testing.T) {
	h := restate.NewObjectHandler("stock", func(ctx restate.ObjectContext, n int) (int, error) {
		levels := map[string]int{"apple": n, "pear": n + 1, "fig": n + 2, "kiwi": n + 3, "plum": n + 4, "lime": n + 5}
		for fruit, level := range levels {
			if err := restate.NewStateKey[int](fruit).Set(ctx, level); err != nil { // the culprit
				return 0, err
			}
		}
		return len(levels), restate.Sleep(ctx, time.Second)
	})
	obj := restate.NewObject("Stock", h)
	out := mustFail(t, props.Property(obj, h, rapid.IntRange(0, 9)))
	wantReport(t, out, "replay determinism", `set state "`)
}

// TestCatchesGoroutineRace: the handler asks two mirrors concurrently and
// journals a fetch from whichever the select sees first.
func TestCatchesGoroutineRace(t *testing.T) {
	h := restate.NewHandler("download", func(ctx restate.Context, file string) (string, error) {
		east, west := make(chan string, 1), make(chan string, 1)
		var wg sync.WaitGroup
		wg.Go(func() { east <- "east" })
		wg.Go(func() { west <- "west" })
		wg.Wait()
		var mirror string
		select {
		case mirror = <-east:
		case mirror = <-west:
		}
		return restate.Run(ctx, func(restate.RunContext) (string, error) {
			return mirror + "/" + file, nil
		}, restate.WithName("fetch from "+mirror)) // the culprit
	})
	svc := restate.NewService("Mirrors", h)
	out := mustFail(t, props.Property(svc, h, rapid.StringMatching(`[a-z]{1,4}`)))
	wantReport(t, out, "replay determinism", `run "fetch from `)
}

// TestCatchesEnvironment: the handler branches on an environment variable
// that a redeploy between two attempts changes.
func TestCatchesEnvironment(t *testing.T) {
	const flag = "PROPS_TEST_LOYALTY"
	t.Setenv(flag, "")
	h := restate.NewHandler("checkout", func(ctx restate.Context, cart string) (string, error) {
		if os.Getenv(flag) == "on" {
			if _, err := restate.Remote[string, int]("Loyalty", "award").Call(ctx, cart).Await(); err != nil { // the culprit
				return "", err
			}
		}
		return restate.Run(ctx, func(restate.RunContext) (string, error) { return "paid " + cart, nil }, restate.WithName("pay"))
	})
	svc := restate.NewService("Shop", h)
	redeploy := props.WithBeforeAttempt(func(attempt int) {
		v := ""
		if attempt%2 == 0 {
			v = "on"
		}
		os.Setenv(flag, v)
	})
	out := mustFail(t, props.Property(svc, h, rapid.StringMatching(`[a-z]{1,4}`), redeploy))
	wantReport(t, out, "replay determinism", `call Loyalty/award`)
}

// TestCatchesSideEffectOutsideRun: the handler charges a card through a
// fake that counts its executions with props.Effect, but outside a run, so
// every replay charges again.
func TestCatchesSideEffectOutsideRun(t *testing.T) {
	charge := func(ctx context.Context, amount int) (string, error) {
		if err := props.Effect(ctx); err != nil {
			return "", err
		}
		return fmt.Sprint("receipt for ", amount), nil
	}
	h := restate.NewHandler("pay", func(ctx restate.Context, amount int) (string, error) {
		receipt, err := charge(ctx, amount) // the culprit: not in restate.Run
		if err != nil {
			return "", err
		}
		if err := restate.Sleep(ctx, time.Minute, restate.WithName("cooling off")); err != nil {
			return "", err
		}
		return receipt, nil
	})
	svc := restate.NewService("Payments", h)
	out := mustFail(t, props.Property(svc, h, rapid.IntRange(1, 100)))
	wantReport(t, out, "exactly-once side effects", "a side effect ran outside a run")
}
