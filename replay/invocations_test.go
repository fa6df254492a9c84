package replay

import (
	"errors"
	"testing"

	"github.com/qcodr/restate-sdk-go/wire"
)

var greeter = CallTarget{Service: "Greeter", Handler: "greet"}

func callCmd(param string, idC, resC uint32) *wire.CallCommand {
	return &wire.CallCommand{
		ServiceName: "Greeter", HandlerName: "greet", Parameter: []byte(param),
		InvocationIDNotificationIdx: idC, ResultCompletionID: resC,
	}
}

func sendCmd(param string, idC uint32, at uint64) *wire.OneWayCallCommand {
	return &wire.OneWayCallCommand{
		ServiceName: "Greeter", HandlerName: "greet", Parameter: []byte(param),
		InvokeTime: at, InvocationIDNotificationIdx: idC,
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	sleepHandler := func(s *script) {
		s.input()
		h := s.sleep("")
		if _, err := s.m.Await(Single(h)); err != nil {
			return
		}
		s.expectResult(s.take(h), void())
		s.finish(val(""))
	}
	runJournalCases(t, []journalCase{
		{
			name:    "sleep suspends",
			handler: sleepHandler,
			want:    []out{o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1}), suspendedOn(1)},
		},
		{
			name:    "sleep completed",
			journal: []wire.Message{&wire.SleepCommand{WakeUpTime: 1721123699086, ResultCompletionID: 1}, sleepDone(1)},
			handler: sleepHandler,
			want:    []out{output(val("")), end()},
		},
		{
			// G17: the engine forgets a taken result; awaiting it again must
			// not suspend on a completion the journal already has.
			name:    "await a sleep whose result was taken",
			journal: []wire.Message{&wire.SleepCommand{WakeUpTime: 1721123699086, ResultCompletionID: 1}, sleepDone(1)},
			handler: func(s *script) {
				s.input()
				h := s.sleep("")
				if _, err := s.m.Await(Single(h)); err != nil {
					s.t.Fatal(err)
				}
				s.expectResult(s.take(h), void())
				if _, err := s.m.Await(Single(h)); !errors.Is(err, ErrTaken) {
					s.t.Fatalf("second await: %v, want ErrTaken", err)
				}
				both := Future{Combinator: wire.CombinatorAllCompleted, Children: []Future{Single(h)}}
				if _, err := s.m.Await(both); !errors.Is(err, ErrTaken) {
					s.t.Fatalf("await of a tree holding it: %v, want ErrTaken", err)
				}
				s.finish(val(""))
			},
			want: []out{output(val("")), end()},
		},
		{
			name:    "still sleeping",
			journal: []wire.Message{&wire.SleepCommand{WakeUpTime: 1721123699086, ResultCompletionID: 1}},
			handler: sleepHandler,
			want:    []out{suspendedOn(1)},
		},
		{
			name: "sleep fired while the stream is open",
			open: true,
			handler: func(s *script) {
				s.input()
				h := s.sleep("nap")
				s.awaitStatus(Single(h), StatusNeedInput)
				s.feed(sleepDone(1))
				s.get(h)
				s.end()
			},
			want: []out{
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1, Name: "nap"}),
				awaitingOn(future(wire.CombinatorFirstCompleted, ids(1), ids(1), nil)),
				end(),
			},
		},
		{
			// Only the name of a sleep is compared on replay: the wake-up
			// time was computed from an earlier clock.
			name:    "replayed sleep with another wake-up time",
			journal: []wire.Message{&wire.SleepCommand{WakeUpTime: 42, ResultCompletionID: 1, Name: "nap"}, sleepDone(1)},
			handler: func(s *script) {
				s.input()
				h, err := s.m.Sleep(99_999, "nap")
				s.ok(err)
				s.get(h)
				s.end()
			},
			want: []out{end()},
		},
	})
}

