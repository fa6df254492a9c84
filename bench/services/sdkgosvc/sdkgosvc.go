// Package sdkgosvc implements the benchmark workloads with the official Go
// SDK, github.com/restatedev/sdk-go.
package sdkgosvc

import (
	"github.com/qcodr/restate-sdk-go/bench/workload"
	restate "github.com/restatedev/sdk-go"
)

// Services returns the benchmark workloads (package workload) written with
// sdk-go, their service names prefixed with prefix.
func Services(prefix string) []restate.ServiceDefinition {
	greeter := restate.NewService(workload.Name(prefix, workload.Greeter)).
		Handler(workload.GreeterGreet, restate.NewServiceHandler(func(_ restate.Context, name string) (string, error) {
			return workload.GreetText(name), nil
		}))
	counter := restate.NewObject(workload.Name(prefix, workload.Counter)).
		Handler(workload.CounterAdd, restate.NewObjectHandler(func(ctx restate.ObjectContext, delta int64) (int64, error) {
			n, err := restate.Get[int64](ctx, workload.CountKey)
			if err != nil {
				return 0, err
			}
			n += delta
			restate.Set(ctx, workload.CountKey, n)
			return n, nil
		}))
	runner := restate.NewService(workload.Name(prefix, workload.Runner)).
		Handler(workload.RunnerRuns, restate.NewServiceHandler(func(ctx restate.Context, n int) (int64, error) {
			var sum int64
			for range n {
				v, err := restate.Run(ctx, func(restate.RunContext) (int64, error) { return 1, nil })
				if err != nil {
					return 0, err
				}
				sum += v
			}
			return sum, nil
		}))
	reader := restate.NewObject(workload.Name(prefix, workload.Reader)).
		Handler(workload.ReaderGets, restate.NewObjectHandler(func(ctx restate.ObjectContext, n int) (int64, error) {
			var sum int64
			for range n {
				v, err := restate.Get[int64](ctx, workload.ReadKey)
				if err != nil {
					return 0, err
				}
				sum += v
			}
			return sum, nil
		}))
	waiter := restate.NewService(workload.Name(prefix, workload.Waiter)).
		Handler(workload.WaiterWait, restate.NewServiceHandler(func(ctx restate.Context, _ string) (string, error) {
			v, err := restate.Awakeable[string](ctx).Result()
			if err != nil {
				return "", err
			}
			return v, nil
		}))
	return []restate.ServiceDefinition{greeter, counter, runner, reader, waiter}
}
