package restatetest_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// The services the tests run, written with the public API only.

// --- Counter: a virtual object with exclusive and shared handlers.

var count = restate.NewStateKey[int]("count")

var counterAdd = restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
	v, err := count.Get(ctx)
	if err != nil {
		return 0, err
	}
	v += n
	return v, count.Set(ctx, v)
})

// counterSlowAdd reads, sleeps an hour, then writes: exclusive handlers on
// one key queue behind it, so no add is lost.
var counterSlowAdd = restate.NewObjectHandler("slowAdd", func(ctx restate.ObjectContext, n int) (int, error) {
	v, err := count.Get(ctx)
	if err != nil {
		return 0, err
	}
	if err := restate.Sleep(ctx, time.Hour); err != nil {
		return 0, err
	}
	v += n
	return v, count.Set(ctx, v)
})

var counterGet = restate.NewSharedHandler("get", restate.NoInput(func(ctx restate.ObjectSharedContext) (int, error) {
	return count.Get(ctx)
}))

var counterKeys = restate.NewSharedHandler("keys", restate.NoInput(func(ctx restate.ObjectSharedContext) ([]string, error) {
	return restate.Keys(ctx)
}))

var counterReset = restate.NewObjectHandler("reset", restate.NoInputOutput(func(ctx restate.ObjectContext) error {
	return restate.ClearAll(ctx)
}))

var counter = restate.NewObject("Counter", counterAdd, counterSlowAdd, counterGet, counterKeys, counterReset)

// --- Signup: a workflow with a durable promise.

var signupEmail = restate.NewStateKey[string]("email")
var signupStage = restate.NewStateKey[string]("stage")

var signupRun = restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, email string) (string, error) {
	if err := signupEmail.Set(ctx, email); err != nil {
		return "", err
	}
	if err := signupStage.Set(ctx, "waiting"); err != nil {
		return "", err
	}
	code, err := restate.Promise[string](ctx, "code").Result().Await()
	if err != nil {
		return "", err
	}
	if err := signupStage.Set(ctx, "verified"); err != nil {
		return "", err
	}
	return "verified " + email + " with " + code, nil
})

var signupVerify = restate.NewWorkflowSharedHandler("verify", func(ctx restate.WorkflowSharedContext, code string) (restate.Void, error) {
	return restate.Void{}, restate.Promise[string](ctx, "code").Resolve(code)
})

var signupReject = restate.NewWorkflowSharedHandler("reject", func(ctx restate.WorkflowSharedContext, reason string) (restate.Void, error) {
	return restate.Void{}, restate.Promise[string](ctx, "code").Reject(restate.TerminalErrorf("%s", reason))
})

var signupPeek = restate.NewWorkflowSharedHandler("peek", restate.NoInput(func(ctx restate.WorkflowSharedContext) (string, error) {
	m, err := restate.Promise[string](ctx, "code").Peek().Await()
	if err != nil || !m.Ok {
		return "", err
	}
	return m.Value, nil
}))

var signupStatus = restate.NewWorkflowSharedHandler("status", restate.NoInput(func(ctx restate.WorkflowSharedContext) (string, error) {
	return signupStage.Get(ctx)
}))

var signup = restate.NewWorkflow("Signup", signupRun, signupVerify, signupReject, signupPeek, signupStatus)

// --- Shop: a saga with calls to a stateless payment service and an
// inventory object, and compensations.

var inventoryStock = restate.NewStateKey[int]("stock")

var inventoryReserve = restate.NewObjectHandler("reserve", func(ctx restate.ObjectContext, n int) (int, error) {
	s, err := inventoryStock.Get(ctx)
	if err != nil {
		return 0, err
	}
	if s < n {
		return 0, &restate.TerminalError{Code: 409, Message: "out of stock"}
	}
	return s - n, inventoryStock.Set(ctx, s-n)
})

var inventoryRelease = restate.NewObjectHandler("release", func(ctx restate.ObjectContext, n int) (int, error) {
	s, err := inventoryStock.Get(ctx)
	if err != nil {
		return 0, err
	}
	return s + n, inventoryStock.Set(ctx, s+n)
})

var inventory = restate.NewObject("Inventory", inventoryReserve, inventoryRelease)

// charges counts the charges of the payment service's side effect, across
// every test: tests use distinct amounts to tell theirs apart.
var charges atomic.Int64

var paymentCharge = restate.NewHandler("charge", func(ctx restate.Context, cents int) (string, error) {
	if cents <= 0 {
		return "", &restate.TerminalError{Code: 402, Message: "card declined"}
	}
	return restate.Run(ctx, func(restate.RunContext) (string, error) {
		charges.Add(int64(cents))
		return fmt.Sprintf("pay-%d", cents), nil
	}, restate.WithName("charge"))
})