func TestCalls(t *testing.T) {
	t.Parallel()
	full := CallTarget{
		Service: "Cart", Handler: "add", Key: "cart-1",
		IdempotencyKey: wire.String("idem"),
		Headers:        []wire.HeaderEntry{{Key: "z", Value: "1"}, {Key: "a", Value: "2"}},
		Name:           "add item",
	}
	scoped := CallTarget{Service: "Greeter", Handler: "greet", Scope: wire.String("tenant-a"), LimitKey: wire.String("user-42")}
	runJournalCases(t, []journalCase{
		{
			name:  "call and await its result",
			later: []wire.Message{invocationIDDone(1, "inv_child"), callDone(2, val("Hello"))},
			handler: func(s *script) {
				s.input()
				_, res := s.call(greeter, "Francesco")
				s.finish(s.get(res))
			},
			want: []out{o(callCmd("Francesco", 1, 2)), output(val("Hello")), end()},
		},
		{
			name:  "call failure is the callee's terminal failure",
			later: []wire.Message{callDone(2, failure(409, "cancelled"))},
			handler: func(s *script) {
				s.input()
				_, res := s.call(greeter, "x")
				s.finish(s.get(res))
			},
			want: []out{o(callCmd("x", 1, 2)), output(failure(409, "cancelled")), end()},
		},
		{
			name: "call with key, headers in order, idempotency key and name",
			handler: func(s *script) {
				s.input()
				s.call(full, "p")
				s.end()
			},
			want: []out{o(&wire.CallCommand{
				ServiceName: "Cart", HandlerName: "add", Key: "cart-1", Parameter: []byte("p"),
				IdempotencyKey: wire.String("idem"),
				Headers:        []wire.HeaderEntry{{Key: "z", Value: "1"}, {Key: "a", Value: "2"}},
				Name:           "add item", InvocationIDNotificationIdx: 1, ResultCompletionID: 2,
			}), end()},
		},
		{
			name:     "call with scope and limit key",
			versions: []wire.Version{wire.V7},
			handler: func(s *script) {
				s.input()
				s.call(scoped, "")
				s.end()
			},
			want: []out{o(&wire.CallCommand{
				ServiceName: "Greeter", HandlerName: "greet", Scope: wire.String("tenant-a"), LimitKey: wire.String("user-42"),
				InvocationIDNotificationIdx: 1, ResultCompletionID: 2,
			}), end()},
		},
		{
			name:     "call with scope before V7",
			versions: []wire.Version{wire.V5, wire.V6},
			handler: func(s *script) {
				s.input()
				_, _, err := s.m.Call(CallTarget{Service: "S", Handler: "h", Scope: wire.String("tenant-a")}, nil)
				s.fails(err, CodeUnsupportedFeature)
			},
			want: []out{errorOut(CodeUnsupportedFeature)},
		},
		{
			name:     "call with limit key before V7",
			versions: []wire.Version{wire.V5, wire.V6},
			handler: func(s *script) {
				s.input()
				_, _, err := s.m.Call(CallTarget{Service: "S", Handler: "h", LimitKey: wire.String("user-42")}, nil)
				s.fails(err, CodeUnsupportedFeature)
			},
			want: []out{errorOut(CodeUnsupportedFeature)},
		},
		{
			name: "call with an empty idempotency key",
			handler: func(s *script) {
				s.input()
				_, _, err := s.m.Call(CallTarget{Service: "S", Handler: "h", IdempotencyKey: wire.String("")}, nil)
				s.fails(err, CodeInternal)
			},
			want: []out{errorOut(CodeInternal)},
		},
		{
			name: "call with an empty scope",
			handler: func(s *script) {
				s.input()
				_, _, err := s.m.Call(CallTarget{Service: "S", Handler: "h", Scope: wire.String("")}, nil)
				s.fails(err, CodeInternal)
			},
			want: []out{errorOut(CodeInternal)},
		},
		{
			name:     "call with an empty limit key",
			versions: []wire.Version{wire.V7},
			handler: func(s *script) {
				s.input()
				_, _, err := s.m.Call(CallTarget{Service: "S", Handler: "h", Scope: wire.String("s"), LimitKey: wire.String("")}, nil)
				s.fails(err, CodeInternal)
			},
			want: []out{errorOut(CodeInternal)},
		},
		{
			name:     "call with a limit key and no scope",
			versions: []wire.Version{wire.V7},
			handler: func(s *script) {
				s.input()
				_, _, err := s.m.Call(CallTarget{Service: "S", Handler: "h", LimitKey: wire.String("user-42")}, nil)
				s.fails(err, CodeInternal)
			},
			want: []out{errorOut(CodeInternal)},
		},
		{
			name: "send a signal with no name",
			handler: func(s *script) {
				s.input()
				s.fails(s.m.SendSignal("inv_other", "", wire.VoidResult()), CodeInternal)
			},
			want: []out{errorOut(CodeInternal)},
		},
		{
			name:  "call, await its invocation id, cancel it",
			later: []wire.Message{invocationIDDone(1, "inv_child")},
			handler: func(s *script) {
				s.input()
				id, _ := s.call(greeter, "")
				r := s.get(id)
				if r.Kind != wire.ResultInvocationID || r.InvocationID != "inv_child" {
					s.t.Fatalf("invocation id result %+v", r)
				}
				s.ok(s.m.CancelInvocation(r.InvocationID))
				s.end()
			},
			want: []out{o(callCmd("", 1, 2)), o(cancelCmd("inv_child")), end()},
		},
		{
			name: "call not awaited",
			handler: func(s *script) {
				s.input()
				s.call(greeter, "Francesco")
				s.finish(val("Whatever"))
			},
			want: []out{o(callCmd("Francesco", 1, 2)), output(val("Whatever")), end()},
		},
		{
			name:    "call not awaited, stream open",
			open:    true,
			handler: func(s *script) { s.input(); s.call(greeter, "Francesco"); s.finish(val("Whatever")) },
			want:    []out{o(callCmd("Francesco", 1, 2)), output(val("Whatever")), end()},
		},
		{
			name: "replayed call with its completions",
			journal: []wire.Message{
				callCmd("Francesco", 1, 2), invocationIDDone(1, "inv_child"), callDone(2, val("Hello")),
			},
			handler: func(s *script) {
				s.input()
				_, res := s.call(greeter, "Francesco")
				s.finish(s.get(res))
			},
			want: []out{output(val("Hello")), end()},
		},
		{
			name:  "send with a delay, then await its invocation id",
			later: []wire.Message{invocationIDDone(1, "inv_sent")},
			handler: func(s *script) {
				s.input()
				h, err := s.m.Send(greeter, []byte("p"), 1_721_123_699_086)
				s.ok(err)
				s.expectResult(s.get(h), wire.Result{Kind: wire.ResultInvocationID, InvocationID: "inv_sent"})
				s.end()
			},
			want: []out{o(sendCmd("p", 1, 1_721_123_699_086)), end()},
		},
		{
			name: "send now, with every target field",
			handler: func(s *script) {
				s.input()
				_, err := s.m.Send(full, nil, 0)
				s.ok(err)
				s.sleep("")
				s.end()
			},
			want: []out{
				o(&wire.OneWayCallCommand{
					ServiceName: "Cart", HandlerName: "add", Key: "cart-1",
					IdempotencyKey: wire.String("idem"),
					Headers:        []wire.HeaderEntry{{Key: "z", Value: "1"}, {Key: "a", Value: "2"}},
					Name:           "add item", InvocationIDNotificationIdx: 1,
				}),
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 2}),
				end(),
			},
		},
		{
			// The invoke time is not compared on replay.
			name:    "replayed send with another invoke time",
			journal: []wire.Message{sendCmd("p", 1, 5)},
			handler: func(s *script) {
				s.input()
				_, err := s.m.Send(greeter, []byte("p"), 99)
				s.ok(err)
				s.end()
			},
			want: []out{end()},
		},
		{
			name:     "send with scope and limit key",
			versions: []wire.Version{wire.V7},
			handler: func(s *script) {
				s.input()
				_, err := s.m.Send(scoped, nil, 0)
				s.ok(err)
				s.end()
			},
			want: []out{o(&wire.OneWayCallCommand{
				ServiceName: "Greeter", HandlerName: "greet", Scope: wire.String("tenant-a"), LimitKey: wire.String("user-42"),
				InvocationIDNotificationIdx: 1,
			}), end()},
		},
		{
			name:     "send with scope before V7",
			versions: []wire.Version{wire.V5, wire.V6},
			handler: func(s *script) {
				s.input()
				_, err := s.m.Send(scoped, nil, 0)
				s.fails(err, CodeUnsupportedFeature)
			},
			want: []out{errorOut(CodeUnsupportedFeature)},
		},
		{
			name: "send with an empty idempotency key",
			handler: func(s *script) {
				s.input()
				_, err := s.m.Send(CallTarget{Service: "S", Handler: "h", IdempotencyKey: wire.String("")}, nil, 0)
				s.fails(err, CodeInternal)
			},
			want: []out{errorOut(CodeInternal)},
		},
	})
}

