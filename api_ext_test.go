package restate_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/journaltest"
	"github.com/qcodr/restate-sdk-go/wire"
)

// run runs the only handler of svc against the attempt and returns what it
// wrote.
func run(t *testing.T, svc restate.ServiceDefinition, a journaltest.Attempt) []wire.Message {
	t.Helper()
	def := svc.Definition()
	if len(def.Handlers) != 1 {
		t.Fatalf("service %s has %d handlers, want 1", def.Name, len(def.Handlers))
	}
	msgs, err := journaltest.Run(def, def.Handlers[0].Name, a)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func input(json string) []wire.Message { return []wire.Message{journaltest.Input(json)} }

func value(s string) wire.Result { return wire.ValueResult([]byte(s)) }

func completion(t wire.Type, id uint32, r wire.Result) *wire.Notification {
	return &wire.Notification{MessageType: t, ID: wire.CompletionID(id), Result: r}
}

var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

func diff(t *testing.T, want, got []wire.Message) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("frames (-want +got):\n%s", d)
	}
}

func output(r wire.Result) []wire.Message {
	return []wire.Message{&wire.OutputCommand{Result: r}, &wire.EndMessage{}}
}

func errorOf(t *testing.T, msgs []wire.Message) *wire.ErrorMessage {
	t.Helper()
	if len(msgs) == 0 {
		t.Fatal("no frames")
	}
	e, ok := msgs[len(msgs)-1].(*wire.ErrorMessage)
	if !ok {
		t.Fatalf("last frame is %s, want ErrorMessage; frames:\n%s", msgs[len(msgs)-1].Type(), journaltest.Format(msgs))
	}
	return e
}

func svc[In, Out any](fn func(restate.Context, In) (Out, error), opts ...restate.HandlerOption) *restate.Service {
	return restate.NewService("S", restate.NewHandler("h", fn, opts...))
}

func TestHandlerResults(t *testing.T) {
	t.Parallel()
	type point struct{ X, Y int }
	tests := []struct {
		name    string
		svc     restate.ServiceDefinition
		version wire.Version
		in      string
		want    []wire.Message
	}{
		{
			name: "value",
			svc:  svc(func(_ restate.Context, p point) (int, error) { return p.X + p.Y, nil }),
			in:   `{"X":1,"Y":2}`,
			want: output(value("3")),
		},
		{
			name: "input that does not decode is a terminal 400",
			svc:  svc(func(_ restate.Context, p point) (int, error) { return 0, nil }),
			in:   `"nope"`,
			want: output(wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{Code: 400,
				Message: "S/h: cannot decode the input into restate_test.point: json: cannot unmarshal string into Go value of type restate_test.point"}}),
		},
		{
			name: "terminal error with code and metadata",
			svc: svc(func(restate.Context, string) (string, error) {
				return "", &restate.TerminalError{Code: 404, Message: "no such user", Metadata: map[string]string{"b": "2", "a": "1"}}
			}),
			in: `"x"`,
			want: output(wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{Code: 404, Message: "no such user",
				Metadata: []wire.FailureMetadata{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}}}),
		},
		{
			name: "wrapped terminal error defaults to 500 and keeps the wrapping text",
			svc: svc(func(restate.Context, string) (string, error) {
				return "", fmt.Errorf("context: %w", restate.TerminalErrorf("bad %s", "thing"))
			}),
			in:   `"x"`,
			want: output(wire.FailureResult(500, "context: bad thing")),
		},
		{
			name: "no input and no output",
			svc: restate.NewService("S", restate.NewHandler("h", restate.NoInputOutput(func(restate.Context) error {
				return nil
			}))),
			in:   ``,
			want: output(value("")),
		},
		{
			name: "raw codec",
			svc: svc(func(_ restate.Context, b []byte) ([]byte, error) {
				return append(b, '!'), nil
			}, restate.WithCodec(restate.Raw)),
			in:   `not json`,
			want: output(value("not json!")),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := run(t, tc.svc, journaltest.Attempt{Version: tc.version, Journal: input(tc.in)})
			diff(t, tc.want, got)
		})
	}
}