var paymentRefund = restate.NewHandler("refund", func(ctx restate.Context, cents int) (restate.Void, error) {
	return restate.Void{}, restate.RunVoid(ctx, func(restate.RunContext) error {
		charges.Add(-int64(cents))
		return nil
	}, restate.WithName("refund"))
})

var payment = restate.NewService("Payment", paymentCharge, paymentRefund)

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
		// Compensate the reservation.
		if _, cerr := inventoryRelease.Call(ctx, o.Item, o.Qty).Await(); cerr != nil {
			return "", cerr
		}
		return "", err
	}
	return pay, nil
})

var shop = restate.NewService("Shop", shopBuy)

// --- Approvals: awakeables and named signals.

var approvalsAwakeable = restate.NewHandler("awakeable", restate.NoInput(func(ctx restate.Context) (string, error) {
	a := restate.NewAwakeable[string](ctx)
	v, err := a.Await()
	if err != nil {
		return "", err
	}
	return "approved by " + v, nil
}))

var approvalsSignal = restate.NewHandler("signal", restate.NoInput(func(ctx restate.Context) (string, error) {
	return restate.Signal[string](ctx, "approve").Await()
}))

// approvalsRelay creates an awakeable and has another handler resolve it.
var approvalsRelay = restate.NewHandler("relay", func(ctx restate.Context, who string) (string, error) {
	a := restate.NewAwakeable[string](ctx)
	approvalsResolver.Send(ctx, resolveReq{ID: a.ID(), Who: who})
	return a.Await()
})

type resolveReq struct {
	ID  string `json:"id"`
	Who string `json:"who"`
}

var approvalsResolver = restate.NewHandler("resolver", func(ctx restate.Context, r resolveReq) (restate.Void, error) {
	if r.Who == "" {
		return restate.Void{}, restate.RejectAwakeable(ctx, r.ID, restate.TerminalErrorf("nobody"))
	}
	return restate.Void{}, restate.ResolveAwakeable(ctx, r.ID, r.Who)
})

// approvalsSignaller sends the named signal "approve" to an invocation.
var approvalsSignaller = restate.NewHandler("signaller", func(ctx restate.Context, r resolveReq) (restate.Void, error) {
	return restate.Void{}, restate.ResolveSignal(ctx, r.ID, "approve", r.Who)
})

var approvals = restate.NewService("Approvals", approvalsAwakeable, approvalsSignal, approvalsRelay, approvalsResolver, approvalsSignaller)

// --- Cron: a job that reschedules itself with delayed sends.

var cronTicks = restate.NewStateKey[int]("ticks")

var cronTick = restate.NewObjectHandler("tick", func(ctx restate.ObjectContext, every time.Duration) (restate.Void, error) {
	n, err := cronTicks.Get(ctx)
	if err != nil {
		return restate.Void{}, err
	}
	if err := cronTicks.Set(ctx, n+1); err != nil {
		return restate.Void{}, err
	}
	cronTickRef.Send(ctx, ctx.Key(), every, restate.WithDelay(every))
	return restate.Void{}, nil
})

// cronTickRef calls tick by name, since a handler value cannot refer to
// itself in its own initializer.
var cronTickRef = restate.RemoteObject[time.Duration, restate.Void]("Cron", "tick")

var cron = restate.NewObject("Cron", cronTick)

// --- Tree: cancellation and kill propagate through calls.

var treeLog = restate.NewStateKey[[]string]("log")

// treeParent calls the child and records how it ended: a cancelled parent
// still writes its compensation.
var treeParent = restate.NewObjectHandler("parent", func(ctx restate.ObjectContext, d time.Duration) (string, error) {
	out, err := treeChild.Call(ctx, d).Await()
	if err != nil {
		if errors.Is(err, restate.ErrCancelled) {
			log, _ := treeLog.Get(ctx)
			if serr := treeLog.Set(ctx, append(log, "compensated")); serr != nil {
				return "", serr
			}
		}
		return "", err
	}
	return out, nil
})

var treeChild = restate.NewHandler("child", func(ctx restate.Context, d time.Duration) (string, error) {
	if err := restate.Sleep(ctx, d); err != nil {
		return "", err
	}
	return "child done", nil
})

var tree = restate.NewObject("Tree", treeParent)
var treeService = restate.NewService("TreeChild", treeChild)

// --- Flaky: retries.

var flakyFailures atomic.Int64

// flakyHandler fails with a retryable error until flakyFailures runs out.
var flakyHandler = restate.NewHandler("call", func(ctx restate.Context, in string) (string, error) {
	if flakyFailures.Add(-1) >= 0 {
		return "", errors.New("transient")
	}
	return "ok " + in, nil
})