// reverseAwait calls twice, awaits the second call first, journals its
// result in state, then awaits the first (shared-core scenario).
func reverseAwait(s *script) {
	s.input()
	_, r1 := s.call(greeter, "Francesco")
	_, r2 := s.call(greeter, "Till")
	if _, err := s.m.Await(Single(r2)); err != nil {
		return
	}
	v2 := s.take(r2)
	s.ok(s.m.SetState("A2", v2.Value))
	if _, err := s.m.Await(Single(r1)); err != nil {
		return
	}
	v1 := s.take(r1)
	s.finish(val(string(v1.Value) + "-" + string(v2.Value)))
}

func TestReverseAwaitOrder(t *testing.T) {
	t.Parallel()
	calls := []out{o(callCmd("Francesco", 1, 2)), o(callCmd("Till", 3, 4))}
	setA2 := o(&wire.SetStateCommand{Key: []byte("A2"), Value: []byte("TILL")})
	runJournalCases(t, []journalCase{
		{
			name:    "none completed",
			handler: reverseAwait,
			want:    append(calls, suspendedOn(4)),
		},
		{
			name: "first then second completed",
			later: []wire.Message{
				invocationIDDone(1, "a1"), invocationIDDone(3, "a2"),
				callDone(2, val("FRANCESCO")), callDone(4, val("TILL")),
			},
			handler: reverseAwait,
			want:    append(calls, setA2, output(val("FRANCESCO-TILL")), end()),
		},
		{
			name:    "second then first completed",
			later:   []wire.Message{callDone(4, val("TILL")), callDone(2, val("FRANCESCO"))},
			handler: reverseAwait,
			want:    append(calls, setA2, output(val("FRANCESCO-TILL")), end()),
		},
		{
			name:    "only the second completed",
			later:   []wire.Message{callDone(4, val("TILL"))},
			handler: reverseAwait,
			want:    append(calls, setA2, suspendedOn(2)),
		},
		{
			name:    "only the first completed",
			later:   []wire.Message{callDone(2, val("FRANCESCO"))},
			handler: reverseAwait,
			want:    append(calls, suspendedOn(4)),
		},
	})
}

