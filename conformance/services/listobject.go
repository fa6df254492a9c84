package services

import restate "github.com/qcodr/restate-sdk-go"

var listState = restate.NewStateKey[[]string]("list")

// getList returns the stored list, never nil.
func getList(ctx restate.ObjectContext) ([]string, error) {
	l, err := listState.Get(ctx)
	if l == nil {
		l = []string{}
	}
	return l, err
}

// ListObject is a virtual object holding a list of strings under the state
// key "list": append, get and clear (which returns the list it removes).
var ListObject = restate.NewObject("ListObject",
	restate.NewObjectHandler("append", restate.NoOutput(func(ctx restate.ObjectContext, value string) error {
		l, err := listState.Get(ctx)
		if err != nil {
			return err
		}
		return listState.Set(ctx, append(l, value))
	})),
	restate.NewObjectHandler("get", restate.NoInput(getList)),
	restate.NewObjectHandler("clear", restate.NoInput(func(ctx restate.ObjectContext) ([]string, error) {
		l, err := getList(ctx)
		if err != nil {
			return nil, err
		}
		return l, listState.Clear(ctx)
	})),
)
