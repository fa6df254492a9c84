package restatetest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// The services of the examples: what a deployment serves with package h2c.

var total = restate.NewStateKey[int]("total")

// cartAdd adds to a shopping cart's total; one exclusive handler per cart
// at a time.
var cartAdd = restate.NewObjectHandler("add", func(ctx restate.ObjectContext, cents int) (int, error) {
	t, err := total.Get(ctx)
	if err != nil {
		return 0, err
	}
	return t + cents, total.Set(ctx, t+cents)
})

// cartExpire empties a cart after a day.
var cartExpire = restate.NewObjectHandler("expire", restate.NoInputOutput(func(ctx restate.ObjectContext) error {
	if err := restate.Sleep(ctx, 24*time.Hour); err != nil {
		return err
	}
	return restate.ClearAll(ctx)
}))

var cart = restate.NewObject("Cart", cartAdd, cartExpire)

// reviewAsk waits for a human's answer through an awakeable.
var reviewAsk = restate.NewHandler("ask", func(ctx restate.Context, question string) (string, error) {
	answer, err := restate.NewAwakeable[string](ctx).Await()
	if err != nil {
		return "", err
	}
	return question + " " + answer, nil
})

var review = restate.NewService("Review", reviewAsk)

// lottery is not deterministic: it decides outside a run.
var lotteryCalls int

var lotteryDraw = restate.NewHandler("draw", restate.NoInput(func(ctx restate.Context) (string, error) {
	lotteryCalls++
	if lotteryCalls%2 == 1 {
		if err := restate.RunVoid(ctx, func(restate.RunContext) error { return nil }, restate.WithName("bonus")); err != nil {
			return "", err
		}
	}
	return restate.Run(ctx, func(restate.RunContext) (string, error) { return "ticket", nil }, restate.WithName("draw"))
}))

var lottery = restate.NewService("Lottery", lotteryDraw)

// Example runs a virtual object in process: calls go through the real
// engine, the state is stored per key, and the test inspects it.
func Example() {
	env, err := restatetest.Start([]restate.ServiceDefinition{cart})
	if err != nil {
		panic(err)
	}
	defer env.Close()
	ctx := context.Background()

	restatetest.Call(ctx, env, cartAdd.Target("ann"), 250)
	t, err := restatetest.Call(ctx, env, cartAdd.Target("ann"), 100)
	fmt.Println(t, err)

	v, ok, err := restatetest.LookupState[int](env, "Cart", "ann", "total")
	fmt.Println(v, ok, err)
	// Output:
	// 350 <nil>
	// 350 true <nil>
}

// The virtual clock jumps over a day-long sleep while a call waits for it.
func ExampleCall() {
	env, _ := restatetest.Start([]restate.ServiceDefinition{cart})
	defer env.Close()
	ctx := context.Background()

	restatetest.Call(ctx, env, cartAdd.Target("bo"), 500)
	start := env.Now()
	_, err := restatetest.Call(ctx, env, cartExpire.Target("bo"), restate.Void{})
	fmt.Println(err, env.Now().Sub(start).Round(time.Hour))
	fmt.Println(env.State("Cart", "bo"))
	// Output:
	// <nil> 24h0m0s
	// map[]
}

// With a manual clock the test decides when timers fire.
func ExampleEnv_Advance() {
	env, _ := restatetest.Start([]restate.ServiceDefinition{cart}, restatetest.WithManualClock())
	defer env.Close()
	ctx := context.Background()

	restatetest.Call(ctx, env, cartAdd.Target("cy"), 500)
	inv, _ := restatetest.Send(ctx, env, cartExpire.Target("cy"), restate.Void{})
	env.Advance(23 * time.Hour)
	in, _ := env.Invocation(inv.ID())
	fmt.Println(in.Status, env.State("Cart", "cy")["total"] != nil)
	env.Advance(time.Hour)
	in, _ = env.Invocation(inv.ID())
	fmt.Println(in.Status, env.State("Cart", "cy")["total"] != nil)
	// Output:
	// suspended true
	// completed false
}