func TestAwakeablesAndSignals(t *testing.T) {
	t.Parallel()
	withMetadata := wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{
		Code: 500, Message: "no", Metadata: []wire.FailureMetadata{{Key: "k", Value: "v"}},
	}}
	runJournalCases(t, []journalCase{
		{
			name:  "awakeable resolved by its signal",
			later: []wire.Message{signalDone(17, val("woken"))},
			handler: func(s *script) {
				s.input()
				h, id := s.awakeable()
				if id != "sign_1AAAAAAAAACoBlvHCo7TF1uf4CRorPE1eAAAAEQ" {
					s.t.Errorf("awakeable id %q", id)
				}
				s.finish(s.get(h))
			},
			want: []out{output(val("woken")), end()},
		},
		{
			name:  "awakeable rejected",
			later: []wire.Message{signalDone(17, failure(500, "rejected"))},
			handler: func(s *script) {
				s.input()
				h, _ := s.awakeable()
				s.finish(s.get(h))
			},
			want: []out{output(failure(500, "rejected")), end()},
		},
		{
			// No command is written for an awakeable, on replay either: the
			// journal holds only the signal notification.
			name:    "awakeable signal in the replayed journal",
			journal: []wire.Message{signalDone(17, val("woken"))},
			handler: func(s *script) {
				s.input()
				h, _ := s.awakeable()
				s.finish(s.get(h))
			},
			want: []out{output(val("woken")), end()},
		},
		{
			name: "suspension lists the awaited awakeable's signal",
			handler: func(s *script) {
				s.input()
				s.awakeable()
				h2, id2 := s.awakeable()
				if id2 != AwakeableID(exampleID, 18) {
					s.t.Errorf("second awakeable id %q", id2)
				}
				if _, ok := s.m.Take(h2); ok {
					s.t.Fatal("Take of a pending awakeable succeeded")
				}
				s.suspends(Single(h2))
			},
			want: []out{suspension(future(wire.CombinatorFirstCompleted, nil, ids(18, 1), nil))},
		},
		{
			name: "await an awakeable, a named signal and a lazy get",
			handler: func(s *script) {
				s.input()
				h1, _ := s.awakeable()
				h2, err := s.m.Signal("abc")
				s.ok(err)
				h3 := s.getState("Personaggio")
				s.suspends(Future{Combinator: wire.CombinatorFirstCompleted, Handles: []Handle{h1, h2, h3}})
			},
			want: []out{
				o(lazyGet("Personaggio", 1)),
				suspension(future(wire.CombinatorFirstCompleted, nil, ids(1), nil,
					future(wire.CombinatorFirstCompleted, ids(1), ids(17), []string{"abc"}))),
			},
		},
		{
			name:  "named signal resolves",
			later: []wire.Message{namedSignalDone("approved", val("yes"))},
			handler: func(s *script) {
				s.input()
				h, err := s.m.Signal("approved")
				s.ok(err)
				s.finish(s.get(h))
			},
			want: []out{output(val("yes")), end()},
		},
		{
			name: "named signal suspends",
			handler: func(s *script) {
				s.input()
				h, err := s.m.Signal("approved")
				s.ok(err)
				s.suspends(Single(h))
			},
			want: []out{suspension(future(wire.CombinatorFirstCompleted, nil, ids(1), []string{"approved"}))},
		},
		{
			name: "resolve and reject awakeables",
			handler: func(s *script) {
				s.input()
				s.ok(s.m.CompleteAwakeable("sign_1abc", val("ok")))
				s.ok(s.m.CompleteAwakeable("sign_1def", failure(500, "no")))
				s.end()
			},
			want: []out{
				o(&wire.CompleteAwakeableCommand{AwakeableID: "sign_1abc", Result: val("ok")}),
				o(&wire.CompleteAwakeableCommand{AwakeableID: "sign_1def", Result: failure(500, "no")}),
				end(),
			},
		},
		{
			name:     "reject an awakeable with metadata on V5",
			versions: []wire.Version{wire.V5},
			handler: func(s *script) {
				s.input()
				s.fails(s.m.CompleteAwakeable("sign_1abc", withMetadata), CodeUnsupportedFeature)
			},
			want: []out{errorOut(CodeUnsupportedFeature)},
		},
		{
			name: "send named signals",
			handler: func(s *script) {
				s.input()
				s.ok(s.m.SendSignal("inv_other", "approved", val("yes")))
				s.ok(s.m.SendSignal("inv_other", "rejected", failure(400, "no")))
				s.end()
			},
			want: []out{
				o(&wire.SendSignalCommand{TargetInvocationID: "inv_other", SignalName: "approved", Result: val("yes")}),
				o(&wire.SendSignalCommand{TargetInvocationID: "inv_other", SignalName: "rejected", Result: failure(400, "no")}),
				end(),
			},
		},
		{
			name:     "send a signal with metadata",
			versions: []wire.Version{wire.V6, wire.V7},
			handler: func(s *script) {
				s.input()
				s.ok(s.m.SendSignal("inv_other", "s", withMetadata))
				s.end()
			},
			want: []out{o(&wire.SendSignalCommand{TargetInvocationID: "inv_other", SignalName: "s", Result: withMetadata}), end()},
		},
		{
			name:     "send a signal with metadata on V5",
			versions: []wire.Version{wire.V5},
			handler: func(s *script) {
				s.input()
				s.fails(s.m.SendSignal("inv_other", "s", withMetadata), CodeUnsupportedFeature)
			},
			want: []out{errorOut(CodeUnsupportedFeature)},
		},
		{
			name: "cancel another invocation",
			handler: func(s *script) {
				s.input()
				s.ok(s.m.CancelInvocation("inv_other"))
				s.end()
			},
			want: []out{o(cancelCmd("inv_other")), end()},
		},
	})
}

