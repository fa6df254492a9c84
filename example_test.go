package restate_test

import (
	"fmt"
	"strings"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/journaltest"
	"github.com/qcodr/restate-sdk-go/wire"
)

// The examples run their handlers through the real engine against a canned
// journal, the way restate-server re-invokes a handler with the journal it
// stored, and print what the handler wrote.

func print(svc restate.ServiceDefinition, handler string, a journaltest.Attempt) {
	msgs, err := journaltest.Run(svc.Definition(), handler, a)
	if err != nil {
		fmt.Println("error:", err)
	}
	fmt.Print(journaltest.Format(msgs))
}

func ExampleNewService() {
	greet := restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
		return "Hello " + name + "!", nil
	})
	greeter := restate.NewService("Greeter", greet)

	print(greeter, "greet", journaltest.Attempt{Journal: []wire.Message{journaltest.Input(`"Alice"`)}})
	// Output:
	// output: "Hello Alice!"
	// end
}

func ExampleNewObject() {
	count := restate.NewStateKey[int]("count")
	add := restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
		v, err := count.Get(ctx)
		if err != nil {
			return 0, err
		}
		return v + n, count.Set(ctx, v+n)
	})
	get := restate.NewSharedHandler("get", restate.NoInput(func(ctx restate.ObjectSharedContext) (int, error) {
		return count.Get(ctx)
	}))
	counter := restate.NewObject("Counter", add, get)

	print(counter, "add", journaltest.Attempt{
		Key:     "alice",
		State:   map[string]string{"count": "41"},
		Journal: []wire.Message{journaltest.Input(`1`)},
	})
	// Output:
	// get count (eager): 41
	// set count = 42
	// output: 42
	// end
}

func ExampleNewWorkflow() {
	run := restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, email string) (string, error) {
		// Wait until a shared handler resolves the promise.
		return restate.Promise[string](ctx, "link-clicked").Result().Await()
	})
	click := restate.NewWorkflowSharedHandler("click", restate.NoOutput(func(ctx restate.WorkflowSharedContext, secret string) error {
		return restate.Promise[string](ctx, "link-clicked").Resolve(secret)
	}))
	signup := restate.NewWorkflow("Signup", run, click)

	// First attempt: the promise is not resolved, so the handler suspends.
	print(signup, "run", journaltest.Attempt{Key: "bob", Journal: []wire.Message{journaltest.Input(`"bob@example.com"`)}})
	// Next attempt: the journal holds the promise's value.
	print(signup, "run", journaltest.Attempt{Key: "bob", Journal: []wire.Message{
		journaltest.Input(`"bob@example.com"`),
		&wire.GetPromiseCommand{Key: "link-clicked", ResultCompletionID: 1},
		&wire.Notification{MessageType: wire.TypeGetPromiseCompletion, ID: wire.CompletionID(1), Result: wire.ValueResult([]byte(`"s3cr3t"`))},
	}})
	// Output:
	// get promise "link-clicked" (completion 1)
	// suspend: completions [1] signals [1] named []
	// output: "s3cr3t"
	// end
}

func ExampleRun() {
	executions := 0
	charge := restate.NewHandler("charge", func(ctx restate.Context, amount int) (string, error) {
		return restate.Run(ctx, func(restate.RunContext) (string, error) {
			executions++ // a payment API call, in real life
			return fmt.Sprintf("charged %d", amount), nil
		}, restate.WithName("charge"))
	})
	payments := restate.NewService("Payments", charge)

	// The first attempt executes the closure and proposes its result; the
	// handler suspends until Restate has stored it.
	print(payments, "charge", journaltest.Attempt{Journal: []wire.Message{journaltest.Input(`10`)}})
	// On replay the journal holds the result: the closure does not run again.
	print(payments, "charge", journaltest.Attempt{Journal: []wire.Message{
		journaltest.Input(`10`),
		&wire.RunCommand{ResultCompletionID: 1, Name: "charge"},
		&wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(1), Result: wire.ValueResult([]byte(`"charged 10"`))},
	}})
	fmt.Println("executions:", executions)
	// Output:
	// run "charge" (completion 1)
	// propose run 1: "charged 10"
	// suspend: completions [1] signals [1] named []
	// output: "charged 10"
	// end
	// executions: 1
}