func TestRetryableErrors(t *testing.T) {
	t.Parallel()
	t.Run("plain error is retried", func(t *testing.T) {
		t.Parallel()
		e := errorOf(t, run(t, svc(func(restate.Context, string) (string, error) {
			return "", errors.New("database down")
		}), journaltest.Attempt{Journal: input(`"x"`)}))
		if e.Code != 500 || e.Message != "database down" || e.NextRetryDelay != nil {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("retry after", func(t *testing.T) {
		t.Parallel()
		e := errorOf(t, run(t, svc(func(restate.Context, string) (string, error) {
			return "", restate.RetryAfter(errors.New("rate limited"), 3*time.Second)
		}), journaltest.Attempt{Journal: input(`"x"`)}))
		if e.NextRetryDelay == nil || *e.NextRetryDelay != 3000 {
			t.Errorf("next retry delay: got %v, want 3000 ms", e.NextRetryDelay)
		}
	})
	t.Run("pause on V7", func(t *testing.T) {
		t.Parallel()
		e := errorOf(t, run(t, svc(func(restate.Context, string) (string, error) {
			return "", restate.Pause(errors.New("needs an operator"))
		}), journaltest.Attempt{Version: wire.V7, Journal: input(`"x"`)}))
		if e.Behavior != wire.BehaviorPause {
			t.Errorf("behavior: got %v, want pause", e.Behavior)
		}
	})
	t.Run("pause on V6 is unsupported", func(t *testing.T) {
		t.Parallel()
		e := errorOf(t, run(t, svc(func(restate.Context, string) (string, error) {
			return "", restate.Pause(errors.New("needs an operator"))
		}), journaltest.Attempt{Version: wire.V6, Journal: input(`"x"`)}))
		if e.Code != 573 {
			t.Errorf("code: got %d, want 573", e.Code)
		}
	})
	t.Run("metadata on V5 is unsupported", func(t *testing.T) {
		t.Parallel()
		e := errorOf(t, run(t, svc(func(restate.Context, string) (string, error) {
			return "", &restate.TerminalError{Message: "x", Metadata: map[string]string{"k": "v"}}
		}), journaltest.Attempt{Version: wire.V5, Journal: input(`"x"`)}))
		if e.Code != 573 || !strings.Contains(e.Message, "metadata") {
			t.Errorf("got %d %q, want 573 naming metadata", e.Code, e.Message)
		}
	})
	t.Run("panic is recovered and retried", func(t *testing.T) {
		t.Parallel()
		e := errorOf(t, run(t, svc(func(restate.Context, string) (string, error) {
			panic(errors.New("boom"))
		}), journaltest.Attempt{Journal: input(`"x"`)}))
		if e.Code != 500 || !strings.Contains(e.Message, "panic in handler") || !strings.Contains(e.Stacktrace, "api_ext_test.go") {
			t.Errorf("got %d %q, stack has test file: %v", e.Code, e.Message, strings.Contains(e.Stacktrace, "api_ext_test.go"))
		}
	})
	t.Run("output that cannot be encoded", func(t *testing.T) {
		t.Parallel()
		e := errorOf(t, run(t, svc(func(restate.Context, string) (chan int, error) {
			return make(chan int), nil
		}), journaltest.Attempt{Journal: input(`"x"`)}))
		if !strings.Contains(e.Message, "cannot encode the output") {
			t.Errorf("message: %q", e.Message)
		}
	})
}

func TestRunOutcomes(t *testing.T) {
	t.Parallel()
	t.Run("terminal error inside run is journaled", func(t *testing.T) {
		t.Parallel()
		got := run(t, svc(func(ctx restate.Context, _ string) (string, error) {
			return restate.Run(ctx, func(restate.RunContext) (string, error) {
				return "", &restate.TerminalError{Code: 402, Message: "card declined"}
			})
		}), journaltest.Attempt{Journal: input(`"x"`)})
		diff(t, []wire.Message{
			&wire.RunCommand{ResultCompletionID: 1},
			&wire.ProposeRunCompletionMessage{ResultCompletionID: 1, Result: wire.FailureResult(402, "card declined")},
			&wire.SuspensionMessage{WaitingCompletions: []uint32{1}, WaitingSignals: []uint32{1}},
		}, got)
	})
	t.Run("retryable error ends the attempt with the run as related command", func(t *testing.T) {
		t.Parallel()
		e := errorOf(t, run(t, svc(func(ctx restate.Context, _ string) (string, error) {
			return restate.Run(ctx, func(restate.RunContext) (string, error) {
				return "", errors.New("timeout")
			}, restate.WithName("fetch"), restate.WithRetryInterval(100*time.Millisecond))
		}), journaltest.Attempt{Journal: input(`"x"`)}))
		if e.RelatedCommandName == nil || *e.RelatedCommandName != "fetch" || e.NextRetryDelay == nil || *e.NextRetryDelay != 100 {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("exhausted retries become a terminal failure", func(t *testing.T) {
		t.Parallel()
		got := run(t, svc(func(ctx restate.Context, _ string) (string, error) {
			return restate.Run(ctx, func(restate.RunContext) (string, error) {
				return "", errors.New("timeout")
			}, restate.WithMaxAttempts(1))
		}), journaltest.Attempt{Journal: input(`"x"`)})
		p, ok := got[1].(*wire.ProposeRunCompletionMessage)
		if !ok || p.Result.Kind != wire.ResultFailure || !strings.Contains(p.Result.Failure.Message, "timeout") {
			t.Errorf("got:\n%s", journaltest.Format(got))
		}
	})
	t.Run("panic inside run is retried", func(t *testing.T) {
		t.Parallel()
		e := errorOf(t, run(t, svc(func(ctx restate.Context, _ string) (string, error) {
			return restate.Run(ctx, func(restate.RunContext) (string, error) { panic("oops") })
		}), journaltest.Attempt{Journal: input(`"x"`)}))
		if !strings.Contains(e.Message, "panic in run: oops") {
			t.Errorf("message: %q", e.Message)
		}
	})
	t.Run("journaled run is not executed again and awaiting twice returns the same", func(t *testing.T) {
		t.Parallel()
		executed := 0
		got := run(t, svc(func(ctx restate.Context, _ string) (string, error) {
			f := restate.RunAsync(ctx, func(restate.RunContext) (string, error) { executed++; return "fresh", nil })
			a, _ := f.Await()
			b, err := f.Await()
			return a + b, err
		}), journaltest.Attempt{Journal: []wire.Message{
			journaltest.Input(`"x"`),
			&wire.RunCommand{ResultCompletionID: 1},
			completion(wire.TypeRunCompletion, 1, value(`"old"`)),
		}})
		diff(t, output(value(`"oldold"`)), got)
		if executed != 0 {
			t.Errorf("closure executed %d times on replay", executed)
		}
	})
}

func TestMisuse(t *testing.T) {
	t.Parallel()
	t.Run("handler context inside run", func(t *testing.T) {
		t.Parallel()
		var inner error
		run(t, svc(func(ctx restate.Context, _ string) (string, error) {
			return restate.Run(ctx, func(restate.RunContext) (string, error) {
				inner = restate.Sleep(ctx, time.Second)
				return "ok", nil
			})
		}), journaltest.Attempt{Journal: input(`"x"`)})
		if !errors.Is(inner, restate.ErrMisuse) || !strings.Contains(inner.Error(), "inside a run closure") {
			t.Errorf("got %v, want ErrMisuse naming the run closure", inner)
		}
	})
	t.Run("two goroutines at once", func(t *testing.T) {
		t.Parallel()
		var errs []error
		var mu sync.Mutex
		run(t, svc(func(ctx restate.Context, _ string) (string, error) {
			// The handler goroutine waits inside Run (suspended on the run's
			// completion), while another goroutine tries an operation.
			started := make(chan struct{})
			done := make(chan struct{})
			go func() {
				<-started
				for range 1000 {
					if err := restate.CancelInvocation(ctx, "inv_x"); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						break
					}
				}
				close(done)
			}()
			_, err := restate.Run(ctx, func(restate.RunContext) (string, error) {
				close(started)
				<-done
				return "", nil
			})
			return "", err
		}), journaltest.Attempt{Journal: input(`"x"`)})
		if len(errs) != 1 || !errors.Is(errs[0], restate.ErrMisuse) {
			t.Errorf("got %v, want one ErrMisuse", errs)
		}
	})
}

func TestCombinators(t *testing.T) {
	t.Parallel()
	runs := func(n int, notifs ...*wire.Notification) []wire.Message {
		j := []wire.Message{journaltest.Input(`"x"`)}
		for i := 1; i <= n; i++ {
			j = append(j, &wire.RunCommand{ResultCompletionID: uint32(i)})
		}
		for _, n := range notifs {
			j = append(j, n)
		}
		return j
	}
	ok := func(id uint32, v string) *wire.Notification {
		return completion(wire.TypeRunCompletion, id, value(`"`+v+`"`))
	}
	fail := func(id uint32, msg string) *wire.Notification {
		return completion(wire.TypeRunCompletion, id, wire.FailureResult(500, msg))
	}
	three := func(ctx restate.Context) []restate.Future[string] {
		var fs []restate.Future[string]
		for range 3 {
			fs = append(fs, restate.RunAsync(ctx, func(restate.RunContext) (string, error) { return "", nil }))
		}
		return fs
	}
	tests := []struct {
		name    string
		fn      func(restate.Context, string) (string, error)
		journal []wire.Message
		want    wire.Result
	}{
		{"all in argument order", func(ctx restate.Context, _ string) (string, error) {
			v, err := restate.All(three(ctx)...).Await()
			return strings.Join(v, ","), err
		}, runs(3, ok(3, "c"), ok(1, "a"), ok(2, "b")), value(`"a,b,c"`)},
		{"all fails fast on the first failure", func(ctx restate.Context, _ string) (string, error) {
			v, err := restate.All(three(ctx)...).Await()
			return strings.Join(v, ","), err
		}, runs(3, ok(1, "a"), fail(3, "c broke")), wire.FailureResult(500, "c broke")},
		{"any skips failures", func(ctx restate.Context, _ string) (string, error) {
			return restate.Any(three(ctx)...).Await()
		}, runs(3, fail(2, "no"), ok(3, "c")), value(`"c"`)},
		{"any fails when all fail", func(ctx restate.Context, _ string) (string, error) {
			return restate.Any(three(ctx)...).Await()
		}, runs(3, fail(2, "two"), fail(1, "one"), fail(3, "three")), wire.FailureResult(500, "one")},
		{"race takes the first in journal order", func(ctx restate.Context, _ string) (string, error) {
			return restate.Race(three(ctx)...).Await()
		}, runs(3, fail(3, "third first"), ok(1, "a")), wire.FailureResult(500, "third first")},
		{"select reports the index", func(ctx restate.Context, _ string) (string, error) {
			fs := three(ctx)
			i, err := restate.Select(fs[0], fs[1], fs[2])
			return fmt.Sprint(i), err
		}, runs(3, ok(2, "b"), ok(1, "a")), value(`"1"`)},
		{"as completed follows the journal", func(ctx restate.Context, _ string) (string, error) {
			fs := three(ctx)
			var order []string
			for i, err := range restate.AsCompleted(fs[0], fs[1], fs[2]) {
				if err != nil {
					return "", err
				}
				v, _ := fs[i].Await()
				order = append(order, v)
			}
			return strings.Join(order, ","), nil
		}, runs(3, ok(2, "b"), ok(3, "c"), ok(1, "a")), value(`"b,c,a"`)},
		{"all settled then read each", func(ctx restate.Context, _ string) (string, error) {
			fs := three(ctx)
			if _, err := restate.AllSettled(fs[0], fs[1], fs[2]).Await(); err != nil {
				return "", err
			}
			var out []string
			for _, f := range fs {
				v, err := f.Await()
				if err != nil {
					v = "err:" + err.Error()
				}
				out = append(out, v)
			}
			return strings.Join(out, ","), nil
		}, runs(3, ok(2, "b"), fail(3, "c"), ok(1, "a")), value(`"a,b,err:c"`)},
		{"map", func(ctx restate.Context, _ string) (string, error) {
			n := restate.Map(three(ctx)[0], func(s string) (int, error) { return len(s), nil })
			v, err := n.Await()
			return fmt.Sprint(v), err
		}, runs(3, ok(1, "four")), value(`"4"`)},
		{"nested combinators", func(ctx restate.Context, _ string) (string, error) {
			fs := three(ctx)
			both := restate.All(fs[0], fs[1])
			i, err := restate.Select(both, fs[2])
			return fmt.Sprint(i), err
		}, runs(3, ok(1, "a"), ok(2, "b"), ok(3, "c")), value(`"0"`)},
		{"select over a cached future returns without waiting", func(ctx restate.Context, _ string) (string, error) {
			fs := three(ctx)
			if _, err := fs[2].Await(); err != nil {
				return "", err
			}
			i, err := restate.Select(fs[0], fs[1], fs[2])
			return fmt.Sprint(i), err
		}, runs(3, ok(3, "c")), value(`"2"`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := run(t, svc(tc.fn), journaltest.Attempt{Journal: tc.journal})
			diff(t, output(tc.want), got)
		})
	}
}

func TestCombinatorSuspensions(t *testing.T) {
	t.Parallel()
	fn := func(ctx restate.Context, _ string) (string, error) {
		a := restate.After(ctx, time.Second)
		b := restate.Remote[string, string]("Svc", "h").Call(ctx, "in")
		_, err := restate.All(restate.Map(a, func(restate.Void) (string, error) { return "", nil }), b.Future).Await()
		return "", err
	}
	for _, v := range []wire.Version{wire.V6, wire.V7} {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			got := run(t, svc(fn), journaltest.Attempt{Version: v, Journal: input(`"x"`)})
			last := got[len(got)-1].(*wire.SuspensionMessage)
			if v == wire.V6 {
				diff(t, []wire.Message{&wire.SuspensionMessage{WaitingCompletions: []uint32{3, 1}, WaitingSignals: []uint32{1}}}, []wire.Message{last})
				return
			}
			want := &wire.SuspensionMessage{AwaitingOn: &wire.Future{
				CombinatorType: wire.CombinatorFirstCompleted,
				WaitingSignals: []uint32{1},
				NestedFutures: []wire.Future{{
					CombinatorType:     wire.CombinatorAllSucceededOrFirstFailed,
					WaitingCompletions: []uint32{3},
					NestedFutures:      []wire.Future{{CombinatorType: wire.CombinatorFirstCompleted, WaitingCompletions: []uint32{1}}},
				}},
			}}
			diff(t, []wire.Message{want}, []wire.Message{last})
		})
	}
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	child := restate.Remote[string, string]("Child", "work")
	canceled := restate.NewStateKey[bool]("canceled")
	obj := restate.NewObject("O", restate.NewObjectHandler("h", func(ctx restate.ObjectContext, _ string) (string, error) {
		_, err := child.Call(ctx, "job").Await()
		if errors.Is(err, restate.ErrCancelled) {
			return "cancelled", canceled.Set(ctx, true)
		}
		return "done", err
	}))
	got := run(t, obj, journaltest.Attempt{Key: "k", State: map[string]string{}, Journal: []wire.Message{
		journaltest.Input(`"x"`),
		&wire.CallCommand{ServiceName: "Child", HandlerName: "work", Parameter: []byte(`"job"`), InvocationIDNotificationIdx: 1, ResultCompletionID: 2},
		&wire.Notification{MessageType: wire.TypeCallInvocationIDCompletion, ID: wire.CompletionID(1), Result: wire.Result{Kind: wire.ResultInvocationID, InvocationID: "inv_child"}},
		&wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(1), Result: wire.VoidResult()},
	}})
	diff(t, []wire.Message{
		&wire.SendSignalCommand{TargetInvocationID: "inv_child", Idx: 1, Result: wire.VoidResult()},
		&wire.SetStateCommand{Key: []byte("canceled"), Value: []byte("true")},
		&wire.OutputCommand{Result: value(`"cancelled"`)},
		&wire.EndMessage{},
	}, got)
}

func TestState(t *testing.T) {
	t.Parallel()
	type profile struct{ Name string }
	key := restate.NewStateKey[profile]("profile")
	t.Run("lookup, keys, clear all", func(t *testing.T) {
		t.Parallel()
		obj := restate.NewObject("O", restate.NewObjectHandler("h", func(ctx restate.ObjectContext, _ string) (string, error) {
			p, ok, err := key.Lookup(ctx)
			if err != nil {
				return "", err
			}
			keys, err := restate.Keys(ctx)
			if err != nil {
				return "", err
			}
			if err := restate.ClearAll(ctx); err != nil {
				return "", err
			}
			after, err := restate.Keys(ctx)
			return fmt.Sprintf("%s %v %v %v", p.Name, ok, keys, after), err
		}))
		got := run(t, obj, journaltest.Attempt{Key: "k", State: map[string]string{"profile": `{"Name":"ann"}`, "z": "1"}, Journal: input(`"x"`)})
		diff(t, []wire.Message{
			&wire.GetEagerStateCommand{Key: []byte("profile"), Result: value(`{"Name":"ann"}`)},
			&wire.GetEagerStateKeysCommand{Keys: [][]byte{[]byte("profile"), []byte("z")}},
			&wire.ClearAllStateCommand{},
			&wire.GetEagerStateKeysCommand{Keys: [][]byte{}},
			&wire.OutputCommand{Result: value(`"ann true [profile z] []"`)},
			&wire.EndMessage{},
		}, got)
	})
	t.Run("value that does not decode is a terminal error naming the key", func(t *testing.T) {
		t.Parallel()
		obj := restate.NewObject("O", restate.NewObjectHandler("h", func(ctx restate.ObjectContext, _ string) (string, error) {
			_, err := key.Get(ctx)
			return "", err
		}))
		got := run(t, obj, journaltest.Attempt{Key: "k", State: map[string]string{"profile": `42`}, Journal: input(`"x"`)})
		out := got[1].(*wire.OutputCommand)
		if out.Result.Kind != wire.ResultFailure || !strings.Contains(out.Result.Failure.Message, `state "profile" does not decode into restate_test.profile`) {
			t.Errorf("got:\n%s", journaltest.Format(got))
		}
	})
	t.Run("lazy state suspends on the get", func(t *testing.T) {
		t.Parallel()
		obj := restate.NewObject("O", restate.NewSharedHandler("h", func(ctx restate.ObjectSharedContext, _ string) (string, error) {
			p, err := key.Get(ctx)
			return p.Name, err
		}))
		got := run(t, obj, journaltest.Attempt{Key: "k", Lazy: true, Journal: input(`"x"`)})
		diff(t, []wire.Message{
			&wire.GetLazyStateCommand{Key: []byte("profile"), ResultCompletionID: 1},
			&wire.SuspensionMessage{WaitingCompletions: []uint32{1}, WaitingSignals: []uint32{1}},
		}, got)
	})
}

func TestAwakeablesSignalsPromises(t *testing.T) {
	t.Parallel()
	t.Run("awakeable id and resolution", func(t *testing.T) {
		t.Parallel()
		var id string
		got := run(t, svc(func(ctx restate.Context, _ string) (string, error) {
			a := restate.NewAwakeable[string](ctx)
			id = a.ID()
			if err := restate.ResolveAwakeable(ctx, "sign_other", 7); err != nil {
				return "", err
			}
			if err := restate.RejectAwakeable(ctx, "sign_other2", errors.New("no")); err != nil {
				return "", err
			}
			return a.Await()
		}), journaltest.Attempt{Journal: []wire.Message{journaltest.Input(`"x"`),
			&wire.Notification{MessageType: wire.TypeSignalNotification, ID: wire.SignalID(17), Result: value(`"woken"`)}}})
		if id != "sign_1AAAAAAAAACoBlvHCo7TF1uf4CRorPE1eAAAAEQ" {
			t.Errorf("awakeable id %s", id)
		}
		diff(t, []wire.Message{
			&wire.CompleteAwakeableCommand{AwakeableID: "sign_other", Result: value("7")},
			&wire.CompleteAwakeableCommand{AwakeableID: "sign_other2", Result: wire.FailureResult(500, "no")},
			&wire.OutputCommand{Result: value(`"woken"`)},
			&wire.EndMessage{},
		}, got)
	})
	t.Run("named signals", func(t *testing.T) {
		t.Parallel()
		got := run(t, svc(func(ctx restate.Context, _ string) (string, error) {
			if err := restate.ResolveSignal(ctx, "inv_a", "go", "now"); err != nil {
				return "", err
			}
			if err := restate.RejectSignal(ctx, "inv_a", "stop", &restate.TerminalError{Code: 499, Message: "halt"}); err != nil {
				return "", err
			}
			return restate.Signal[string](ctx, "ready").Await()
		}), journaltest.Attempt{Journal: input(`"x"`)})
		diff(t, []wire.Message{
			&wire.SendSignalCommand{TargetInvocationID: "inv_a", SignalName: "go", Result: value(`"now"`)},
			&wire.SendSignalCommand{TargetInvocationID: "inv_a", SignalName: "stop", Result: wire.FailureResult(499, "halt")},
			&wire.SuspensionMessage{WaitingSignals: []uint32{1}, WaitingNamedSignals: []string{"ready"}},
		}, got)
	})
	t.Run("promise peek and resolve rejection", func(t *testing.T) {
		t.Parallel()
		wf := restate.NewWorkflow("W", restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, _ string) (string, error) {
			p := restate.Promise[string](ctx, "p")
			m, err := p.Peek().Await()
			if err != nil {
				return "", err
			}
			err = p.Resolve("v")
			return fmt.Sprintf("%v %q %v", m.Ok, m.Value, restate.ErrorCode(err)), nil
		}))
		got := run(t, wf, journaltest.Attempt{Key: "k", Journal: []wire.Message{journaltest.Input(`"x"`),
			&wire.PeekPromiseCommand{Key: "p", ResultCompletionID: 1},
			completion(wire.TypePeekPromiseCompletion, 1, wire.VoidResult()),
			&wire.CompletePromiseCommand{Key: "p", Completion: value(`"v"`), ResultCompletionID: 2},
			completion(wire.TypeCompletePromiseCompletion, 2, wire.FailureResult(409, "already completed")),
		}})
		diff(t, output(value(`"false \"\" 409"`)), got)
	})
}

