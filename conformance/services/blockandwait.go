package services

import restate "github.com/qcodr/restate-sdk-go"

var workflowState = restate.NewStateKey[string]("my-state")

const workflowPromise = "durable-promise"

// BlockAndWaitWorkflow is a workflow whose run stores its input under
// "my-state" and returns the value its durable promise is resolved with,
// by the shared handler unblock; getState reads the state (null when
// unset).
var BlockAndWaitWorkflow = restate.NewWorkflow("BlockAndWaitWorkflow",
	restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, input string) (string, error) {
		if err := workflowState.Set(ctx, input); err != nil {
			return "", err
		}
		p := restate.Promise[string](ctx, workflowPromise)
		v, err := p.Result().Await()
		if err != nil {
			return "", err
		}
		peeked, err := p.Peek().Await()
		if err != nil {
			return "", err
		}
		if !peeked.Ok {
			return "", restate.TerminalErrorf("the durable promise is not completed after it was awaited")
		}
		return v, nil
	}),
	restate.NewWorkflowSharedHandler("unblock", restate.NoOutput(func(ctx restate.WorkflowSharedContext, output string) error {
		return restate.Promise[string](ctx, workflowPromise).Resolve(output)
	})),
	restate.NewWorkflowSharedHandler("getState", restate.NoInput(func(ctx restate.WorkflowSharedContext) (*string, error) {
		v, ok, err := workflowState.Lookup(ctx)
		if err != nil || !ok {
			return nil, err
		}
		return &v, nil
	})),
)