func ExampleSelect_timeout() {
	slow := restate.Remote[string, string]("Slow", "work")
	handler := restate.NewHandler("h", func(ctx restate.Context, in string) (string, error) {
		call := slow.Call(ctx, in)
		timer := restate.After(ctx, time.Second)
		i, err := restate.Select(call, timer)
		if err != nil {
			return "", err
		}
		if i == 1 {
			return "too slow", nil
		}
		return call.Await()
	})
	svc := restate.NewService("Caller", handler)

	print(svc, "h", journaltest.Attempt{Journal: []wire.Message{
		journaltest.Input(`"x"`),
		&wire.CallCommand{ServiceName: "Slow", HandlerName: "work", Parameter: []byte(`"x"`), InvocationIDNotificationIdx: 1, ResultCompletionID: 2},
		&wire.SleepCommand{ResultCompletionID: 3},
		&wire.Notification{MessageType: wire.TypeSleepCompletion, ID: wire.CompletionID(3), Result: wire.VoidResult()},
	}})
	// Output:
	// output: "too slow"
	// end
}

func ExampleWithTimeout() {
	approval := restate.NewHandler("approve", func(ctx restate.Context, doc string) (string, error) {
		a := restate.NewAwakeable[string](ctx)
		// Hand a.ID() to a human; give up after a day.
		v, err := restate.WithTimeout(ctx, a.Future, 24*time.Hour).Await()
		if restate.ErrorCode(err) == 408 {
			return "no answer", nil
		}
		return v, err
	})
	svc := restate.NewService("Approvals", approval)

	print(svc, "approve", journaltest.Attempt{Journal: []wire.Message{
		journaltest.Input(`"contract"`),
		&wire.SleepCommand{ResultCompletionID: 1},
		&wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(17), Result: wire.ValueResult([]byte(`"approved"`))},
	}})
	// Output:
	// output: "approved"
	// end
}

func ExampleAll() {
	fanOut := restate.NewHandler("fanOut", func(ctx restate.Context, words []string) (string, error) {
		var futs []restate.Future[string]
		for _, w := range words {
			futs = append(futs, restate.RunAsync(ctx, func(restate.RunContext) (string, error) {
				return strings.ToUpper(w), nil
			}))
		}
		all, err := restate.All(futs...).Await()
		return strings.Join(all, " "), err
	})
	svc := restate.NewService("Shout", fanOut)

	print(svc, "fanOut", journaltest.Attempt{Journal: []wire.Message{
		journaltest.Input(`["hello","world"]`),
		&wire.RunCommand{ResultCompletionID: 1},
		&wire.RunCommand{ResultCompletionID: 2},
		&wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(2), Result: wire.ValueResult([]byte(`"WORLD"`))},
		&wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(1), Result: wire.ValueResult([]byte(`"HELLO"`))},
	}})
	// Output:
	// output: "HELLO WORLD"
	// end
}

func ExampleNewStateKey() {
	type Cart struct{ Items []string }
	cart := restate.NewStateKey[Cart]("cart")
	addItem := restate.NewObjectHandler("add", func(ctx restate.ObjectContext, item string) (int, error) {
		c, err := cart.Get(ctx) // the zero Cart when nothing is stored
		if err != nil {
			return 0, err
		}
		c.Items = append(c.Items, item)
		return len(c.Items), cart.Set(ctx, c)
	})
	svc := restate.NewObject("Cart", addItem)

	print(svc, "add", journaltest.Attempt{Key: "u1", State: map[string]string{}, Journal: []wire.Message{journaltest.Input(`"book"`)}})
	// Output:
	// get cart (eager): none
	// set cart = {"Items":["book"]}
	// output: 1
	// end
}

func ExampleHandler_Call() {
	greet := restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
		return "Hello " + name + "!", nil
	})
	restate.NewService("Greeter", greet)

	// The compiler checks the input and output types of the call.
	welcome := restate.NewHandler("welcome", func(ctx restate.Context, name string) (string, error) {
		greeting, err := greet.Call(ctx, name).Await()
		return greeting + " Welcome.", err
	})
	frontDesk := restate.NewService("FrontDesk", welcome)

	print(frontDesk, "welcome", journaltest.Attempt{Journal: []wire.Message{journaltest.Input(`"Ann"`)}})
	// Output:
	// call Greeter/greet key "": "Ann"
	// suspend: completions [2] signals [1] named []
}
