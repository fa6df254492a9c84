package restate_test

import (
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// restate-server accepts the workflow retention only on a workflow's run
// handler; a workflow-level option must land there.
func TestWorkflowRetention(t *testing.T) {
	t.Parallel()
	echo := func(_ restate.WorkflowContext, s string) (string, error) { return s, nil }
	peek := func(_ restate.WorkflowSharedContext, s string) (string, error) { return s, nil }
	tests := []struct {
		name    string
		runOpts []restate.HandlerOption
		wfOpts  []restate.WorkflowItem
		wantRun time.Duration
	}{
		{"workflow option", nil, []restate.WorkflowItem{restate.WithWorkflowRetention(time.Hour)}, time.Hour},
		{"handler option wins", []restate.HandlerOption{restate.WithWorkflowRetention(time.Minute)},
			[]restate.WorkflowItem{restate.WithWorkflowRetention(time.Hour)}, time.Minute},
		{"none", nil, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := restate.NewWorkflowHandler("run", echo, tc.runOpts...)
			items := append([]restate.WorkflowItem{restate.NewWorkflowSharedHandler("peek", peek)}, tc.wfOpts...)
			def := restate.NewWorkflow("W", run, items...).Definition()
			if def.Options.WorkflowCompletionRetention != nil {
				t.Errorf("the workflow-level retention stayed on the service: %s", *def.Options.WorkflowCompletionRetention)
			}
			for _, h := range def.Handlers {
				var got time.Duration
				if r := h.Options.WorkflowCompletionRetention; r != nil {
					got = *r
				}
				want := time.Duration(0)
				if h.Name == "run" {
					want = tc.wantRun
				}
				if got != want {
					t.Errorf("handler %s: retention %s, want %s", h.Name, got, want)
				}
			}
		})
	}
}

func TestWorkflowRetentionOutsideWorkflows(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("NewService with WithWorkflowRetention did not panic")
		}
	}()
	restate.NewService("S", restate.WithWorkflowRetention(time.Hour))
}