func TestDeterministicRandomness(t *testing.T) {
	t.Parallel()
	draw := func(seed uint64) string {
		got := run(t, svc(func(ctx restate.Context, _ string) (string, error) {
			return fmt.Sprint(ctx.Rand().IntN(1000000), " ", restate.UUID(ctx)), nil
		}), journaltest.Attempt{Seed: seed, Journal: input(`"x"`)})
		return string(got[0].(*wire.OutputCommand).Result.Value)
	}
	if a, b := draw(1), draw(1); a != b {
		t.Errorf("same seed, different draws: %s vs %s", a, b)
	}
	if a, b := draw(1), draw(2); a == b {
		t.Errorf("different seeds, same draws: %s", a)
	}
	if u := draw(3); !strings.Contains(u, "-4") {
		t.Errorf("not a v4 UUID: %s", u)
	}
}

func TestRequestMetadata(t *testing.T) {
	t.Parallel()
	obj := restate.NewObject("O", restate.NewSharedHandler("h", func(ctx restate.ObjectSharedContext, _ string) (string, error) {
		r := ctx.Request()
		return fmt.Sprintf("%s %s %s %s", r.ID, ctx.Key(), r.Headers["x-a"], r.Body), nil
	}))
	got := run(t, obj, journaltest.Attempt{Key: "k1", Journal: []wire.Message{
		&wire.InputCommand{Headers: []wire.HeaderEntry{{Key: "x-a", Value: "b"}}, Value: []byte(`"in"`)},
	}})
	diff(t, output(value(`"`+journaltest.DebugID+` k1 b \"in\""`)), got)
}

