package props_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/props"
	"pgregory.net/rapid"
)

// Deterministic handlers that use every durable operation, checked with
// props: they exercise the engine and the typed API under every schedule,
// protocol version, stream mode and state mode.

var (
	cartItems = restate.NewStateKey[[]string]("items")
	cartTotal = restate.NewStateKey[int]("total")
)

// cartAdd uses state (eager and lazy reads, set, clear, keys), runs with
// drawn outcomes, calls, a send and a timeout race.
var cartAdd = restate.NewObjectHandler("add", func(ctx restate.ObjectContext, item string) ([]string, error) {
	items, err := cartItems.Get(ctx)
	if err != nil {
		return nil, err
	}
	price, err := restate.Run(ctx, func(rc restate.RunContext) (int, error) {
		if err := props.Effect(rc); err != nil {
			return 0, err
		}
		return props.Draw(rc, rapid.IntRange(0, 50)), nil
	}, restate.WithName("price"))
	if err != nil {
		return nil, err
	}
	stock := restate.Remote[string, int]("Inventory", "reserve").Call(ctx, item)
	n, err := restate.WithTimeout(ctx, stock.Future, time.Hour).Await()
	switch {
	case errors.Is(err, restate.ErrTimeout):
		n = 0
	case err != nil && restate.IsTerminal(err):
		return nil, err
	case err != nil:
		return nil, err
	}
	if n == 0 {
		if err := cartTotal.Clear(ctx); err != nil {
			return nil, err
		}
		return items, nil
	}
	items = append(items, item)
	if err := cartItems.Set(ctx, items); err != nil {
		return nil, err
	}
	total, err := cartTotal.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := cartTotal.Set(ctx, total+price*n); err != nil {
		return nil, err
	}
	restate.Remote[int, restate.Void]("Audit", "log").Send(ctx, total+price*n, restate.WithDelay(time.Minute))
	keys, err := restate.Keys(ctx)
	if err != nil {
		return nil, err
	}
	return append(items, keys...), nil
})

// cartCheckout races and gathers futures, and clears all state.
var cartCheckout = restate.NewObjectHandler("checkout", func(ctx restate.ObjectContext, _ restate.Void) (string, error) {
	items, err := cartItems.Get(ctx)
	if err != nil {
		return "", err
	}
	var quotes []restate.Future[int]
	for _, it := range items {
		quotes = append(quotes, restate.Remote[string, int]("Shipping", "quote").Call(ctx, it).Future)
	}
	fastest := -1
	if len(quotes) > 0 {
		fastest, err = restate.Race(quotes...).Await()
		if err != nil && !restate.IsTerminal(err) {
			return "", err
		}
	}
	all, allErr := restate.All(quotes...).Await()
	if allErr != nil && !restate.IsTerminal(allErr) {
		return "", allErr
	}
	anyQuote, anyErr := -1, error(nil)
	if len(quotes) > 0 {
		anyQuote, anyErr = restate.Any(quotes...).Await()
		if anyErr != nil && !restate.IsTerminal(anyErr) {
			return "", anyErr
		}
	}
	aw := restate.NewAwakeable[string](ctx)
	timer := restate.After(ctx, time.Minute, restate.WithName("payment window"))
	paid := "timeout"
	i, err := restate.Select(aw, timer)
	if err != nil {
		return "", err
	}
	if i == 0 {
		paid, err = aw.Await()
		if err != nil && !restate.IsTerminal(err) {
			return "", err
		}
	}
	if err := restate.ClearAll(ctx); err != nil {
		return "", err
	}
	return fmt.Sprint(fastest, all, allErr != nil, anyQuote, anyErr != nil, paid), nil
})

var cart = restate.NewObject("Cart", cartAdd, cartCheckout)

func TestPropCartAdd(t *testing.T) {
	props.Check(t, cart, cartAdd, rapid.SampledFrom([]string{"apple", "pear", "fig"}),
		props.WithState("items", rapid.SliceOfN(rapid.SampledFrom([]string{"apple", "kiwi"}), 0, 3)),
		props.WithState("total", rapid.IntRange(0, 100)),
		props.WithCallResults("Inventory", "reserve", rapid.IntRange(0, 3)),
		props.WithFailures(), props.WithCancellation(), props.WithTransientFailures())
}

func TestPropCartCheckout(t *testing.T) {
	props.Check(t, cart, cartCheckout, rapid.Just(restate.Void{}),
		props.WithState("items", rapid.SliceOfN(rapid.SampledFrom([]string{"apple", "kiwi", "fig"}), 0, 3)),
		props.WithCallResults("Shipping", "quote", rapid.IntRange(1, 9)),
		props.WithAwakeables(rapid.SampledFrom([]string{"card", "cash"})),
		props.WithFailures(), props.WithCancellation())
}

