package services

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// Command kinds of the verification interpreters (contracts/interpreter.kt).
const (
	kindSetState                    = 1
	kindGetState                    = 2
	kindClearState                  = 3
	kindIncrementStateCounter       = 4
	kindIncrementIndirectly         = 5
	kindSleep                       = 6
	kindCallService                 = 7
	kindCallSlowService             = 8
	kindIncrementViaDelayedCall     = 9
	kindSideEffect                  = 10
	kindThrowingSideEffect          = 11
	kindSlowSideEffect              = 12
	kindRecoverTerminalCall         = 13
	kindRecoverTerminalMaybeAwaited = 14
	kindAwaitPromise                = 15
	kindResolveAwakeable            = 16
	kindRejectAwakeable             = 17
	kindIncrementViaAwakeableDance  = 18
	kindCallNextLayerObject         = 19
)

// Program is the input of ObjectInterpreterL<n>.interpret.
type Program struct {
	Commands []ProgramCommand `json:"commands"`
}

// ProgramCommand is one command of a Program; Kind selects which other
// fields apply.
type ProgramCommand struct {
	Kind     int      `json:"kind"`
	Key      int      `json:"key,omitempty"`
	Duration int      `json:"duration,omitempty"`
	Sleep    int      `json:"sleep,omitempty"`
	Index    int      `json:"index,omitempty"`
	Program  *Program `json:"program,omitempty"`
}

// InterpreterID identifies an interpreter object: its layer and key.
type InterpreterID struct {
	Layer int    `json:"layer"`
	Key   string `json:"key"`
}

// EchoLaterRequest is the input of ServiceInterpreterHelper.echoLater.
type EchoLaterRequest struct {
	Sleep     int    `json:"sleep"`
	Parameter string `json:"parameter"`
}

// IncrementViaAwakeableDanceRequest is the input of
// ServiceInterpreterHelper.incrementViaAwakeableDance.
type IncrementViaAwakeableDanceRequest struct {
	Interpreter InterpreterID `json:"interpreter"`
	TxPromiseID string        `json:"txPromiseId"`
}

var interpreterCounter = restate.NewStateKey[int]("counter")

// interpreterName is the service name of the interpreter of layer.
func interpreterName(layer int) string { return fmt.Sprintf("ObjectInterpreterL%d", layer) }

// interpretOn calls the interpret handler of an interpreter layer by name:
// the layers are built by one function, so they have no typed handle to
// each other.
func interpretOn(layer int) restate.RemoteObjectHandler[Program, restate.Void] {
	return restate.RemoteObject[Program, restate.Void](interpreterName(layer), "interpret")
}

// incrementProgram increments the counter of an interpreter.
var incrementProgram = Program{Commands: []ProgramCommand{{Kind: kindIncrementStateCounter}}}

// deferred is the future of a command whose result a later kind-15
// command awaits, with the result it must have (when it has one).
type deferred struct {
	await    func() (string, error)
	expected *string
}

func expect(s string) *string { return &s }

// awaitString adapts a future to a deferred await.
func awaitString(f restate.Future[string]) func() (string, error) { return f.Await }

// expectTerminal awaits f and succeeds with "terminal" when it failed
// terminally.
func expectTerminal[T any](f restate.Future[T], result string) func() (string, error) {
	return func() (string, error) {
		_, err := f.Await()
		if restate.IsTerminal(err) {
			return result, nil
		}
		if err != nil {
			return "", err
		}
		return "", restate.TerminalErrorf("unexpectedly succeeded")
	}
}

