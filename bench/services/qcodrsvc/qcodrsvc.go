// Package qcodrsvc implements the benchmark workloads with this SDK.
package qcodrsvc

import (
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/bench/workload"
)

// Services returns the benchmark workloads (package workload) written with
// this SDK, their service names prefixed with prefix.
func Services(prefix string) []restate.ServiceDefinition {
	greet := restate.NewHandler(workload.GreeterGreet, func(_ restate.Context, name string) (string, error) {
		return workload.GreetText(name), nil
	})
	count := restate.NewStateKey[int64](workload.CountKey)
	add := restate.NewObjectHandler(workload.CounterAdd, func(ctx restate.ObjectContext, delta int64) (int64, error) {
		n, err := count.Get(ctx)
		if err != nil {
			return 0, err
		}
		n += delta
		if err := count.Set(ctx, n); err != nil {
			return 0, err
		}
		return n, nil
	})
	runs := restate.NewHandler(workload.RunnerRuns, func(ctx restate.Context, n int) (int64, error) {
		var sum int64
		for range n {
			v, err := restate.Run(ctx, func(restate.RunContext) (int64, error) { return 1, nil })
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	})
	read := restate.NewStateKey[int64](workload.ReadKey)
	gets := restate.NewObjectHandler(workload.ReaderGets, func(ctx restate.ObjectContext, n int) (int64, error) {
		var sum int64
		for range n {
			v, err := read.Get(ctx)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	})
	wait := restate.NewHandler(workload.WaiterWait, func(ctx restate.Context, _ string) (string, error) {
		return restate.NewAwakeable[string](ctx).Await()
	})
	return []restate.ServiceDefinition{
		restate.NewService(workload.Name(prefix, workload.Greeter), greet),
		restate.NewObject(workload.Name(prefix, workload.Counter), add),
		restate.NewService(workload.Name(prefix, workload.Runner), runs),
		restate.NewObject(workload.Name(prefix, workload.Reader), gets),
		restate.NewService(workload.Name(prefix, workload.Waiter), wait),
	}
}
