package restate_test

import (
	"context"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// TestEmptyCombinators checks what each combinator does with no futures:
// All, AllSettled and AsCompleted succeed at once, Any, Race and Select
// fail the invocation with a terminal error in its first attempt instead
// of a retryable one.
func TestEmptyCombinators(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		fn       func(restate.Context) (int, error)
		want     int
		terminal bool
	}{
		{"all", func(ctx restate.Context) (int, error) {
			v, err := restate.All[int]().Await()
			return len(v), err
		}, 0, false},
		{"all-settled", func(ctx restate.Context) (int, error) {
			_, err := restate.AllSettled().Await()
			return 0, err
		}, 0, false},
		{"as-completed", func(ctx restate.Context) (int, error) {
			n := 0
			for _, err := range restate.AsCompleted() {
				if err != nil {
					return 0, err
				}
				n++
			}
			return n, nil
		}, 0, false},
		{"any", func(ctx restate.Context) (int, error) { return restate.Any[int]().Await() }, 0, true},
		{"race", func(ctx restate.Context) (int, error) { return restate.Race[int]().Await() }, 0, true},
		{"select", func(ctx restate.Context) (int, error) { return restate.Select() }, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := restate.NewHandler("h", restate.NoInput(c.fn))
			env := restatetest.New(t, []restate.ServiceDefinition{restate.NewService("Empty", h)})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := restatetest.Call(ctx, env, h.Target(), restate.Void{})
			if !c.terminal {
				if err != nil || got != c.want {
					t.Fatalf("got %d, %v; want %d, nil", got, err, c.want)
				}
				return
			}
			if !restate.IsTerminal(err) || restate.ErrorCode(err) != 500 {
				t.Fatalf("err = %v, want a terminal error with code 500", err)
			}
			invs := env.Invocations()
			if len(invs) != 1 || invs[0].Attempts != 1 {
				t.Fatalf("invocations = %+v, want one with one attempt", invs)
			}
		})
	}
}