// signup is a workflow: promises, named signals, and a shared handler.
var (
	signupEmail = restate.NewStateKey[string]("email")
	signupRun   = restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, email string) (string, error) {
		if err := signupEmail.Set(ctx, email); err != nil {
			return "", err
		}
		if _, err := restate.Run(ctx, func(rc restate.RunContext) (restate.Void, error) {
			return restate.Void{}, props.Effect(rc)
		}, restate.WithName("send mail")); err != nil {
			return "", err
		}
		peek, err := restate.Promise[string](ctx, "link").Peek().Await()
		if err != nil && !restate.IsTerminal(err) {
			return "", err
		}
		clicked, err := restate.Promise[string](ctx, "link").Result().Await()
		if err != nil && !restate.IsTerminal(err) {
			return "", err
		}
		approved, err := restate.Signal[bool](ctx, "approved").Await()
		if err != nil && !restate.IsTerminal(err) {
			return "", err
		}
		return fmt.Sprint(peek.Ok, clicked, approved), nil
	})
	signupClick = restate.NewWorkflowSharedHandler("click", func(ctx restate.WorkflowSharedContext, code string) (bool, error) {
		email, err := signupEmail.Get(ctx)
		if err != nil {
			return false, err
		}
		if err := restate.Promise[string](ctx, "link").Resolve(code + email); err != nil {
			if restate.IsTerminal(err) {
				return false, nil
			}
			return false, err
		}
		return true, nil
	})
	signup = restate.NewWorkflow("Signup", signupRun, signupClick)
)

func TestPropSignupRun(t *testing.T) {
	props.Check(t, signup, signupRun, rapid.StringMatching(`[a-z]{1,5}@x\.io`),
		props.WithPromise("link", rapid.StringMatching(`[0-9]{4}`)),
		props.WithSignal("approved", rapid.Bool()),
		props.WithFailures(), props.WithCancellation(), props.WithTransientFailures())
}

func TestPropSignupClick(t *testing.T) {
	props.Check(t, signup, signupClick, rapid.StringMatching(`[0-9]{4}`),
		props.WithState("email", rapid.StringMatching(`[a-z]{1,5}@x\.io`)),
		props.WithFailures())
}

// fanout is a stateless service: parallel runs, calls and timers consumed
// in completion order, invocation ids, attach and get-output.
var fanout = restate.NewHandler("fanout", func(ctx restate.Context, n int) ([]string, error) {
	n = n%4 + 1
	var futs []restate.Selectable
	var runs []restate.Future[int]
	var calls []restate.CallFuture[string]
	for i := range n {
		r := restate.RunAsync(ctx, func(rc restate.RunContext) (int, error) {
			if err := props.Effect(rc); err != nil {
				return 0, err
			}
			return props.Draw(rc, rapid.IntRange(0, 9)), nil
		}, restate.WithName(fmt.Sprint("work ", i)))
		c := restate.Remote[int, string]("Worker", "do").Call(ctx, i)
		runs = append(runs, r)
		calls = append(calls, c)
		futs = append(futs, r, c, restate.After(ctx, time.Duration(i+1)*time.Second))
	}
	var order []string
	for i, err := range restate.AsCompleted(futs...) {
		if err != nil {
			return nil, err
		}
		order = append(order, fmt.Sprint(i))
	}
	id, err := calls[0].InvocationID()
	if err != nil {
		return nil, err
	}
	out, err := restate.AttachInvocation[string](ctx, id).Await()
	if err != nil && !restate.IsTerminal(err) {
		return nil, err
	}
	peek, err := restate.InvocationOutput[string](ctx, id).Await()
	if err != nil && !restate.IsTerminal(err) {
		return nil, err
	}
	sum := 0
	for _, r := range runs {
		v, err := r.Await()
		if err != nil {
			return nil, err
		}
		sum += v
	}
	slices.Sort(order[:0])
	return append(order, fmt.Sprint(sum, out, peek.Ok, restate.UUID(ctx))), nil
})

var fanoutSvc = restate.NewService("Fanout", fanout)

func TestPropFanout(t *testing.T) {
	props.Check(t, fanoutSvc, fanout, rapid.IntRange(0, 10),
		props.WithCallResults("Worker", "do", rapid.StringMatching(`[a-c]`)),
		props.WithFailures(), props.WithCancellation(), props.WithTransientFailures())
}

// TestNilOptionIgnored: Check skips a nil Option, as everywhere in the
// SDK, and applies the options beside it.
func TestNilOptionIgnored(t *testing.T) {
	attempts := 0
	h := restate.NewHandler("h", func(ctx restate.Context, in string) (string, error) { return in, nil })
	svc := restate.NewService("NilOpt", h)
	props.Check(t, svc, h, rapid.Just("x"), nil, props.WithBeforeAttempt(func(int) { attempts++ }), nil)
	if attempts == 0 {
		t.Error("WithBeforeAttempt beside the nil options was not applied")
	}
}

// TestInputTypedByHandler: the generator's type is the handler's input
// type (props.Check(t, svc, h, rapid.Int()) does not compile for a string
// handler), and the drawn input reaches the handler through the
// handler's own codec, here Raw, without WithCodec.
func TestInputTypedByHandler(t *testing.T) {
	var _ props.Handler[[]byte] = restate.NewHandler("raw", func(restate.Context, []byte) (string, error) { return "", nil })
	var bad []string
	h := restate.NewHandler("echo", func(ctx restate.Context, in []byte) ([]byte, error) {
		if string(in) != "raw bytes" {
			bad = append(bad, string(in))
		}
		return in, nil
	}, restate.WithCodec(restate.Raw))
	svc := restate.NewService("RawEcho", h)
	props.Check(t, svc, h, rapid.Just([]byte("raw bytes")))
	if len(bad) > 0 {
		t.Errorf("the handler got %q, want the drawn bytes unchanged", bad[0])
	}
}
