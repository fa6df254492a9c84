package agreement_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// The services of the scenarios, shaped like the examples: a counter
// object, a workflow with a promise, a saga over calls, awakeables,
// signals, a cancellation tree, retries and failures.

var count = restate.NewStateKey[int]("count")

var counterAdd = restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
	v, err := count.Get(ctx)
	if err != nil {
		return 0, err
	}
	v += n
	return v, count.Set(ctx, v)
})

var counterGet = restate.NewSharedHandler("get", restate.NoInput(func(ctx restate.ObjectSharedContext) (int, error) {
	return count.Get(ctx)
}))

var counterReset = restate.NewObjectHandler("reset", restate.NoInputOutput(func(ctx restate.ObjectContext) error {
	return restate.ClearAll(ctx)
}))

var counter = restate.NewObject("Counter", counterAdd, counterGet, counterReset)

var stage = restate.NewStateKey[string]("stage")

var signupRun = restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, email string) (string, error) {
	if err := stage.Set(ctx, "waiting"); err != nil {
		return "", err
	}
	code, err := restate.Promise[string](ctx, "code").Result().Await()
	if err != nil {
		return "", err
	}
	if err := stage.Set(ctx, "verified"); err != nil {
		return "", err
	}
	return email + " verified with " + code, nil
})

var signupVerify = restate.NewWorkflowSharedHandler("verify", func(ctx restate.WorkflowSharedContext, code string) (restate.Void, error) {
	return restate.Void{}, restate.Promise[string](ctx, "code").Resolve(code)
})

var signupStatus = restate.NewWorkflowSharedHandler("status", restate.NoInput(func(ctx restate.WorkflowSharedContext) (string, error) {
	return stage.Get(ctx)
}))

var signup = restate.NewWorkflow("Signup", signupRun, signupVerify, signupStatus)

var stock = restate.NewStateKey[int]("stock")

var inventoryReserve = restate.NewObjectHandler("reserve", func(ctx restate.ObjectContext, n int) (int, error) {
	s, err := stock.Get(ctx)
	if err != nil {
		return 0, err
	}
	if s < n {
		return 0, &restate.TerminalError{Code: 409, Message: "out of stock"}
	}
	return s - n, stock.Set(ctx, s-n)
})

var inventoryRelease = restate.NewObjectHandler("release", func(ctx restate.ObjectContext, n int) (int, error) {
	s, err := stock.Get(ctx)
	if err != nil {
		return 0, err
	}
	return s + n, stock.Set(ctx, s+n)
})

var inventoryRestock = restate.NewObjectHandler("restock", func(ctx restate.ObjectContext, n int) (int, error) {
	return n, stock.Set(ctx, n)
})

var inventory = restate.NewObject("Inventory", inventoryReserve, inventoryRelease, inventoryRestock)

var paymentCharge = restate.NewHandler("charge", func(ctx restate.Context, cents int) (string, error) {
	if cents <= 0 {
		return "", &restate.TerminalError{Code: 402, Message: "card declined", Metadata: map[string]string{"reason": "amount"}}
	}
	return restate.Run(ctx, func(restate.RunContext) (string, error) { return fmt.Sprintf("pay-%d", cents), nil }, restate.WithName("charge"))
})

var payment = restate.NewService("Payment", paymentCharge)

type order struct {
	Item  string `json:"item"`
	Qty   int    `json:"qty"`
	Cents int    `json:"cents"`
}

var shopBuy = restate.NewHandler("buy", func(ctx restate.Context, o order) (string, error) {
	if _, err := inventoryReserve.Call(ctx, o.Item, o.Qty).Await(); err != nil {
		return "", err
	}
	pay, err := paymentCharge.Call(ctx, o.Cents).Await()
	if err != nil {
		if _, cerr := inventoryRelease.Call(ctx, o.Item, o.Qty).Await(); cerr != nil {
			return "", cerr
		}
		return "", err
	}
	return pay, nil
})

var shop = restate.NewService("Shop", shopBuy)

var approvalID = restate.NewStateKey[string]("awakeable")