var flakyLimited = restate.NewHandler("limited", func(ctx restate.Context, in string) (string, error) {
	return "", errors.New("always failing")
}, restate.WithRetryPolicy(restate.InvocationRetryPolicy{InitialInterval: time.Second, MaxAttempts: 3, OnMaxAttempts: restate.OnMaxKill}))

var flaky = restate.NewService("Flaky", flakyHandler, flakyLimited)

// --- Effects: side effects counted per input, for failure injection.

var effects sync64Map

type sync64Map struct {
	m [64]atomic.Int64
}

func (s *sync64Map) add(i int) int64 { return s.m[i%64].Add(1) }
func (s *sync64Map) get(i int) int64 { return s.m[i%64].Load() }

var effectsRun = restate.NewHandler("run", func(ctx restate.Context, slot int) (int, error) {
	a, err := restate.Run(ctx, func(restate.RunContext) (int64, error) { return effects.add(slot), nil }, restate.WithName("first"))
	if err != nil {
		return 0, err
	}
	b, err := restate.Run(ctx, func(restate.RunContext) (int64, error) { return effects.add(slot), nil }, restate.WithName("second"))
	if err != nil {
		return 0, err
	}
	return int(a + b), nil
})

var effectsService = restate.NewService("Effects", effectsRun)

// --- Dice: a non-deterministic handler, for WithAlwaysReplay.

var diceCalls atomic.Int64

var diceRoll = restate.NewHandler("roll", restate.NoInput(func(ctx restate.Context) (int, error) {
	// Wrong: a decision outside a run, different on every attempt.
	if diceCalls.Add(1)%2 == 1 {
		if _, err := restate.Run(ctx, func(restate.RunContext) (int, error) { return 1, nil }, restate.WithName("odd")); err != nil {
			return 0, err
		}
	}
	return restate.Run(ctx, func(restate.RunContext) (int, error) { return 6, nil }, restate.WithName("roll"))
}))

var diceFair = restate.NewHandler("fair", restate.NoInput(func(ctx restate.Context) (int, error) {
	n := ctx.Rand().IntN(6) + 1 // deterministic: seeded by the invocation
	if _, err := restate.Run(ctx, func(restate.RunContext) (int, error) { return n, nil }, restate.WithName("log")); err != nil {
		return 0, err
	}
	return restate.Run(ctx, func(restate.RunContext) (int, error) { return n, nil }, restate.WithName("roll"))
}))

var dice = restate.NewService("Dice", diceRoll, diceFair)

// --- Private: a service the ingress cannot call.

var privateHello = restate.NewHandler("hello", restate.NoInput(func(ctx restate.Context) (string, error) { return "hi", nil }))

var privateSvc = restate.NewService("Private", privateHello, restate.WithIngressPrivate())

// --- Caller: calls, attach and output by id, unknown targets.

var callerUnknown = restate.NewHandler("unknown", restate.NoInput(func(ctx restate.Context) (string, error) {
	return restate.Remote[restate.Void, string]("Nope", "nothing").Call(ctx, restate.Void{}).Await()
}))

var callerPrivate = restate.NewHandler("private", restate.NoInput(func(ctx restate.Context) (string, error) {
	return privateHello.Call(ctx, restate.Void{}).Await()
}))

var callerAttach = restate.NewHandler("attach", func(ctx restate.Context, id string) (string, error) {
	return restate.AttachInvocation[string](ctx, id).Await()
})

var callerOutput = restate.NewHandler("output", func(ctx restate.Context, id string) (string, error) {
	m, err := restate.InvocationOutput[string](ctx, id).Await()
	if err != nil {
		return "", err
	}
	if !m.Ok {
		return "not ready", nil
	}
	return "ready: " + m.Value, nil
})

var callerWorkflow = restate.NewHandler("workflow", func(ctx restate.Context, key string) (string, error) {
	return signupRun.Call(ctx, key, "from-caller@example.com").Await()
})

var callerIdempotent = restate.NewHandler("idempotent", func(ctx restate.Context, key string) (int, error) {
	return counterAdd.Call(ctx, "idem", 1, restate.WithIdempotencyKey(key)).Await()
})

var callerTimeout = restate.NewHandler("timeout", func(ctx restate.Context, d time.Duration) (string, error) {
	return restate.WithTimeout(ctx, approvalsAwakeableRef.Call(ctx, restate.Void{}).Future, d).Await()
})

var approvalsAwakeableRef = restate.Remote[restate.Void, string]("Approvals", "awakeable")

var caller = restate.NewService("Caller", callerUnknown, callerPrivate, callerAttach, callerOutput, callerWorkflow, callerIdempotent, callerTimeout)

var all = []restate.ServiceDefinition{counter, signup, inventory, payment, shop, approvals, cron, tree, treeService, flaky, effectsService, dice, privateSvc, caller}