func TestAwakeableID(t *testing.T) {
	t.Parallel()
	if got, want := AwakeableID(exampleID, 17), "sign_1AAAAAAAAACoBlvHCo7TF1uf4CRorPE1eAAAAEQ"; got != want {
		t.Errorf("AwakeableID(§12 id, 17) = %q, want %q", got, want)
	}
	if got := AwakeableID(exampleID, 17); len(got) != 44 {
		t.Errorf("awakeable id has %d characters, want 44", len(got))
	}
}

// TestIDAllocation checks G3 and §5.7: completion ids start at 1 and are
// allocated per operation in program order (2 for a call), signal ids for
// awakeables start at 17, and operations without completion take none.
func TestIDAllocation(t *testing.T) {
	t.Parallel()
	runJournalCases(t, []journalCase{{
		name:  "mixed operations",
		start: withState(false, "k", "v"),
		handler: func(s *script) {
			s.input()
			_, a1 := s.awakeable()              // signal 17
			s.sleep("")                         // 1
			s.call(greeter, "")                 // 2, 3
			_, a2 := s.awakeable()              // signal 18
			_, err := s.m.Send(greeter, nil, 0) // 4
			s.ok(err)
			s.ok(s.m.SetState("k", []byte("w")))
			s.ok(s.m.CancelInvocation("inv_x"))
			s.ok(s.m.CompleteAwakeable(a1, val("")))
			s.getState("k")              // 5, eager
			s.stateKeys()                // 6, eager
			s.run("r")                   // 7
			_, err = s.m.GetPromise("p") // 8
			s.ok(err)
			_, err = s.m.PeekPromise("p") // 9
			s.ok(err)
			_, err = s.m.CompletePromise("p", val("")) // 10
			s.ok(err)
			_, err = s.m.Attach(wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "inv_x"}) // 11
			s.ok(err)
			_, err = s.m.GetInvocationOutput(wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "inv_x"}) // 12
			s.ok(err)
			s.sleep("last") // 13
			if a2 != AwakeableID(exampleID, 18) {
				s.t.Errorf("second awakeable id %q", a2)
			}
			if s.m.CommandIndex() != 15 {
				s.t.Errorf("CommandIndex() = %d, want 15", s.m.CommandIndex())
			}
			s.end()
		},
		want: []out{
			o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 1}),
			o(callCmd("", 2, 3)),
			o(sendCmd("", 4, 0)),
			o(&wire.SetStateCommand{Key: []byte("k"), Value: []byte("w")}),
			o(cancelCmd("inv_x")),
			o(&wire.CompleteAwakeableCommand{AwakeableID: AwakeableID(exampleID, 17), Result: val("")}),
			o(eagerGet("k", val("w"))),
			o(&wire.GetEagerStateKeysCommand{Keys: [][]byte{[]byte("k")}}),
			o(&wire.RunCommand{ResultCompletionID: 7, Name: "r"}),
			o(&wire.GetPromiseCommand{Key: "p", ResultCompletionID: 8}),
			o(&wire.PeekPromiseCommand{Key: "p", ResultCompletionID: 9}),
			o(&wire.CompletePromiseCommand{Key: "p", Completion: val(""), ResultCompletionID: 10}),
			o(&wire.AttachInvocationCommand{Target: wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "inv_x"}, ResultCompletionID: 11}),
			o(&wire.GetInvocationOutputCommand{Target: wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "inv_x"}, ResultCompletionID: 12}),
			o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 13, Name: "last"}),
			end(),
		},
	}})
}