func TestConstructionPanics(t *testing.T) {
	t.Parallel()
	ok := func(restate.Context, string) (string, error) { return "", nil }
	tests := []struct {
		name string
		fn   func()
		want string
	}{
		{"invalid handler name", func() { restate.NewHandler("no spaces", ok) }, `handler name "no spaces" is not valid`},
		{"nil function", func() { restate.NewHandler[string, string]("h", nil) }, `handler "h": nil function`},
		{"invalid service name", func() { restate.NewService("1bad") }, `service name "1bad" is not valid`},
		{"duplicate handler", func() { restate.NewService("S", restate.NewHandler("h", ok), restate.NewHandler("h", ok)) }, `duplicate handler name "h"`},
		{"handler in two services", func() {
			h := restate.NewHandler("h", ok)
			restate.NewService("A", h)
			restate.NewService("B", h)
		}, `handler "h" already belongs to service "A"`},
		{"typed nil handler", func() {
			var h *restate.Handler[string, string]
			restate.NewService("S", h)
		}, `S: nil *restate.Handler[string,string] handler`},
		{"workflow retention on a service handler", func() {
			restate.NewService("S", restate.NewHandler("h", ok, restate.WithWorkflowRetention(time.Hour)))
		}, `handler "h" of "S": WithWorkflowRetention applies to a workflow's run handler only`},
		{"workflow retention on a service", func() {
			restate.NewService("S", restate.NewHandler("h", ok), restate.WithWorkflowRetention(time.Hour))
		}, `S: WithWorkflowRetention applies to workflows only`},
		{"raw codec on a struct", func() {
			restate.NewHandler("h", func(restate.Context, struct{}) (string, error) { return "", nil }, restate.WithCodec(restate.Raw))
		}, "the Raw codec needs []byte values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Errorf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			tc.fn()
		})
	}
}