// interpretProgram runs a program on the interpreter of layer.
func interpretProgram(ctx restate.ObjectContext, layer int, p Program) error {
	self := InterpreterID{Layer: layer, Key: ctx.Key()}
	pending := map[int]deferred{}
	for i, cmd := range p.Commands {
		stateKey := restate.NewStateKey[string](fmt.Sprintf("key-%d", cmd.Key))
		var err error
		switch cmd.Kind {
		case kindSetState:
			err = stateKey.Set(ctx, fmt.Sprintf("value-%d", cmd.Key))
		case kindGetState:
			_, err = stateKey.Get(ctx)
		case kindClearState:
			err = stateKey.Clear(ctx)
		case kindIncrementStateCounter:
			var n int
			if n, err = interpreterCounter.Get(ctx); err == nil {
				err = interpreterCounter.Set(ctx, n+1)
			}
		case kindIncrementIndirectly:
			helperIncrementIndirectly.Send(ctx, self)
		case kindSleep:
			err = restate.Sleep(ctx, time.Duration(cmd.Duration)*time.Millisecond)
		case kindCallService:
			want := fmt.Sprintf("hello-%d", i)
			pending[i] = deferred{await: awaitString(helperEcho.Call(ctx, want).Future), expected: expect(want)}
		case kindCallSlowService:
			want := fmt.Sprintf("hello-%d", i)
			f := helperEchoLater.Call(ctx, EchoLaterRequest{Sleep: cmd.Sleep, Parameter: want})
			pending[i] = deferred{await: awaitString(f.Future), expected: expect(want)}
		case kindIncrementViaDelayedCall:
			helperIncrementIndirectly.Send(ctx, self, restate.WithDelay(time.Duration(cmd.Duration)*time.Millisecond))
		case kindSideEffect:
			want := fmt.Sprintf("hello-%d", i)
			var got string
			got, err = restate.Run(ctx, func(restate.RunContext) (string, error) { return want, nil })
			if err == nil && got != want {
				err = restate.TerminalErrorf("run returned %q, want %q", got, want)
			}
		case kindThrowingSideEffect:
			err = restate.RunVoid(ctx, func(restate.RunContext) error {
				if rand.IntN(2) == 1 {
					return errors.New("a random retryable failure")
				}
				return nil
			})
		case kindSlowSideEffect:
			err = restate.RunVoid(ctx, func(restate.RunContext) error {
				time.Sleep(time.Millisecond)
				return nil
			})
		case kindRecoverTerminalCall:
			_, err = expectTerminal(helperTerminalFailure.Call(ctx, restate.Void{}).Future, "terminal")()
		case kindRecoverTerminalMaybeAwaited:
			f := helperTerminalFailure.Call(ctx, restate.Void{})
			pending[i] = deferred{await: expectTerminal(f.Future, "terminal"), expected: expect("terminal")}
		case kindAwaitPromise:
			d, ok := pending[cmd.Index]
			if !ok {
				return restate.TerminalErrorf("%s: no pending promise for command %d", interpreterName(layer), cmd.Index)
			}
			delete(pending, cmd.Index)
			var got string
			if got, err = d.await(); err == nil && d.expected != nil && got != *d.expected {
				err = restate.TerminalErrorf("awaited promise of command %d: got %q, want %q", cmd.Index, got, *d.expected)
			}
		case kindResolveAwakeable:
			awk := restate.NewAwakeable[string](ctx)
			pending[i] = deferred{await: awaitString(awk.Future), expected: expect("ok")}
			helperResolveAwakeable.Send(ctx, awk.ID())
		case kindRejectAwakeable:
			awk := restate.NewAwakeable[string](ctx)
			pending[i] = deferred{await: expectTerminal(awk.Future, "rejected"), expected: expect("rejected")}
			helperRejectAwakeable.Send(ctx, awk.ID())
		case kindIncrementViaAwakeableDance:
			tx := restate.NewAwakeable[string](ctx)
			helperIncrementViaAwakeableDance.Send(ctx, IncrementViaAwakeableDanceRequest{Interpreter: self, TxPromiseID: tx.ID()})
			var theirs string
			if theirs, err = tx.Await(); err == nil {
				err = restate.ResolveAwakeable(ctx, theirs, "ok")
			}
		case kindCallNextLayerObject:
			next := Program{}
			if cmd.Program != nil {
				next = *cmd.Program
			}
			f := interpretOn(layer+1).Call(ctx, strconv.Itoa(cmd.Key), next)
			pending[i] = deferred{await: func() (string, error) {
				_, err := f.Await()
				return "", err
			}}
		default:
			return restate.TerminalErrorf("%s: unknown command kind %d", interpreterName(layer), cmd.Kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// newObjectInterpreter makes ObjectInterpreterL<layer>: interpret runs a
// program, the shared counter reads the state key "counter".
func newObjectInterpreter(layer int) *restate.Object {
	return restate.NewObject(interpreterName(layer),
		restate.NewObjectHandler("interpret", restate.NoOutput(func(ctx restate.ObjectContext, p Program) error {
			return interpretProgram(ctx, layer, p)
		})),
		restate.NewSharedHandler("counter", restate.NoInput(interpreterCounter.Get)),
	)
}

// The verification interpreters, one per layer: programs of layer n call
// layer n+1 with command kind 19.
var (
	ObjectInterpreterL0 = newObjectInterpreter(0)
	ObjectInterpreterL1 = newObjectInterpreter(1)
	ObjectInterpreterL2 = newObjectInterpreter(2)
)

// Handlers of ServiceInterpreterHelper, called by the interpreters.
var (
	helperEcho = restate.NewHandler("echo", func(_ restate.Context, s string) (string, error) { return s, nil })

	helperEchoLater = restate.NewHandler("echoLater", func(ctx restate.Context, r EchoLaterRequest) (string, error) {
		return r.Parameter, restate.Sleep(ctx, time.Duration(r.Sleep)*time.Millisecond)
	})

	helperTerminalFailure = restate.NewHandler("terminalFailure", restate.NoInputOutput(func(restate.Context) error {
		return restate.TerminalErrorf("bye")
	}))

	helperIncrementIndirectly = restate.NewHandler("incrementIndirectly", restate.NoOutput(
		func(ctx restate.Context, id InterpreterID) error {
			interpretOn(id.Layer).Send(ctx, id.Key, incrementProgram)
			return nil
		}))

	helperResolveAwakeable = restate.NewHandler("resolveAwakeable", restate.NoOutput(func(ctx restate.Context, id string) error {
		return restate.ResolveAwakeable(ctx, id, "ok")
	}))

	helperRejectAwakeable = restate.NewHandler("rejectAwakeable", restate.NoOutput(func(ctx restate.Context, id string) error {
		return restate.RejectAwakeable(ctx, id, restate.TerminalErrorf("error"))
	}))

	helperIncrementViaAwakeableDance = restate.NewHandler("incrementViaAwakeableDance", restate.NoOutput(
		func(ctx restate.Context, r IncrementViaAwakeableDanceRequest) error {
			awk := restate.NewAwakeable[string](ctx)
			if err := restate.ResolveAwakeable(ctx, r.TxPromiseID, awk.ID()); err != nil {
				return err
			}
			if _, err := awk.Await(); err != nil {
				return err
			}
			interpretOn(r.Interpreter.Layer).Send(ctx, r.Interpreter.Key, incrementProgram)
			return nil
		}))
)

// ServiceInterpreterHelper is the service the verification interpreters
// call: echoes, a terminal failure, indirect increments of an
// interpreter's counter and awakeable completions.
var ServiceInterpreterHelper = restate.NewService("ServiceInterpreterHelper",
	restate.NewHandler("ping", restate.NoInputOutput(func(restate.Context) error { return nil })),
	helperEcho,
	helperEchoLater,
	helperTerminalFailure,
	helperIncrementIndirectly,
	helperResolveAwakeable,
	helperRejectAwakeable,
	helperIncrementViaAwakeableDance,
)
