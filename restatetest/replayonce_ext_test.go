package restatetest_test

import (
	"sync/atomic"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// TestAlwaysReplayRunsOnceAfterNonWaitingCommands checks that a run that
// directly follows commands that do not wait executes once: its closure ran
// in the same attempt as those commands, before any of them was journaled.
func TestAlwaysReplayRunsOnceAfterNonWaitingCommands(t *testing.T) {
	key := restate.NewStateKey[int]("k")
	cases := []struct {
		name   string
		before func(ctx restate.ObjectContext) error
	}{
		{"set", func(ctx restate.ObjectContext) error { return key.Set(ctx, 1) }},
		{"get", func(ctx restate.ObjectContext) error { _, err := key.Get(ctx); return err }},
		{"set-get-set", func(ctx restate.ObjectContext) error {
			if err := key.Set(ctx, 1); err != nil {
				return err
			}
			if _, err := key.Get(ctx); err != nil {
				return err
			}
			return key.Set(ctx, 2)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n atomic.Int32
			h := restate.NewObjectHandler("h", func(ctx restate.ObjectContext, _ restate.Void) (int, error) {
				if err := c.before(ctx); err != nil {
					return 0, err
				}
				return restate.Run(ctx, func(restate.RunContext) (int, error) { return int(n.Add(1)), nil })
			})
			env := restatetest.New(t, []restate.ServiceDefinition{restate.NewObject("Once", h)}, restatetest.WithAlwaysReplay())
			got, err := restatetest.Call(testContext(t), env, h.Target("a"), restate.Void{})
			if err != nil {
				t.Fatal(err)
			}
			if got != 1 || n.Load() != 1 {
				t.Fatalf("result %d, closure executed %d times; want 1 and 1", got, n.Load())
			}
		})
	}
}
