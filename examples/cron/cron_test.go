package cron_test

import (
	"errors"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/cron"
	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/ingress"
)

var (
	env  e2e.Env
	jobs = cron.New()
)

func TestMain(m *testing.M) { e2e.Main(m, &env, e2e.Options{}, jobs.Object) }

func status(t *testing.T, job string) cron.Status {
	t.Helper()
	st, err := ingress.Call(e2e.Context(t), env.Client, jobs.Status.Target(job), restate.Void{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRunsTimesThenStops(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	const job, interval = "three-times", 200 * time.Millisecond
	st, err := ingress.Call(ctx, env.Client, jobs.Start.Target(job), cron.Schedule{IntervalMillis: 200, Times: 3})
	if err != nil || !st.Active || st.Next == "" {
		t.Fatalf("start = %+v, %v; want an active job with a scheduled run", st, err)
	}
	e2e.Eventually(t, 20*time.Second, "three runs", func() (bool, error) {
		st = status(t, job)
		return st.Runs == 3 && !st.Active, nil
	})
	if len(st.History) != 3 || st.Next != "" {
		t.Fatalf("status = %+v, want 3 runs in the history and nothing scheduled", st)
	}
	for i := 1; i < len(st.History); i++ {
		// Delays are measured from the send, and timestamps are journaled
		// in milliseconds.
		if gap := st.History[i].Sub(st.History[i-1]); gap < interval-5*time.Millisecond {
			t.Errorf("runs %d and %d are %s apart, want at least %s", i, i+1, gap, interval)
		}
	}
	// It really stopped: nothing more runs.
	time.Sleep(2 * interval)
	if got := status(t, job); got.Runs != 3 {
		t.Errorf("%d runs after the job ended, want 3", got.Runs)
	}
	ticks, err := env.Admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "Cron", Key: job, Handler: "tick"})
	if err != nil || len(ticks) != 3 {
		t.Errorf("%d tick invocations (%v), want 3", len(ticks), err)
	}
}

func TestStopCancelsTheNextRun(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	const job = "until-stopped"
	if _, err := ingress.Call(ctx, env.Client, jobs.Start.Target(job), cron.Schedule{IntervalMillis: 100}); err != nil {
		t.Fatal(err)
	}
	e2e.Eventually(t, 20*time.Second, "two runs", func() (bool, error) { return status(t, job).Runs >= 2, nil })
	st, err := ingress.Call(ctx, env.Client, jobs.Stop.Target(job), restate.Void{})
	if err != nil || st.Active || st.Next != "" {
		t.Fatalf("stop = %+v, %v; want an inactive job", st, err)
	}
	time.Sleep(400 * time.Millisecond)
	if got := status(t, job); got.Runs != st.Runs {
		t.Errorf("%d runs after stop, want %d", got.Runs, st.Runs)
	}
	// The pending run was cancelled: no tick is left scheduled. (One that
	// was already due when stop ran completes as cancelled, or as a no-op.)
	e2e.Eventually(t, 20*time.Second, "no scheduled tick", func() (bool, error) {
		ticks, err := env.Admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "Cron", Key: job, Handler: "tick"})
		for _, tk := range ticks {
			if tk.Status != "completed" {
				return false, err
			}
		}
		return err == nil, err
	})
	// A stopped job can start again.
	if _, err := ingress.Call(ctx, env.Client, jobs.Start.Target(job), cron.Schedule{IntervalMillis: 100, Times: 1}); err != nil {
		t.Fatal(err)
	}
	e2e.Eventually(t, 20*time.Second, "the restarted run", func() (bool, error) {
		got := status(t, job)
		return got.Runs == 1 && !got.Active, nil
	})
}

func TestStartTwice(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	const job = "twice"
	if _, err := ingress.Call(ctx, env.Client, jobs.Start.Target(job), cron.Schedule{IntervalMillis: 60_000}); err != nil {
		t.Fatal(err)
	}
	_, err := ingress.Call(ctx, env.Client, jobs.Start.Target(job), cron.Schedule{IntervalMillis: 60_000})
	if restate.ErrorCode(err) != restate.CodePreconditionFailed {
		t.Fatalf("second start = %v, want code 412", err)
	}
	if _, err := ingress.Call(ctx, env.Client, jobs.Stop.Target(job), restate.Void{}); err != nil {
		t.Fatal(err)
	}
}

func TestTickIsPrivate(t *testing.T) {
	t.Parallel()
	_, err := ingress.Call(e2e.Context(t), env.Client, jobs.Tick.Target("x"), restate.Void{})
	var ie *ingress.Error
	if !errors.As(err, &ie) || ie.StatusCode != 400 {
		t.Fatalf("calling the private tick = %v, want the ingress to refuse it", err)
	}
}
