package restate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/journaltest"
	"github.com/qcodr/restate-sdk-go/restatetest"
	"github.com/qcodr/restate-sdk-go/wire"
)

// TestNilOptionsIgnored: every option list of the root package skips a nil
// option, as the package doc says.
func TestNilOptionsIgnored(t *testing.T) {
	t.Parallel()
	var (
		nilHandlerOpt restate.HandlerOption
		nilOpt        restate.Option
		nilCall       restate.CallOption
		nilSend       restate.SendOption
		nilRun        restate.RunOption
		nilSleep      restate.SleepOption
		nilCodec      restate.CodecOption
	)
	callee := restate.Remote[string, string]("Callee", "h", nilCodec)
	s := restate.NewService("S", restate.NewHandler("h", func(ctx restate.Context, in string) (string, error) {
		callee.Send(ctx, in, nilSend, restate.WithName("send"))
		callee.Call(ctx, in, nilCall, restate.WithName("call"))
		restate.After(ctx, time.Second, nilSleep)
		return restate.Run(ctx, func(restate.RunContext) (string, error) { return "ran", nil }, nilRun, restate.WithName("r"))
	}, nilHandlerOpt, restate.WithDocumentation("doc")), nilOpt, nil)
	if got := s.Definition().Handlers[0].Options.Documentation; got != "doc" {
		t.Errorf("documentation %q, want the non-nil option applied", got)
	}
	got := run(t, s, journaltest.Attempt{Journal: input(`"x"`)})
	if len(got) < 4 {
		t.Fatalf("frames:\n%s", journaltest.Format(got))
	}
	send, ok1 := got[0].(*wire.OneWayCallCommand)
	call, ok2 := got[1].(*wire.CallCommand)
	if !ok1 || !ok2 || send.Name != "send" || call.Name != "call" {
		t.Errorf("frames:\n%s", journaltest.Format(got))
	}
}

// TestCallAndSendOptions: a RequestOption and WithName go to both calls and
// sends; WithDelay is a SendOption only. Passing it to Call does not
// compile:
//
//	callee.Call(ctx, in, restate.WithDelay(time.Second)) // SendOption does not implement CallOption
func TestCallAndSendOptions(t *testing.T) {
	t.Parallel()
	var (
		_ restate.CallOption    = restate.WithIdempotencyKey("k")
		_ restate.SendOption    = restate.WithIdempotencyKey("k")
		_ restate.RequestOption = restate.WithHeaders(nil)
		_ restate.RequestOption = restate.WithScope("s")
		_ restate.RequestOption = restate.WithLimitKey("l")
		_ restate.CallOption    = restate.WithName("n")
		_ restate.SendOption    = restate.WithName("n")
		_ restate.SendOption    = restate.WithDelay(time.Second)
	)
	if _, ok := any(restate.WithDelay(time.Second)).(restate.CallOption); ok {
		t.Error("WithDelay is a CallOption; a call would accept and ignore it")
	}
	if _, ok := any(restate.WithName("n")).(restate.CallOption); !ok {
		t.Error("WithName is not a CallOption")
	}
	// Remote takes codec options only; a service option is no CodecOption.
	if _, ok := any(restate.WithDocumentation("d")).(restate.CodecOption); ok {
		t.Error("WithDocumentation is a CodecOption: Remote would accept and ignore it")
	}
	var _ restate.HandlerOption = restate.WithCodec(restate.Raw) // handlers take codec options too
	callee := restate.Remote[string, string]("Callee", "h")
	s := svc(func(ctx restate.Context, in string) (string, error) {
		callee.Send(ctx, in, restate.WithIdempotencyKey("k1"), restate.WithDelay(time.Hour))
		return callee.Call(ctx, in, restate.WithIdempotencyKey("k2")).Await()
	})
	got := run(t, s, journaltest.Attempt{Journal: input(`"x"`)})
	send, ok := got[0].(*wire.OneWayCallCommand)
	if !ok || send.InvokeTime == 0 || send.IdempotencyKey == nil || *send.IdempotencyKey != "k1" {
		t.Errorf("send: %s", journaltest.Format(got[:1]))
	}
	call, ok := got[1].(*wire.CallCommand)
	if !ok || call.IdempotencyKey == nil || *call.IdempotencyKey != "k2" {
		t.Errorf("call: %s", journaltest.Format(got[1:2]))
	}
}

// TestZeroStateKey: a StateKey declared with var instead of NewStateKey
// fails every operation with an error naming the mistake, not a nil-codec
// panic.
func TestZeroStateKey(t *testing.T) {
	t.Parallel()
	var k restate.StateKey[int]
	ops := map[string]func(restate.ObjectContext) error{
		"get":    func(ctx restate.ObjectContext) error { _, err := k.Get(ctx); return err },
		"lookup": func(ctx restate.ObjectContext) error { _, _, err := k.Lookup(ctx); return err },
		"set":    func(ctx restate.ObjectContext) error { return k.Set(ctx, 1) },
		"clear":  func(ctx restate.ObjectContext) error { return k.Clear(ctx) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var opErr error
			obj := restate.NewObject("O", restate.NewObjectHandler("h", func(ctx restate.ObjectContext, _ string) (string, error) {
				opErr = op(ctx)
				return "", opErr
			}))
			got := run(t, obj, journaltest.Attempt{Key: "k", State: map[string]string{}, Journal: input(`"x"`)})
			if opErr == nil || !strings.Contains(opErr.Error(), "zero StateKey[int]") || !strings.Contains(opErr.Error(), "NewStateKey") {
				t.Errorf("error %v, want one about the zero StateKey", opErr)
			}
			if len(got) != 1 {
				t.Errorf("the zero key issued commands:\n%s", journaltest.Format(got))
			}
			errorOf(t, got)
		})
	}
}

