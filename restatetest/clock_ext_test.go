package restatetest_test

import (
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

var (
	napper = restate.NewHandler("nap", func(ctx restate.Context, d time.Duration) (restate.Void, error) {
		return restate.Void{}, restate.Sleep(ctx, d)
	})
	clockReader = restate.NewHandler("now", restate.NoInput(func(ctx restate.Context) ([2]time.Time, error) {
		before, err := restate.Now(ctx)
		if err != nil {
			return [2]time.Time{}, err
		}
		if err := restate.Sleep(ctx, time.Hour); err != nil {
			return [2]time.Time{}, err
		}
		after, err := restate.Now(ctx)
		return [2]time.Time{before, after}, err
	}))
	clockServices = []restate.ServiceDefinition{restate.NewService("Clock", napper, clockReader)}
)

// TestSleepAdvancesClockAtLeastD checks that the clock jumps by at least d
// for a timer of d: due times are whole milliseconds, and rounding the
// handler's clock down to one fired timers up to a millisecond early.
func TestSleepAdvancesClockAtLeastD(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			env := restatetest.New(t, clockServices, m.opts...)
			for range 25 {
				start := env.Now()
				call(t, env, napper.Target(), 24*time.Hour)
				if got := env.Now().Sub(start); got < 24*time.Hour {
					t.Fatalf("the clock moved %v for a timer of 24h", got)
				}
			}
		})
	}
}

// TestAdvanceFiresTimerOfD checks Advance(d) after a timer of d was set:
// the timer has fired when it returns, however the timer's due time was
// rounded.
func TestAdvanceFiresTimerOfD(t *testing.T) {
	env := restatetest.New(t, clockServices, restatetest.WithManualClock())
	for range 25 {
		inv, err := restatetest.Send(testContext(t), env, napper.Target(), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		env.Advance(24 * time.Hour)
		if in, _ := env.Invocation(inv.ID()); in.Status != "completed" {
			t.Fatalf("after Advance(24h) the timer of 24h is %s, want completed", in.Status)
		}
	}
}

// TestNowReadsVirtualClock checks that restate.Now journals the virtual
// clock: it moves with the clock's jumps and with Advance.
func TestNowReadsVirtualClock(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			env := restatetest.New(t, clockServices, m.opts...)
			start := env.Now()
			got := call(t, env, clockReader.Target(), restate.Void{})
			end := env.Now()
			if d := got[1].Sub(got[0]); d < time.Hour {
				t.Errorf("restate.Now moved %v across a timer of 1h, want at least 1h", d)
			}
			// restate.Now has whole milliseconds.
			if got[0].Before(start.Truncate(time.Millisecond)) || got[1].After(end) {
				t.Errorf("restate.Now read %v and %v, want them within the virtual clock's %v to %v", got[0], got[1], start, end)
			}
		})
	}
	t.Run("advance", func(t *testing.T) {
		env := restatetest.New(t, clockServices, restatetest.WithManualClock())
		env.Advance(48 * time.Hour)
		inv, err := restatetest.Send(testContext(t), env, clockReader.Target(), restate.Void{})
		if err != nil {
			t.Fatal(err)
		}
		env.Advance(time.Hour)
		got, err := inv.Attach(testContext(t))
		if err != nil {
			t.Fatal(err)
		}
		if wall := time.Now(); got[0].Sub(wall) < 47*time.Hour {
			t.Errorf("restate.Now read %v after Advance(48h), wall clock %v: want the virtual clock", got[0], wall)
		}
	})
}