func TestCallUnboundHandler(t *testing.T) {
	t.Parallel()
	lonely := restate.NewHandler("lonely", func(restate.Context, string) (string, error) { return "", nil })
	got := run(t, svc(func(ctx restate.Context, _ string) (string, error) {
		return lonely.Call(ctx, "x").Await()
	}), journaltest.Attempt{Journal: input(`"x"`)})
	e := errorOf(t, got)
	if !strings.Contains(e.Message, `handler "lonely" is not part of a service`) {
		t.Errorf("message: %q", e.Message)
	}
}

func TestErrorMatching(t *testing.T) {
	t.Parallel()
	err := restate.TerminalErrorf("order %d: %w", 7, errors.New("gone"))
	var te *restate.TerminalError
	if !errors.As(err, &te) || te.Message != "order 7: gone" || te.Err == nil {
		t.Errorf("TerminalErrorf: %+v", te)
	}
	if errors.Is(&restate.TerminalError{Code: 408, Message: "callee timed out"}, restate.ErrTimeout) {
		t.Error("a 408 from a callee matches ErrTimeout")
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", &restate.TerminalError{Code: 409}), restate.ErrCancelled) {
		t.Error("a 409 does not match ErrCancelled")
	}
	if errors.Is(&restate.TerminalError{Code: restate.CodePreconditionFailed}, restate.ErrCancelled) {
		t.Error("a 412 matches ErrCancelled")
	}
	codes := []struct {
		err  error
		want restate.Code
	}{
		{nil, 0},
		{errors.New("transient"), restate.CodeInternal},
		{&restate.TerminalError{}, restate.CodeInternal},
		{restate.ErrCancelled, restate.CodeCancelled},
		{restate.ErrTimeout, restate.CodeTimeout},
		{fmt.Errorf("wrapped: %w", &restate.TerminalError{Code: restate.CodeNotFound}), 404},
	}
	for _, c := range codes {
		if got := restate.ErrorCode(c.err); got != c.want {
			t.Errorf("ErrorCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
	got := run(t, svc(func(ctx restate.Context, _ string) (string, error) {
		a := restate.NewAwakeable[string](ctx)
		_, err := restate.WithTimeout(ctx, a.Future, time.Minute).Await()
		return fmt.Sprint(errors.Is(err, restate.ErrTimeout), restate.ErrorCode(err)), nil
	}), journaltest.Attempt{Journal: []wire.Message{journaltest.Input(`"x"`),
		&wire.SleepCommand{ResultCompletionID: 1},
		completion(wire.TypeSleepCompletion, 1, wire.VoidResult())}})
	diff(t, output(value(`"true 408"`)), got)
}

func TestSelectables(t *testing.T) {
	t.Parallel()
	got := run(t, svc(func(ctx restate.Context, _ string) (string, error) {
		futs := []restate.Future[string]{
			restate.RunAsync(ctx, func(restate.RunContext) (string, error) { return "a", nil }),
			restate.RunAsync(ctx, func(restate.RunContext) (string, error) { return "b", nil }),
		}
		i, err := restate.Select(restate.Selectables(futs)...)
		return fmt.Sprint(i), err
	}), journaltest.Attempt{Journal: []wire.Message{journaltest.Input(`"x"`),
		&wire.RunCommand{ResultCompletionID: 1}, &wire.RunCommand{ResultCompletionID: 2},
		completion(wire.TypeRunCompletion, 2, value(`"b"`))}})
	diff(t, output(value(`"1"`)), got)
}