func TestPromises(t *testing.T) {
	t.Parallel()
	withMetadata := wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{
		Code: 500, Message: "no", Metadata: []wire.FailureMetadata{{Key: "k", Value: "v"}},
	}}
	getPromise := func(s *script) {
		s.input()
		h, err := s.m.GetPromise("my-prom")
		s.ok(err)
		s.finish(s.get(h))
	}
	peekPromise := func(s *script) {
		s.input()
		h, err := s.m.PeekPromise("my-prom")
		s.ok(err)
		r := s.get(h)
		if r.Kind == wire.ResultVoid {
			r = val("not yet")
		}
		s.finish(r)
	}
	completePromise := func(c wire.Result) func(s *script) {
		return func(s *script) {
			s.input()
			h, err := s.m.CompletePromise("my-prom", c)
			s.ok(err)
			r := s.get(h)
			if r.Kind == wire.ResultVoid {
				r = val("accepted")
			}
			s.finish(r)
		}
	}
	getCmd := o(&wire.GetPromiseCommand{Key: "my-prom", ResultCompletionID: 1})
	peekCmd := o(&wire.PeekPromiseCommand{Key: "my-prom", ResultCompletionID: 1})
	completeCmd := func(c wire.Result) out {
		return o(&wire.CompletePromiseCommand{Key: "my-prom", Completion: c, ResultCompletionID: 1})
	}
	runJournalCases(t, []journalCase{
		{
			name:    "get promise, value",
			later:   []wire.Message{completion(wire.TypeGetPromiseCompletion, 1, val("v"))},
			handler: getPromise,
			want:    []out{getCmd, output(val("v")), end()},
		},
		{
			name:    "get promise, failure",
			later:   []wire.Message{completion(wire.TypeGetPromiseCompletion, 1, failure(500, "rejected"))},
			handler: getPromise,
			want:    []out{getCmd, output(failure(500, "rejected")), end()},
		},
		{
			name:    "get promise suspends until resolved",
			handler: func(s *script) { s.input(); h, err := s.m.GetPromise("my-prom"); s.ok(err); s.suspends(Single(h)) },
			want:    []out{getCmd, suspendedOn(1)},
		},
		{
			name:    "peek promise, value",
			later:   []wire.Message{completion(wire.TypePeekPromiseCompletion, 1, val("v"))},
			handler: peekPromise,
			want:    []out{peekCmd, output(val("v")), end()},
		},
		{
			name:    "peek promise, failure",
			later:   []wire.Message{completion(wire.TypePeekPromiseCompletion, 1, failure(500, "rejected"))},
			handler: peekPromise,
			want:    []out{peekCmd, output(failure(500, "rejected")), end()},
		},
		{
			name:    "peek promise, not resolved yet",
			later:   []wire.Message{completion(wire.TypePeekPromiseCompletion, 1, void())},
			handler: peekPromise,
			want:    []out{peekCmd, output(val("not yet")), end()},
		},
		{
			name:    "resolve promise, accepted",
			later:   []wire.Message{completion(wire.TypeCompletePromiseCompletion, 1, void())},
			handler: completePromise(val("v")),
			want:    []out{completeCmd(val("v")), output(val("accepted")), end()},
		},
		{
			name:    "resolve promise, already completed",
			later:   []wire.Message{completion(wire.TypeCompletePromiseCompletion, 1, failure(409, "already completed"))},
			handler: completePromise(val("v")),
			want:    []out{completeCmd(val("v")), output(failure(409, "already completed")), end()},
		},
		{
			name:    "reject promise, accepted",
			later:   []wire.Message{completion(wire.TypeCompletePromiseCompletion, 1, void())},
			handler: completePromise(failure(500, "bad")),
			want:    []out{completeCmd(failure(500, "bad")), output(val("accepted")), end()},
		},
		{
			name:    "reject promise, already completed",
			later:   []wire.Message{completion(wire.TypeCompletePromiseCompletion, 1, failure(409, "already completed"))},
			handler: completePromise(failure(500, "bad")),
			want:    []out{completeCmd(failure(500, "bad")), output(failure(409, "already completed")), end()},
		},
		{
			name:     "reject promise with metadata",
			versions: []wire.Version{wire.V6, wire.V7},
			later:    []wire.Message{completion(wire.TypeCompletePromiseCompletion, 1, void())},
			handler:  completePromise(withMetadata),
			want:     []out{completeCmd(withMetadata), output(val("accepted")), end()},
		},
		{
			name:     "reject promise with metadata on V5",
			versions: []wire.Version{wire.V5},
			handler: func(s *script) {
				s.input()
				_, err := s.m.CompletePromise("my-prom", withMetadata)
				s.fails(err, CodeUnsupportedFeature)
			},
			want: []out{errorOut(CodeUnsupportedFeature)},
		},
		{
			name: "replayed promise commands",
			journal: []wire.Message{
				&wire.GetPromiseCommand{Key: "a", ResultCompletionID: 1},
				&wire.PeekPromiseCommand{Key: "b", ResultCompletionID: 2},
				&wire.CompletePromiseCommand{Key: "c", Completion: val("x"), ResultCompletionID: 3},
				completion(wire.TypeCompletePromiseCompletion, 3, void()),
			},
			handler: func(s *script) {
				s.input()
				_, err := s.m.GetPromise("a")
				s.ok(err)
				_, err = s.m.PeekPromise("b")
				s.ok(err)
				h, err := s.m.CompletePromise("c", val("x"))
				s.ok(err)
				s.expectResult(s.get(h), void())
				s.end()
			},
			want: []out{end()},
		},
	})
}

