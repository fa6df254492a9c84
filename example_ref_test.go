package restate_test

import (
	"context"
	"fmt"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// factorialSelf is the factorial handler's reference to itself: the
// handler's own variable in its initializer would be an initialization
// cycle.
var factorialSelf restate.Ref[*restate.Handler[int, int]]

var factorial = factorialSelf.Set(restate.NewHandler("factorial", func(ctx restate.Context, n int) (int, error) {
	if n <= 1 {
		return 1, nil
	}
	// A typed call: the compiler checks the input and output types.
	rest, err := factorialSelf.Get().Call(ctx, n-1).Await()
	return n * rest, err
}))

var maths = restate.NewService("Maths", factorial)

// A handler that calls itself, run in process by package restatetest.
func ExampleRef() {
	env, err := restatetest.Start([]restate.ServiceDefinition{maths})
	if err != nil {
		panic(err)
	}
	defer env.Close()
	n, err := restatetest.Call(context.Background(), env, factorial.Target(), 5)
	fmt.Println(n, err)
	// Output:
	// 120 <nil>
}