// TestUnassembledHandler: a handler not yet part of a service fails the
// same way through a call and through its Target.
func TestUnassembledHandler(t *testing.T) {
	t.Parallel()
	lonely := restate.NewHandler("lonely", func(restate.Context, string) (string, error) { return "", nil })
	lonelyObj := restate.NewObjectHandler("lonelyObj", restate.NoInputOutput(func(restate.ObjectContext) error { return nil }))
	const want = `restate: handler "lonely" is not part of a service yet`

	tg := lonely.Target()
	if tg.Err() == nil || !strings.Contains(tg.Err().Error(), want) {
		t.Errorf("Target().Err() = %v, want %q", tg.Err(), want)
	}
	if _, err := tg.Encode("x"); err == nil || err.Error() != tg.Err().Error() {
		t.Errorf("Encode: %v, want %v", err, tg.Err())
	}
	if _, err := tg.Decode([]byte(`"x"`)); err == nil || err.Error() != tg.Err().Error() {
		t.Errorf("Decode: %v, want %v", err, tg.Err())
	}
	if err := lonelyObj.Target("k").Err(); err == nil || !strings.Contains(err.Error(), `handler "lonelyObj" is not part of a service yet`) {
		t.Errorf("object Target(k).Err() = %v", err)
	}

	var callErr, attachErr error
	s := svc(func(ctx restate.Context, _ string) (string, error) {
		_, callErr = lonely.Call(ctx, "x").Await()
		_, attachErr = restate.AttachIdempotent(ctx, lonely.Target(), "key").Await()
		return "", nil
	})
	run(t, s, journaltest.Attempt{Journal: input(`"x"`)})
	if callErr == nil || callErr.Error() != tg.Err().Error() {
		t.Errorf("Call: %v, want %v", callErr, tg.Err())
	}
	if attachErr == nil || attachErr.Error() != tg.Err().Error() {
		t.Errorf("AttachIdempotent: %v, want %v", attachErr, tg.Err())
	}

	// Once assembled the target is complete.
	restate.NewService("Lonely", lonely)
	if tg := lonely.Target(); tg.Err() != nil || tg.Service != "Lonely" {
		t.Errorf("assembled Target() = %+v", tg)
	}
}

// TestAttachIdempotentTyped: AttachIdempotent takes a typed target and
// decodes with its output codec.
func TestAttachIdempotentTyped(t *testing.T) {
	t.Parallel()
	remote := restate.RemoteObject[[]byte, []byte]("Blobs", "put", restate.WithCodec(restate.Raw))
	s := svc(func(ctx restate.Context, _ string) (string, error) {
		b, err := restate.AttachIdempotent(ctx, remote.Target("k1"), "idem").Await()
		return string(b), err
	})
	got := run(t, s, journaltest.Attempt{Journal: []wire.Message{
		journaltest.Input(`"x"`),
		&wire.AttachInvocationCommand{Target: wire.InvocationTarget{Kind: wire.TargetIdempotentRequest, IdempotentRequest: wire.IdempotentRequestTarget{
			ServiceName: "Blobs", ServiceKey: ptr("k1"), HandlerName: "put", IdempotencyKey: "idem",
		}}, ResultCompletionID: 1},
		completion(wire.TypeAttachInvocationCompletion, 1, value(`raw bytes`)),
	}})
	diff(t, output(value(`"raw bytes"`)), got)
}

func ptr[T any](v T) *T { return &v }

// countdownSelf lets countdown call itself with a typed call: countdown's
// own variable would be an initialization cycle.
var countdownSelf restate.Ref[*restate.ObjectHandler[int, int]]

var countdown = countdownSelf.Set(restate.NewObjectHandler("countdown", func(ctx restate.ObjectContext, n int) (int, error) {
	if n == 0 {
		return 0, nil
	}
	got, err := countdownSelf.Get().Call(ctx, ctx.Key()+"-", n-1).Await()
	return got + n, err
}))

var countdowns = restate.NewObject("Countdown", countdown)

// TestRefSelfCall: a handler calls itself through a Ref, end to end.
func TestRefSelfCall(t *testing.T) {
	t.Parallel()
	env := restatetest.New(t, []restate.ServiceDefinition{countdowns})
	got, err := restatetest.Call(context.Background(), env, countdown.Target("k"), 4)
	if err != nil || got != 4+3+2+1 {
		t.Errorf("countdown(4) = %d, %v; want 10", got, err)
	}
	if countdownSelf.Get() != countdown {
		t.Error("Get does not return the handler given to Set")
	}
}

func TestRefMisuse(t *testing.T) {
	t.Parallel()
	ok := func(restate.Context, string) (string, error) { return "", nil }
	tests := []struct {
		name string
		fn   func()
		want string
	}{
		{"get before set", func() {
			var r restate.Ref[*restate.Handler[string, string]]
			r.Get()
		}, "Get before Set"},
		{"set nil", func() {
			var r restate.Ref[*restate.Handler[string, string]]
			r.Set(nil)
		}, "nil handler"},
		{"set twice", func() {
			var r restate.Ref[*restate.Handler[string, string]]
			r.Set(restate.NewHandler("a", ok))
			r.Set(restate.NewHandler("b", ok))
		}, "already refers to another handler"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if r := recover(); r == nil || !strings.Contains(strings.ToLower(fmt.Sprint(r)), strings.ToLower(tc.want)) {
					t.Errorf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			tc.fn()
		})
	}
}