// approvalWait stores the id of its awakeable in its state, for the test to
// find with the approvalID shared handler, then waits for it.
var approvalWait = restate.NewObjectHandler("wait", restate.NoInput(func(ctx restate.ObjectContext) (string, error) {
	a := restate.NewAwakeable[string](ctx)
	if err := approvalID.Set(ctx, a.ID()); err != nil {
		return "", err
	}
	v, err := a.Await()
	if err != nil {
		return "", err
	}
	return "approved by " + v, nil
}))

var approvalGetID = restate.NewSharedHandler("id", restate.NoInput(func(ctx restate.ObjectSharedContext) (string, error) {
	return approvalID.Get(ctx)
}))

var approval = restate.NewObject("Approval", approvalWait, approvalGetID)

var signalWait = restate.NewHandler("wait", restate.NoInput(func(ctx restate.Context) (string, error) {
	return restate.Signal[string](ctx, "go").Await()
}))

type signalReq struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

var signalSend = restate.NewHandler("send", func(ctx restate.Context, r signalReq) (restate.Void, error) {
	return restate.Void{}, restate.ResolveSignal(ctx, r.ID, "go", r.Value)
})

var signals = restate.NewService("Signals", signalWait, signalSend)

var treeParent = restate.NewHandler("parent", func(ctx restate.Context, d time.Duration) (string, error) {
	out, err := treeChild.Call(ctx, d).Await()
	if err != nil {
		return "", fmt.Errorf("parent saw %w", err)
	}
	return out, nil
})

var treeChild = restate.NewHandler("child", func(ctx restate.Context, d time.Duration) (string, error) {
	if err := restate.Sleep(ctx, d); err != nil {
		return "", err
	}
	return "child done", nil
})

var tree = restate.NewService("Tree", treeParent, treeChild)

// attempts counts attempts per key, so that each backend's invocations
// fail the same number of times.
var attempts sync.Map

var flakyCall = restate.NewHandler("call", func(ctx restate.Context, key string) (string, error) {
	n, _ := attempts.LoadOrStore(key, new(atomic.Int32))
	a := n.(*atomic.Int32).Add(1) // an invocation's attempts never overlap
	if a < 3 {
		return "", errors.New("transient")
	}
	return fmt.Sprintf("ok after %d attempts", a), nil
})

var flakyTerminal = restate.NewHandler("terminal", restate.NoInput(func(ctx restate.Context) (string, error) {
	return "", &restate.TerminalError{Code: 418, Message: "teapot", Metadata: map[string]string{"a": "b"}}
}))

var flakySleep = restate.NewHandler("sleep", func(ctx restate.Context, d time.Duration) (string, error) {
	if err := restate.Sleep(ctx, d); err != nil {
		return "", err
	}
	return "slept", nil
})

var flakyHeader = restate.NewHandler("header", func(ctx restate.Context, name string) (string, error) {
	return ctx.Request().Headers[name], nil
})

var flakyNothing = restate.NewHandler("nothing", restate.NoInputOutput(func(ctx restate.Context) error { return nil }))

var flaky = restate.NewService("Flaky", flakyCall, flakyTerminal, flakySleep, flakyHeader, flakyNothing)

var private = restate.NewService("Private", restate.NewHandler("hello", restate.NoInput(func(ctx restate.Context) (string, error) {
	return "hi", nil
})), restate.WithIngressPrivate())

var lockStage = restate.NewStateKey[string]("state")

var lockSlow = restate.NewObjectHandler("slow", func(ctx restate.ObjectContext, d time.Duration) (string, error) {
	if err := lockStage.Set(ctx, "sleeping"); err != nil {
		return "", err
	}
	if err := restate.Sleep(ctx, d); err != nil {
		return "", err
	}
	return "woke up", lockStage.Set(ctx, "done")
})

var lockQuick = restate.NewObjectHandler("quick", restate.NoInput(func(ctx restate.ObjectContext) (string, error) {
	s, err := lockStage.Get(ctx)
	return "quick saw " + s, err
}))

var lockState = restate.NewSharedHandler("state", restate.NoInput(func(ctx restate.ObjectSharedContext) (string, error) {
	return lockStage.Get(ctx)
}))

var lock = restate.NewObject("Lock", lockSlow, lockQuick, lockState)

var services = []restate.ServiceDefinition{counter, signup, inventory, payment, shop, approval, signals, tree, flaky, private, lock}
