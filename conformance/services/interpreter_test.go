package services

import (
	"context"
	"slices"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// TestInterpreterEveryCommand runs a program with every command kind of
// the verification interpreters through the real engine (restatetest),
// with a nested program on layers 1 and 2, and checks each interpreter's
// counter: every kind that increments (4, 5, 9 and 18) did so exactly
// once, on the layer and key it names, and nothing else failed.
func TestInterpreterEveryCommand(t *testing.T) {
	t.Parallel()
	for _, replay := range []bool{false, true} {
		name := "processing"
		var opts []restatetest.Option
		if replay {
			// Replay the whole journal after every entry: the interpreters
			// must be deterministic.
			name, opts = "always replaying", []restatetest.Option{restatetest.WithAlwaysReplay()}
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := restatetest.New(t, []restate.ServiceDefinition{
				ObjectInterpreterL0, ObjectInterpreterL1, ObjectInterpreterL2, ServiceInterpreterHelper,
			}, opts...)
			increments := func() []ProgramCommand {
				return []ProgramCommand{
					{Kind: kindIncrementStateCounter},
					{Kind: kindIncrementIndirectly},
					{Kind: kindIncrementViaDelayedCall, Duration: 50},
					{Kind: kindIncrementViaAwakeableDance},
				}
			}
			everyKind := []ProgramCommand{
				{Kind: kindSetState, Key: 1},
				{Kind: kindGetState, Key: 1},
				{Kind: kindClearState, Key: 1},
				{Kind: kindSleep, Duration: 100},
				{Kind: kindCallService, Index: 7},
				{Kind: kindCallSlowService, Sleep: 20, Index: 8},
				{Kind: kindSideEffect, Index: 10},
				{Kind: kindThrowingSideEffect},
				{Kind: kindSlowSideEffect},
				{Kind: kindRecoverTerminalCall},
				{Kind: kindRecoverTerminalMaybeAwaited},
				{Kind: kindResolveAwakeable},
				{Kind: kindRejectAwakeable},
			}
			// program is increments and everyKind, then a call of the next
			// layer with next (if any), then an await (kind 15) of every
			// command that left a promise pending, which checks its result.
			program := func(next *Program) Program {
				cmds := append(increments(), everyKind...)
				if next != nil {
					cmds = append(cmds, ProgramCommand{Kind: kindCallNextLayerObject, Key: 9, Program: next})
				}
				for i, c := range slices.Clone(cmds) {
					switch c.Kind {
					case kindCallService, kindCallSlowService, kindRecoverTerminalMaybeAwaited,
						kindResolveAwakeable, kindRejectAwakeable, kindCallNextLayerObject:
						cmds = append(cmds, ProgramCommand{Kind: kindAwaitPromise, Index: i})
					}
				}
				return Program{Commands: cmds}
			}
			layer2 := program(nil)
			layer1 := program(&layer2)
			layer0 := program(&layer1)

			ctx := context.Background()
			if _, err := restatetest.Call(ctx, env, interpretOn(0).Target("9"), layer0); err != nil {
				t.Fatalf("interpret: %v", err)
			}
			env.Settle() // the one-way and delayed increments
			for layer := range 3 {
				counter := restate.RemoteObject[restate.Void, int](interpreterName(layer), "counter")
				got, err := restatetest.Call(ctx, env, counter.Target("9"), restate.Void{})
				if err != nil || got != 4 {
					t.Errorf("%s/9 counter = %d, %v; want 4", interpreterName(layer), got, err)
				}
			}
		})
	}
}