// A test completes an awakeable the handler waits for; the environment
// lists the awakeables each suspended invocation waits for.
func ExampleResolveAwakeable() {
	env, _ := restatetest.Start([]restate.ServiceDefinition{review})
	defer env.Close()
	ctx := context.Background()

	inv, _ := restatetest.Send(ctx, env, reviewAsk.Target(), "ship it?")
	env.Settle()
	in, _ := env.Invocation(inv.ID())
	restatetest.ResolveAwakeable(ctx, env, in.Awakeables[0], "yes")
	fmt.Println(inv.Attach(ctx))
	// Output:
	// ship it? yes <nil>
}

// The journal of an invocation, as the runtime stored it.
func ExampleEnv_Journal() {
	env, _ := restatetest.Start([]restate.ServiceDefinition{cart})
	defer env.Close()
	ctx := context.Background()

	inv, _ := restatetest.Send(ctx, env, cartAdd.Target("dee"), 42)
	inv.Attach(ctx)
	j, _ := env.Journal(inv.ID())
	fmt.Print(j)
	// Output:
	//   0 command      handler input "42"
	//   1 command      get state "total" (eager) = void
	//   2 command      set state "total" = "42"
	//   3 command      handler output "42"
}

// WithFailureAt crashes the first attempt before journal entry 2; the
// runtime retries and the handler completes from the journal.
func ExampleWithFailureAt() {
	env, _ := restatetest.Start([]restate.ServiceDefinition{cart})
	defer env.Close()
	ctx := context.Background()

	inv, _ := restatetest.Send(ctx, env, cartAdd.Target("eve"), 7, restatetest.WithFailureAt(2))
	fmt.Println(inv.Attach(ctx))
	in, _ := env.Invocation(inv.ID())
	fmt.Println(in.Attempts, in.LastFailure)
	// Output:
	// 7 <nil>
	// 2 [500] restatetest: failure injected before journal entry 2 (set state "total" = "7")
}

// WithAlwaysReplay replays the whole journal after every entry, so a
// handler that decides outside a run fails as soon as it is tested.
func ExampleWithAlwaysReplay() {
	env, _ := restatetest.Start([]restate.ServiceDefinition{lottery},
		restatetest.WithAlwaysReplay(),
		restatetest.WithViolationHandler(func(v restatetest.Violation) {
			fmt.Println(v.Property, "violated by", v.Target)
		}))
	defer env.Close()

	_, err := restatetest.Call(context.Background(), env, lotteryDraw.Target(), restate.Void{})
	fmt.Println(errors.Is(err, restatetest.ErrPaused))
	// Output:
	// replay determinism violated by Lottery/draw
	// true
}

// Code written for restate-server's ingress runs against an environment
// unchanged.
func ExampleEnv_IngressClient() {
	env, _ := restatetest.Start([]restate.ServiceDefinition{cart})
	defer env.Close()
	ctx := context.Background()

	client := env.IngressClient()
	ingress.Call(ctx, client, cartAdd.Target("fay"), 10)
	inv, _ := ingress.Send(ctx, client, cartAdd.Target("fay"), 5, ingress.WithIdempotencyKey("order-1"))
	again, _ := ingress.Send(ctx, client, cartAdd.Target("fay"), 5, ingress.WithIdempotencyKey("order-1"))
	fmt.Println(inv.Status(), again.Status())
	fmt.Println(inv.Attach(ctx))
	// Output:
	// Accepted PreviouslyAccepted
	// 15 <nil>
}

// One test body runs against restatetest and against a real restate-server:
// both backends hand out an *ingress.Client. (The example shows the test
// function; go test runs such functions, not examples.)
func ExampleStartServer() {
	checkCart := func(t *testing.T, c *ingress.Client) {
		if n, err := ingress.Call(context.Background(), c, cartAdd.Target("gus"), 10); err != nil || n != 10 {
			t.Fatalf("add = %d, %v", n, err)
		}
	}
	TestCart := func(t *testing.T) {
		services := []restate.ServiceDefinition{cart}
		t.Run("restatetest", func(t *testing.T) {
			checkCart(t, restatetest.New(t, services).IngressClient())
		})
		t.Run("restate-server", func(t *testing.T) {
			srv := restatetest.StartServer(t, services, restatetest.WithServerEnv("RESTATE_DEFAULT_NUM_PARTITIONS", "1"))
			checkCart(t, srv.IngressClient())
		})
	}
	_ = TestCart
}
