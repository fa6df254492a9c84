package fanout_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/fanout"
	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/ingress"
)

var env e2e.Env

func TestMain(m *testing.M) { e2e.Main(m, &env, e2e.Options{}, fanout.FanOut, fanout.Worker) }

func TestAll(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	tasks := []fanout.Task{{Name: "all-a", Millis: 700}, {Name: "all-b", Millis: 400}, {Name: "all-c", Millis: 550}}
	inv, err := ingress.Send(ctx, env.Client, fanout.All.Target(), tasks)
	if err != nil {
		t.Fatal(err)
	}
	got, err := inv.Attach(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"all-a=ALL-A", "all-b=ALL-B", "all-c=ALL-C"}, got); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	// The calls ran concurrently: every one started before any finished.
	invs, err := env.Admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "Worker", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var started, finished []time.Time
	for _, w := range invs {
		if w.CallerID == inv.ID() {
			started, finished = append(started, w.CreatedAt), append(finished, w.ModifiedAt)
		}
	}
	if len(started) != len(tasks) {
		t.Fatalf("found %d calls to Worker, want %d", len(started), len(tasks))
	}
	if last, first := slices.MaxFunc(started, time.Time.Compare), slices.MinFunc(finished, time.Time.Compare); !last.Before(first) {
		t.Errorf("the last call started at %s, after the first one finished at %s: not concurrent", last, first)
	}

	tasks[1].Fail = true
	_, err = ingress.Call(ctx, env.Client, fanout.All.Target(), tasks)
	if !restate.IsTerminal(err) || err.Error() != "task all-b failed" {
		t.Fatalf("all with a failing task = %v, want its terminal error", err)
	}
}

func TestFirst(t *testing.T) {
	t.Parallel()
	tasks := []fanout.Task{
		{Name: "broken", Millis: 10, Fail: true},
		{Name: "slow", Millis: 1500},
		{Name: "quick", Millis: 200},
	}
	got, err := ingress.Call(e2e.Context(t), env.Client, fanout.First.Target(), tasks)
	if err != nil || got != "QUICK" {
		t.Fatalf("first = %q, %v; want QUICK: the first success, not the first completion", got, err)
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	// Wide gaps between the tasks, so that a loaded machine does not
	// reorder them.
	req := fanout.DeadlineRequest{Millis: 4000, Tasks: []fanout.Task{
		{Name: "late", Millis: 60_000},
		{Name: "second", Millis: 1600},
		{Name: "first", Millis: 10},
		{Name: "failing", Millis: 800, Fail: true},
	}}
	got, err := ingress.Call(e2e.Context(t), env.Client, fanout.Deadline.Target(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := fanout.Report{Done: []string{"FIRST", "failing failed: task failing failed", "SECOND"}, Late: []string{"late"}, Elapsed: got.Elapsed}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deadline (-want +got):\n%s", diff)
	}
}

func TestWithTimeout(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	got, err := ingress.Call(ctx, env.Client, fanout.WithTimeout.Target(),
		fanout.TimedTask{Task: fanout.Task{Name: "fast", Millis: 10}, TimeoutMillis: 5000})
	if err != nil || got != "FAST" {
		t.Fatalf("withTimeout(fast) = %q, %v", got, err)
	}
	got, err = ingress.Call(ctx, env.Client, fanout.WithTimeout.Target(),
		fanout.TimedTask{Task: fanout.Task{Name: "endless", Millis: 60_000}, TimeoutMillis: 300})
	if err != nil || got != "endless timed out after 300ms" {
		t.Fatalf("withTimeout(endless) = %q, %v", got, err)
	}
	// The abandoned call was cancelled rather than left running.
	e2e.Eventually(t, 20*time.Second, "the abandoned call is cancelled", func() (bool, error) {
		invs, err := env.Admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "Worker", Status: "completed", Limit: 1000})
		return slices.ContainsFunc(invs, func(inv ingress.InvocationInfo) bool {
			return inv.CompletionResult == "failure" && inv.CompletionFailure == "[409] cancelled"
		}), err
	})
}
