package ingress_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/ingress"
)

// The examples run against the real restate-server that TestMain starts;
// ingressURL and adminURL are its addresses, and greet, addTo, slowEcho,
// approve and decide are handlers declared like any other (see
// main_ext_test.go).

func ExampleCall() {
	ctx := context.Background()
	client := ingress.NewClient(ingressURL)

	// greet is a *restate.Handler[string, string]: the compiler checks the
	// input and the result type.
	greeting, err := ingress.Call(ctx, client, greet.Target(), "Alice")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(greeting)

	// Virtual objects: the key is part of the target.
	total, err := ingress.Call(ctx, client, addTo.Target("example-call"), 42)
	fmt.Println(total, err)
	// Output:
	// Hello Alice!
	// 42 <nil>
}

func ExampleCall_terminalError() {
	client := ingress.NewClient(ingressURL)
	_, err := ingress.Call(context.Background(), client, greet.Target(), "")

	// The handler's terminal error, with its code and message.
	var te *restate.TerminalError
	if errors.As(err, &te) {
		fmt.Println(te.Code, te.Message)
	}
	// Output:
	// 422 a name is required
}

func ExampleSend() {
	ctx := context.Background()
	client := ingress.NewClient(ingressURL)

	inv, err := ingress.Send(ctx, client, slowEcho.Target(), SlowInput{Text: "done", Millis: 100},
		ingress.WithDelay(100*time.Millisecond))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(inv.Status())

	// Later, possibly in another process: attach by id.
	out, err := ingress.ByID(client, slowEcho.Target(), inv.ID()).Attach(ctx)
	fmt.Println(out, err)
	// Output:
	// Accepted
	// done <nil>
}

func ExampleWithIdempotencyKey() {
	ctx := context.Background()
	client := ingress.NewClient(ingressURL)
	target := addTo.Target("example-idempotency")

	// Retrying a request with the same key is safe: the object adds once.
	for range 3 {
		total, err := ingress.Call(ctx, client, target, 10, ingress.WithIdempotencyKey("order-17"))
		fmt.Println(total, err)
	}
	// The result stays available by the key.
	out, err := ingress.ByIdempotencyKey(client, target, "order-17").Output(ctx)
	fmt.Println(out.Value, out.Ok, err)
	// Output:
	// 10 <nil>
	// 10 <nil>
	// 10 <nil>
	// 10 true <nil>
}

func ExampleSubmit() {
	ctx := context.Background()
	client := ingress.NewClient(ingressURL)

	// approve is the run handler of a workflow that waits for a verdict.
	wf, err := ingress.Submit(ctx, client, approve.Target("contract-42"), "contract 42")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	out, _ := wf.Output(ctx)
	fmt.Println("done:", out.Ok)

	// A shared handler resolves the workflow's durable promise.
	if _, err := ingress.Call(ctx, client, decide.Target("contract-42"), "approved"); err != nil {
		fmt.Println("error:", err)
		return
	}
	result, err := ingress.ByWorkflow(client, approve.Target("contract-42")).Attach(ctx)
	fmt.Println(result, err)
	// Output:
	// done: false
	// contract 42: approved <nil>
}

func ExampleAdmin_ListInvocations() {
	ctx := context.Background()
	client := ingress.NewClient(ingressURL)
	admin := ingress.NewAdmin(adminURL)

	if _, err := ingress.Call(ctx, client, addTo.Target("example-list"), 1); err != nil {
		fmt.Println("error:", err)
		return
	}
	invs, err := admin.ListInvocations(ctx, ingress.InvocationFilter{Service: "IngressCounter", Key: "example-list"})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, inv := range invs {
		fmt.Println(inv.Target, inv.Status, inv.CompletionResult)
	}
	// Output:
	// IngressCounter/example-list/add completed success
}

func ExampleResolveAwakeable() {
	ctx := context.Background()
	client := ingress.NewClient(ingressURL)

	// waitAwakeable creates an awakeable, hands its id out (here through
	// an in-process channel; an email or a queue in real life) and waits.
	inv, err := ingress.Send(ctx, client, waitAwakeable.Target(), "example")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	id := awakeables.next("example")

	// Whoever holds the id completes the awakeable; the handler resumes.
	if err := ingress.ResolveAwakeable(ctx, client, id, "approved"); err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(inv.Attach(ctx))
	// Output:
	// approved <nil>
}