func TestAttachAndGetOutput(t *testing.T) {
	t.Parallel()
	byID := wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "inv_other"}
	workflow := wire.InvocationTarget{Kind: wire.TargetWorkflow, Workflow: wire.WorkflowTarget{WorkflowName: "Signup", WorkflowKey: "alice"}}
	idempotent := wire.InvocationTarget{Kind: wire.TargetIdempotentRequest, IdempotentRequest: wire.IdempotentRequestTarget{
		ServiceName: "Cart", ServiceKey: wire.String("c1"), HandlerName: "checkout", IdempotencyKey: "idem",
	}}
	scopedWorkflow := workflow
	scopedWorkflow.Workflow.Scope = wire.String("tenant-a")
	scopedIdempotent := idempotent
	scopedIdempotent.IdempotentRequest.Scope = wire.String("tenant-a")
	emptyScope := workflow
	emptyScope.Workflow.Scope = wire.String("")

	var cases []journalCase
	for _, tc := range []struct {
		name   string
		target wire.InvocationTarget
		v      []wire.Version
	}{
		{"invocation id", byID, nil},
		{"workflow", workflow, nil},
		{"idempotent request", idempotent, nil},
		{"scoped workflow", scopedWorkflow, []wire.Version{wire.V7}},
		{"scoped idempotent request", scopedIdempotent, []wire.Version{wire.V7}},
	} {
		cases = append(cases,
			journalCase{
				name:     "attach to " + tc.name,
				versions: tc.v,
				later:    []wire.Message{completion(wire.TypeAttachInvocationCompletion, 1, val("their output"))},
				handler: func(s *script) {
					s.input()
					h, err := s.m.Attach(tc.target)
					s.ok(err)
					s.finish(s.get(h))
				},
				want: []out{
					o(&wire.AttachInvocationCommand{Target: tc.target, ResultCompletionID: 1}),
					output(val("their output")), end(),
				},
			},
			journalCase{
				name:     "get output of " + tc.name,
				versions: tc.v,
				later:    []wire.Message{completion(wire.TypeGetInvocationOutputCompletion, 1, void())},
				handler: func(s *script) {
					s.input()
					h, err := s.m.GetInvocationOutput(tc.target)
					s.ok(err)
					s.expectResult(s.get(h), void())
					s.end()
				},
				want: []out{
					o(&wire.GetInvocationOutputCommand{Target: tc.target, ResultCompletionID: 1}),
					end(),
				},
			})
	}
	for _, target := range []wire.InvocationTarget{scopedWorkflow, scopedIdempotent} {
		cases = append(cases,
			journalCase{
				name:     "attach with scope before V7",
				versions: []wire.Version{wire.V5, wire.V6},
				handler: func(s *script) {
					s.input()
					_, err := s.m.Attach(target)
					s.fails(err, CodeUnsupportedFeature)
				},
				want: []out{errorOut(CodeUnsupportedFeature)},
			},
			journalCase{
				name:     "get output with scope before V7",
				versions: []wire.Version{wire.V5, wire.V6},
				handler: func(s *script) {
					s.input()
					_, err := s.m.GetInvocationOutput(target)
					s.fails(err, CodeUnsupportedFeature)
				},
				want: []out{errorOut(CodeUnsupportedFeature)},
			})
	}
	cases = append(cases,
		journalCase{
			name: "attach with an empty scope",
			handler: func(s *script) {
				s.input()
				_, err := s.m.Attach(emptyScope)
				s.fails(err, CodeInternal)
			},
			want: []out{errorOut(CodeInternal)},
		},
		journalCase{
			name: "get output with an empty scope",
			handler: func(s *script) {
				s.input()
				_, err := s.m.GetInvocationOutput(emptyScope)
				s.fails(err, CodeInternal)
			},
			want: []out{errorOut(CodeInternal)},
		},
		journalCase{
			name: "attach failure",
			later: []wire.Message{
				completion(wire.TypeAttachInvocationCompletion, 1, failure(500, "their failure")),
			},
			handler: func(s *script) {
				s.input()
				h, err := s.m.Attach(byID)
				s.ok(err)
				s.finish(s.get(h))
			},
			want: []out{
				o(&wire.AttachInvocationCommand{Target: byID, ResultCompletionID: 1}),
				output(failure(500, "their failure")), end(),
			},
		},
		journalCase{
			name: "replayed attach and get output",
			journal: []wire.Message{
				&wire.AttachInvocationCommand{Target: idempotent, ResultCompletionID: 1},
				&wire.GetInvocationOutputCommand{Target: workflow, ResultCompletionID: 2},
				completion(wire.TypeGetInvocationOutputCompletion, 2, val("done")),
			},
			handler: func(s *script) {
				s.input()
				_, err := s.m.Attach(idempotent)
				s.ok(err)
				h, err := s.m.GetInvocationOutput(workflow)
				s.ok(err)
				s.finish(s.get(h))
			},
			want: []out{output(val("done")), end()},
		},
	)
	runJournalCases(t, cases)
}
