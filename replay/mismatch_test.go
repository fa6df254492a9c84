package replay

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/qcodr/restate-sdk-go/wire"
)

// mismatchCase replays journal (after the input command) and then runs op,
// which must fail with a journal mismatch at index 1 (or wantIndex).
type mismatchCase struct {
	name     string
	versions []wire.Version // nil: all
	journal  []wire.Message
	before   func(s *script) // handler steps before op, after the input
	op       func(m *Machine) error
	// The message must start with prefix and contain every fragment of
	// contains.
	prefix   string
	contains []string
	// Related command of the ErrorMessage: index (default 1), type, name.
	index   uint32
	typ     wire.Type
	relName string
}

func opErr(_ Handle, err error) error { return err }

func opErr2(_, _ Handle, err error) error { return err }

func runErr(_ Handle, _ bool, err error) error { return err }

func TestJournalMismatch(t *testing.T) {
	t.Parallel()
	byID := wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "inv_a"}
	workflow := wire.InvocationTarget{Kind: wire.TargetWorkflow, Workflow: wire.WorkflowTarget{WorkflowName: "W", WorkflowKey: "k"}}
	scopedWorkflow := wire.InvocationTarget{Kind: wire.TargetWorkflow, Workflow: wire.WorkflowTarget{WorkflowName: "W", WorkflowKey: "k", Scope: wire.String("s")}}
	idem := func(key string) wire.InvocationTarget {
		return wire.InvocationTarget{Kind: wire.TargetIdempotentRequest, IdempotentRequest: wire.IdempotentRequestTarget{
			ServiceName: "S", ServiceKey: wire.String(key), HandlerName: "h", IdempotencyKey: "i",
		}}
	}
	call := func(mod func(c *wire.CallCommand)) *wire.CallCommand {
		c := &wire.CallCommand{ServiceName: "Payments", HandlerName: "refund", Key: "k", Parameter: []byte("p"),
			Headers:        []wire.HeaderEntry{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}},
			IdempotencyKey: wire.String("i"), InvocationIDNotificationIdx: 1, ResultCompletionID: 2, Name: "n"}
		if mod != nil {
			mod(c)
		}
		return c
	}
	target := CallTarget{Service: "Payments", Handler: "refund", Key: "k",
		Headers:        []wire.HeaderEntry{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}},
		IdempotencyKey: wire.String("i"), Name: "n"}
	withTarget := func(mod func(t *CallTarget)) CallTarget {
		t := target
		mod(&t)
		return t
	}
	send := func(mod func(c *wire.OneWayCallCommand)) *wire.OneWayCallCommand {
		c := &wire.OneWayCallCommand{ServiceName: "Payments", HandlerName: "refund", Key: "k", Parameter: []byte("p"),
			Headers:        []wire.HeaderEntry{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}},
			IdempotencyKey: wire.String("i"), InvocationIDNotificationIdx: 1, Name: "n"}
		if mod != nil {
			mod(c)
		}
		return c
	}
	long := strings.Repeat("x", 100)
	withMeta := func(v string) wire.Result {
		return wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{Code: 500, Message: "m", Metadata: []wire.FailureMetadata{{Key: "k", Value: v}}}}
	}

	cases := []mismatchCase{
		{
			name:    "type: run journaled, call issued",
			journal: []wire.Message{&wire.SleepCommand{ResultCompletionID: 1}, runCmd(2, "charge")},
			before:  func(s *script) { s.sleep("") },
			op:      func(m *Machine) error { return opErr2(m.Call(CallTarget{Service: "Payments", Handler: "refund"}, nil)) },
			prefix:  `journal mismatch at index 2: journal has run "charge", handler now issued call Payments/refund. The handler code`,
			index:   2, typ: wire.TypeCallCommand,
		},
		{
			name:    "output value",
			journal: []wire.Message{&wire.OutputCommand{Result: val("a")}},
			op:      func(m *Machine) error { return m.Output(val("b")) },
			prefix:  `journal mismatch at index 1: journal has handler output, handler now issued handler output (result: journal "a", now "b")`,
			typ:     wire.TypeOutputCommand,
		},
		{
			name:     "output kind",
			journal:  []wire.Message{&wire.OutputCommand{Result: val("a")}},
			op:       func(m *Machine) error { return m.Output(failure(500, "x")) },
			prefix:   `journal mismatch at index 1: journal has handler output, handler now issued handler output (terminal failure 500) (result: journal value, now failure)`,
			typ:      wire.TypeOutputCommand,
			contains: nil,
		},
		{
			name:     "output failure code and message",
			journal:  []wire.Message{&wire.OutputCommand{Result: failure(500, "a")}},
			op:       func(m *Machine) error { return m.Output(failure(409, "b")) },
			contains: []string{`result code: journal 500, now 409`, `result message: journal "a", now "b"`},
			typ:      wire.TypeOutputCommand,
		},
		{
			name:     "output failure metadata",
			versions: []wire.Version{wire.V6, wire.V7},
			journal:  []wire.Message{&wire.OutputCommand{Result: withMeta("1")}},
			op:       func(m *Machine) error { return m.Output(withMeta("2")) },
			contains: []string{`result metadata differs`},
			typ:      wire.TypeOutputCommand,
		},
		{
			name:     "output failure metadata count",
			versions: []wire.Version{wire.V6, wire.V7},
			journal:  []wire.Message{&wire.OutputCommand{Result: withMeta("1")}},
			op:       func(m *Machine) error { return m.Output(failure(500, "m")) },
			contains: []string{`result metadata differs`},
			typ:      wire.TypeOutputCommand,
		},
		{
			name:     "output long values are shortened",
			journal:  []wire.Message{&wire.OutputCommand{Result: val(long)}},
			op:       func(m *Machine) error { return m.Output(val(long + "y")) },
			contains: []string{`"` + strings.Repeat("x", 64) + `"…`},
			typ:      wire.TypeOutputCommand,
		},
		{
			name:    "output name",
			journal: []wire.Message{&wire.OutputCommand{Result: val("a"), Name: "out"}},
			op:      func(m *Machine) error { return m.Output(val("a")) },
			prefix:  `journal mismatch at index 1: journal has handler output, handler now issued handler output (name: journal "out", now "")`,
			typ:     wire.TypeOutputCommand,
		},
		{
			name:    "eager get key",
			journal: []wire.Message{eagerGet("a", void())},
			op:      func(m *Machine) error { return opErr(m.GetState("b")) },
			prefix:  `journal mismatch at index 1: journal has get state "a", handler now issued get state "b" (key: journal "a", now "b")`,
			typ:     wire.TypeGetEagerStateCommand,
		},
		{
			name:     "eager get name",
			journal:  []wire.Message{&wire.GetEagerStateCommand{Key: []byte("a"), Result: void(), Name: "x"}},
			op:       func(m *Machine) error { return opErr(m.GetState("a")) },
			contains: []string{`name: journal "x", now ""`},
			typ:      wire.TypeGetEagerStateCommand,
		},
		{
			name:    "lazy get key",
			journal: []wire.Message{lazyGet("a", 1)},
			op:      func(m *Machine) error { return opErr(m.GetState("b")) },
			prefix:  `journal mismatch at index 1: journal has get state "a", handler now issued get state "b" (key: journal "a", now "b")`,
			typ:     wire.TypeGetLazyStateCommand,
		},
		{
			name:     "lazy get completion id",
			journal:  []wire.Message{lazyGet("a", 7)},
			op:       func(m *Machine) error { return opErr(m.GetState("a")) },
			contains: []string{`completion id: journal 7, now 1`},
			typ:      wire.TypeGetLazyStateCommand,
		},
		{
			name:    "get state where the journal has another command",
			journal: []wire.Message{&wire.SleepCommand{ResultCompletionID: 1}},
			op:      func(m *Machine) error { return opErr(m.GetState("a")) },
			prefix:  `journal mismatch at index 1: journal has sleep, handler now issued get state "a". `,
			typ:     wire.TypeGetLazyStateCommand,
		},
		{
			name:     "eager keys name",
			journal:  []wire.Message{&wire.GetEagerStateKeysCommand{Name: "x"}},
			op:       func(m *Machine) error { return opErr(m.GetStateKeys()) },
			prefix:   `journal mismatch at index 1: journal has get state keys, handler now issued get state keys (name differs)`,
			typ:      wire.TypeGetEagerStateKeysCommand,
			contains: nil,
		},
		{
			name:     "lazy keys completion id",
			journal:  []wire.Message{&wire.GetLazyStateKeysCommand{ResultCompletionID: 3}},
			op:       func(m *Machine) error { return opErr(m.GetStateKeys()) },
			contains: []string{`completion id: journal 3, now 1`},
			typ:      wire.TypeGetLazyStateKeysCommand,
		},
		{
			name:    "keys where the journal has another command",
			journal: []wire.Message{eagerGet("a", void())},
			op:      func(m *Machine) error { return opErr(m.GetStateKeys()) },
			prefix:  `journal mismatch at index 1: journal has get state "a", handler now issued get state keys. `,
			typ:     wire.TypeGetLazyStateKeysCommand,
		},
		{
			name:    "set state value",
			journal: []wire.Message{&wire.SetStateCommand{Key: []byte("k"), Value: []byte("my-value")}},
			op:      func(m *Machine) error { return m.SetState("k", []byte("another-value")) },
			prefix:  `journal mismatch at index 1: journal has set state "k", handler now issued set state "k" (value: journal "my-value", now "another-value")`,
			typ:     wire.TypeSetStateCommand,
		},
		{
			name:     "set state key",
			journal:  []wire.Message{&wire.SetStateCommand{Key: []byte("k"), Value: []byte("v")}},
			op:       func(m *Machine) error { return m.SetState("j", []byte("v")) },
			contains: []string{`key: journal "k", now "j"`},
			typ:      wire.TypeSetStateCommand,
		},
		{
			name:    "clear state key",
			journal: []wire.Message{&wire.ClearStateCommand{Key: []byte("k")}},
			op:      func(m *Machine) error { return m.ClearState("j") },
			prefix:  `journal mismatch at index 1: journal has clear state "k", handler now issued clear state "j" (key: journal "k", now "j")`,
			typ:     wire.TypeClearStateCommand,
		},
		{
			name:    "clear all name",
			journal: []wire.Message{&wire.ClearAllStateCommand{Name: "x"}},
			op:      func(m *Machine) error { return m.ClearAllState() },
			prefix:  `journal mismatch at index 1: journal has clear all state, handler now issued clear all state (name: journal "x", now "")`,
			typ:     wire.TypeClearAllStateCommand,
		},
		{
			name:    "get promise key",
			journal: []wire.Message{&wire.GetPromiseCommand{Key: "a", ResultCompletionID: 1}},
			op:      func(m *Machine) error { return opErr(m.GetPromise("b")) },
			prefix:  `journal mismatch at index 1: journal has get promise "a", handler now issued get promise "b" (key: journal "a", now "b")`,
			typ:     wire.TypeGetPromiseCommand,
		},
		{
			name:    "peek promise key",
			journal: []wire.Message{&wire.PeekPromiseCommand{Key: "a", ResultCompletionID: 1}},
			op:      func(m *Machine) error { return opErr(m.PeekPromise("b")) },
			prefix:  `journal mismatch at index 1: journal has peek promise "a", handler now issued peek promise "b"`,
			typ:     wire.TypePeekPromiseCommand,
		},
		{
			name:    "complete promise value",
			journal: []wire.Message{&wire.CompletePromiseCommand{Key: "a", Completion: val("1"), ResultCompletionID: 1}},
			op:      func(m *Machine) error { return opErr(m.CompletePromise("a", val("2"))) },
			prefix:  `journal mismatch at index 1: journal has complete promise "a", handler now issued complete promise "a" (completion: journal "1", now "2")`,
			typ:     wire.TypeCompletePromiseCommand,
		},
		{
			name:    "sleep name",
			journal: []wire.Message{&wire.SleepCommand{ResultCompletionID: 1, Name: "nap"}},
			op:      func(m *Machine) error { return opErr(m.Sleep(1, "rest")) },
			prefix:  `journal mismatch at index 1: journal has sleep "nap", handler now issued sleep "rest" (name: journal "nap", now "rest")`,
			typ:     wire.TypeSleepCommand, relName: "rest",
		},
		{
			name:    "call service",
			journal: []wire.Message{call(nil)},
			op: func(m *Machine) error {
				return opErr2(m.Call(withTarget(func(t *CallTarget) { t.Service = "Billing" }), []byte("p")))
			},
			prefix: `journal mismatch at index 1: journal has call Payments/k/refund "n", handler now issued call Billing/k/refund "n" (service: journal "Payments", now "Billing")`,
			typ:    wire.TypeCallCommand, relName: "n",
		},
		{
			name:    "call handler, key, parameter",
			journal: []wire.Message{call(nil)},
			op: func(m *Machine) error {
				return opErr2(m.Call(withTarget(func(t *CallTarget) { t.Handler, t.Key = "pay", "j" }), []byte("q")))
			},
			contains: []string{`handler: journal "refund", now "pay"`, `key: journal "k", now "j"`, `parameter: journal "p", now "q"`},
			typ:      wire.TypeCallCommand, relName: "n",
		},
		{
			name:    "call headers order",
			journal: []wire.Message{call(nil)},
			op: func(m *Machine) error {
				return opErr2(m.Call(withTarget(func(t *CallTarget) {
					t.Headers = []wire.HeaderEntry{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}}
				}), []byte("p")))
			},
			contains: []string{`headers[0]: journal a="1", now b="2"`},
			typ:      wire.TypeCallCommand, relName: "n",
		},
		{
			name:    "call headers count",
			journal: []wire.Message{call(nil)},
			op: func(m *Machine) error {
				return opErr2(m.Call(withTarget(func(t *CallTarget) { t.Headers = nil }), []byte("p")))
			},
			contains: []string{`headers: journal has 2, now 0`},
			typ:      wire.TypeCallCommand, relName: "n",
		},
		{
			name:    "call idempotency key unset",
			journal: []wire.Message{call(nil)},
			op: func(m *Machine) error {
				return opErr2(m.Call(withTarget(func(t *CallTarget) { t.IdempotencyKey = nil }), []byte("p")))
			},
			contains: []string{`idempotency key: journal "i", now unset`},
			typ:      wire.TypeCallCommand, relName: "n",
		},
		{
			name:    "call idempotency key set",
			journal: []wire.Message{call(func(c *wire.CallCommand) { c.IdempotencyKey = nil })},
			op: func(m *Machine) error {
				return opErr2(m.Call(withTarget(func(t *CallTarget) { t.IdempotencyKey = wire.String("j") }), []byte("p")))
			},
			contains: []string{`idempotency key: journal unset, now "j"`},
			typ:      wire.TypeCallCommand, relName: "n",
		},
		{
			name:    "call idempotency key value and name",
			journal: []wire.Message{call(nil)},
			op: func(m *Machine) error {
				return opErr2(m.Call(withTarget(func(t *CallTarget) { t.IdempotencyKey, t.Name = wire.String("j"), "" }), []byte("p")))
			},
			prefix:   `journal mismatch at index 1: journal has call Payments/k/refund "n", handler now issued call Payments/k/refund (`,
			contains: []string{`idempotency key: journal "i", now "j"`, `name: journal "n", now ""`},
			typ:      wire.TypeCallCommand,
		},
		{
			name:     "call completion ids",
			journal:  []wire.Message{call(func(c *wire.CallCommand) { c.InvocationIDNotificationIdx, c.ResultCompletionID = 5, 6 })},
			op:       func(m *Machine) error { return opErr2(m.Call(target, []byte("p"))) },
			contains: []string{`invocation id completion id: journal 5, now 1`, `completion id: journal 6, now 2`},
			typ:      wire.TypeCallCommand, relName: "n",
		},
		{
			name:    "send parameter",
			journal: []wire.Message{send(nil)},
			op:      func(m *Machine) error { return opErr(m.Send(target, []byte("q"), 0)) },
			prefix:  `journal mismatch at index 1: journal has send Payments/k/refund "n", handler now issued send Payments/k/refund "n" (parameter: journal "p", now "q")`,
			typ:     wire.TypeOneWayCallCommand, relName: "n",
		},
		{
			name:    "send service, handler, key, headers, idempotency key, id, name",
			journal: []wire.Message{send(func(c *wire.OneWayCallCommand) { c.InvocationIDNotificationIdx = 9 })},
			op: func(m *Machine) error {
				return opErr(m.Send(CallTarget{Service: "S", Handler: "h"}, []byte("p"), 0))
			},
			contains: []string{`service: journal "Payments", now "S"`, `handler: journal "refund", now "h"`, `key: journal "k", now ""`,
				`headers: journal has 2, now 0`, `idempotency key: journal "i", now unset`,
				`invocation id completion id: journal 9, now 1`, `name: journal "n", now ""`},
			typ: wire.TypeOneWayCallCommand,
		},
		{
			name:    "cancel target",
			journal: []wire.Message{cancelCmd("inv_a")},
			op:      func(m *Machine) error { return m.CancelInvocation("inv_b") },
			prefix:  `journal mismatch at index 1: journal has cancel inv_a, handler now issued cancel inv_b (target: journal "inv_a", now "inv_b")`,
			typ:     wire.TypeSendSignalCommand,
		},
		{
			name:     "send signal name and value",
			journal:  []wire.Message{&wire.SendSignalCommand{TargetInvocationID: "inv_a", SignalName: "go", Result: val("1")}},
			op:       func(m *Machine) error { return m.SendSignal("inv_a", "stop", val("2")) },
			prefix:   `journal mismatch at index 1: journal has send signal "go" to inv_a, handler now issued send signal "stop" to inv_a (`,
			contains: []string{`signal name: journal "go", now "stop"`, `result: journal "1", now "2"`},
			typ:      wire.TypeSendSignalCommand,
		},
		{
			name:     "send signal where the journal cancels",
			journal:  []wire.Message{cancelCmd("inv_a")},
			op:       func(m *Machine) error { return m.SendSignal("inv_a", "go", void()) },
			contains: []string{`signal: journal 1, now 0`, `signal name: journal "", now "go"`},
			typ:      wire.TypeSendSignalCommand,
		},
		{
			name:     "send signal entry name",
			journal:  []wire.Message{&wire.SendSignalCommand{TargetInvocationID: "inv_a", Idx: 5, Result: void(), EntryName: "e"}},
			op:       func(m *Machine) error { return m.SendSignal("inv_a", "go", void()) },
			prefix:   `journal mismatch at index 1: journal has send signal 5 to inv_a, handler now issued send signal "go" to inv_a (`,
			contains: []string{`name: journal "e", now ""`},
			typ:      wire.TypeSendSignalCommand,
		},
		{
			name:    "run name",
			journal: []wire.Message{runCmd(1, "charge")},
			op:      func(m *Machine) error { return runErr(m.Run("refund")) },
			prefix:  `journal mismatch at index 1: journal has run "charge", handler now issued run "refund" (name: journal "charge", now "refund")`,
			typ:     wire.TypeRunCommand, relName: "refund",
		},
		{
			name:    "run completion id",
			journal: []wire.Message{runCmd(4, "")},
			op:      func(m *Machine) error { return runErr(m.Run("")) },
			prefix:  `journal mismatch at index 1: journal has run, handler now issued run (completion id: journal 4, now 1)`,
			typ:     wire.TypeRunCommand,
		},
		{
			name:    "attach invocation id",
			journal: []wire.Message{&wire.AttachInvocationCommand{Target: byID, ResultCompletionID: 1}},
			op: func(m *Machine) error {
				return opErr(m.Attach(wire.InvocationTarget{Kind: wire.TargetInvocationID, InvocationID: "inv_b"}))
			},
			prefix: `journal mismatch at index 1: journal has attach to invocation inv_a, handler now issued attach to invocation inv_b (target: journal "inv_a", now "inv_b")`,
			typ:    wire.TypeAttachInvocationCommand,
		},
		{
			name:    "attach target kind",
			journal: []wire.Message{&wire.AttachInvocationCommand{Target: byID, ResultCompletionID: 1}},
			op:      func(m *Machine) error { return opErr(m.Attach(workflow)) },
			prefix:  `journal mismatch at index 1: journal has attach to invocation inv_a, handler now issued attach to workflow W/k (target: journal invocation inv_a, now workflow W/k)`,
			typ:     wire.TypeAttachInvocationCommand,
		},
		{
			name:     "attach workflow scope and completion id",
			versions: []wire.Version{wire.V7},
			journal:  []wire.Message{&wire.AttachInvocationCommand{Target: workflow, ResultCompletionID: 2}},
			op:       func(m *Machine) error { return opErr(m.Attach(scopedWorkflow)) },
			contains: []string{`target scope: journal unset, now "s"`, `completion id: journal 2, now 1`},
			typ:      wire.TypeAttachInvocationCommand,
		},
		{
			name:     "attach idempotent request",
			journal:  []wire.Message{&wire.AttachInvocationCommand{Target: idem("a"), ResultCompletionID: 1}},
			op:       func(m *Machine) error { return opErr(m.Attach(idem("b"))) },
			prefix:   `journal mismatch at index 1: journal has attach to S/a/h with idempotency key "i", handler now issued attach to S/b/h with idempotency key "i" (`,
			contains: []string{`target key: journal "a", now "b"`},
			typ:      wire.TypeAttachInvocationCommand,
		},
		{
			name:    "get output workflow key",
			journal: []wire.Message{&wire.GetInvocationOutputCommand{Target: workflow, ResultCompletionID: 1}},
			op: func(m *Machine) error {
				return opErr(m.GetInvocationOutput(wire.InvocationTarget{Kind: wire.TargetWorkflow, Workflow: wire.WorkflowTarget{WorkflowName: "V", WorkflowKey: "j"}}))
			},
			prefix:   `journal mismatch at index 1: journal has get output of workflow W/k, handler now issued get output of workflow V/j (`,
			contains: []string{`target workflow: journal "W", now "V"`, `target key: journal "k", now "j"`},
			typ:      wire.TypeGetInvocationOutputCommand,
		},
		{
			name:    "get output idempotent request without key",
			journal: []wire.Message{&wire.GetInvocationOutputCommand{Target: idem("a"), ResultCompletionID: 1}},
			op: func(m *Machine) error {
				return opErr(m.GetInvocationOutput(wire.InvocationTarget{Kind: wire.TargetIdempotentRequest, IdempotentRequest: wire.IdempotentRequestTarget{
					ServiceName: "T", HandlerName: "g", IdempotencyKey: "j",
				}}))
			},
			prefix: `journal mismatch at index 1: journal has get output of S/a/h with idempotency key "i", handler now issued get output of T/g with idempotency key "j" (`,
			contains: []string{`target service: journal "S", now "T"`, `target key: journal "a", now unset`,
				`target handler: journal "h", now "g"`, `target idempotency key: journal "i", now "j"`},
			typ: wire.TypeGetInvocationOutputCommand,
		},
		{
			name:    "get output without target",
			journal: []wire.Message{&wire.GetInvocationOutputCommand{ResultCompletionID: 1}},
			op:      func(m *Machine) error { return opErr(m.GetInvocationOutput(byID)) },
			prefix:  `journal mismatch at index 1: journal has get output of no target, handler now issued get output of invocation inv_a (target: journal no target, now invocation inv_a)`,
			typ:     wire.TypeGetInvocationOutputCommand,
		},
		{
			name:    "complete awakeable id",
			journal: []wire.Message{&wire.CompleteAwakeableCommand{AwakeableID: "sign_1a", Result: val("v")}},
			op:      func(m *Machine) error { return m.CompleteAwakeable("sign_1b", val("v")) },
			prefix:  `journal mismatch at index 1: journal has resolve awakeable sign_1a, handler now issued resolve awakeable sign_1b (awakeable id: journal "sign_1a", now "sign_1b")`,
			typ:     wire.TypeCompleteAwakeableCommand,
		},
		{
			name:    "reject awakeable",
			journal: []wire.Message{&wire.CompleteAwakeableCommand{AwakeableID: "sign_1a", Result: val("v")}},
			op:      func(m *Machine) error { return m.CompleteAwakeable("sign_1a", failure(500, "no")) },
			prefix:  `journal mismatch at index 1: journal has resolve awakeable sign_1a, handler now issued reject awakeable sign_1a (result: journal value, now failure)`,
			typ:     wire.TypeCompleteAwakeableCommand,
		},
		{
			name:    "end with journaled commands left",
			journal: []wire.Message{&wire.OutputCommand{Result: val("a")}, &wire.SetStateCommand{Key: []byte("k"), Value: []byte("v")}},
			before:  func(s *script) { s.output(val("a")) },
			op:      func(m *Machine) error { return m.End() },
			prefix:  `journal mismatch at index 2: journal has set state "k", but the handler now returned. The handler code`,
			index:   2, typ: wire.TypeSetStateCommand,
		},
		{
			name:    "end with a named journaled command left",
			journal: []wire.Message{&wire.SleepCommand{ResultCompletionID: 1, Name: "nap"}},
			op:      func(m *Machine) error { return m.End() },
			prefix:  `journal mismatch at index 1: journal has sleep "nap", but the handler now returned.`,
			typ:     wire.TypeSleepCommand, relName: "nap",
		},
	}
	for _, c := range cases {
		versions := c.versions
		if versions == nil {
			versions = allVersions
		}
		for _, v := range versions {
			t.Run(fmt.Sprintf("%s/%s", c.name, v), func(t *testing.T) {
				t.Parallel()
				c.run(t, v)
			})
		}
	}
}

func (c mismatchCase) run(t *testing.T, v wire.Version) {
	m := New(v, Options{})
	msgs := append([]wire.Message{startMsg(uint32(1 + len(c.journal))), inputCmd("")}, c.journal...)
	if err := m.FeedBytes(encode(msgs...)); err != nil {
		t.Fatal(err)
	}
	s := &script{t: t, m: m, v: v}
	s.input()
	if c.before != nil {
		c.before(s)
	}
	err := c.op(m)
	e := s.fails(err, CodeJournalMismatch)
	if c.prefix != "" && !strings.HasPrefix(e.Message, c.prefix) {
		t.Errorf("message:\n got %s\nwant prefix %s", e.Message, c.prefix)
	}
	for _, frag := range c.contains {
		if !strings.Contains(e.Message, frag) {
			t.Errorf("message %q does not contain %q", e.Message, frag)
		}
	}
	index := c.index
	if index == 0 {
		index = 1
	}
	want := &wire.ErrorMessage{Code: 570, Message: e.Message, RelatedCommandIndex: wire.Uint32(index),
		RelatedCommandType: wire.Uint32(uint32(c.typ))}
	if c.relName != "" {
		want.RelatedCommandName = wire.String(c.relName)
	}
	if diff := diffFrames([]frame{{Msg: want}}, decodeFrames(t, m.TakeOutput())); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if !errors.Is(m.Err(), &Error{Code: CodeJournalMismatch}) {
		t.Errorf("Err() = %v", m.Err())
	}
}

func TestInputMismatch(t *testing.T) {
	t.Parallel()
	m := New(wire.V6, Options{})
	if err := m.FeedBytes(encode(startMsg(1), runCmd(1, "first"))); err != nil {
		t.Fatal(err)
	}
	_, err := m.Input()
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeJournalMismatch ||
		!strings.HasPrefix(e.Message, `journal mismatch at index 0: journal has run "first", handler now issued handler input.`) {
		t.Fatalf("Input: %v", err)
	}
	if *e.RelatedIndex != 0 || e.RelatedType != wire.TypeInputCommand {
		t.Errorf("related command %d %v", *e.RelatedIndex, e.RelatedType)
	}
}

// TestUnreplayableAwait: while replaying, an await that the journal cannot
// satisfy means the code changed (G11): 570, never a suspension.
func TestUnreplayableAwait(t *testing.T) {
	t.Parallel()
	completedSleep := []wire.Message{&wire.SleepCommand{ResultCompletionID: 2}, sleepDone(2)}
	runJournalCases(t, []journalCase{
		{
			name:    "run awaited before a completed sleep",
			journal: append([]wire.Message{runCmd(1, "my-side-effect")}, completedSleep...),
			handler: func(s *script) {
				s.input()
				h, _ := s.run("my-side-effect")
				res, err := s.m.Await(Single(h))
				e := s.fails(err, CodeJournalMismatch)
				if res.Status != StatusReady || !strings.Contains(e.Message, `the handler awaits run "my-side-effect" (command 1)`) {
					s.t.Errorf("message %q", e.Message)
				}
			},
			want: []out{o(&wire.ErrorMessage{Code: 570,
				RelatedCommandIndex: wire.Uint32(1), RelatedCommandName: wire.String("my-side-effect"),
				RelatedCommandType: wire.Uint32(uint32(wire.TypeRunCommand))})},
		},
		{
			name: "sleep awaited before another completed sleep",
			journal: []wire.Message{
				&wire.SleepCommand{ResultCompletionID: 1},
				&wire.SleepCommand{ResultCompletionID: 2},
				sleepDone(2),
			},
			handler: func(s *script) {
				s.input()
				_, err := s.m.Await(Single(s.sleep("")))
				e := s.fails(err, CodeJournalMismatch)
				want := "journal mismatch after index 1: the handler awaits completion 1, which the journal never completed, " +
					"but the journal holds more commands after this point; the handler code is not deterministic or changed while this invocation was in flight"
				if e.Message != want {
					s.t.Errorf("message\n got %s\nwant %s", e.Message, want)
				}
			},
			want: []out{errorOut(CodeJournalMismatch)},
		},
		{
			name:    "awakeable and named signal awaited before a completed sleep",
			journal: completedSleep,
			handler: func(s *script) {
				s.input()
				h, _ := s.awakeable()
				named, err := s.m.Signal("go")
				s.ok(err)
				_, err = s.m.Await(anyOf(firstCompleted, h, named))
				e := s.fails(err, CodeJournalMismatch)
				for _, frag := range []string{"awakeable " + AwakeableID(exampleID, 17), `signal "go"`} {
					if !strings.Contains(e.Message, frag) {
						s.t.Errorf("message %q does not contain %q", e.Message, frag)
					}
				}
			},
			want: []out{errorOut(CodeJournalMismatch)},
		},
		{
			name:    "the same without implicit cancellation",
			opts:    Options{DisableImplicitCancellation: true},
			journal: completedSleep,
			handler: func(s *script) {
				s.input()
				h, _ := s.awakeable()
				_, err := s.m.Await(Single(h))
				s.fails(err, CodeJournalMismatch)
			},
			want: []out{errorOut(CodeJournalMismatch)},
		},
	})
}

// TestJournalMismatchBehavior: the V7 option sets the behaviour of 570
// errors; V5/V6 always retry.
func TestJournalMismatchBehavior(t *testing.T) {
	t.Parallel()
	for _, behavior := range []wire.ErrorBehavior{wire.BehaviorRetry, wire.BehaviorPause, wire.BehaviorFail} {
		for _, v := range allVersions {
			t.Run(fmt.Sprintf("%d/%s", behavior, v), func(t *testing.T) {
				t.Parallel()
				want := behavior
				if v < wire.V7 {
					want = wire.BehaviorRetry
				}
				runJournalCase(t, v, journalCase{
					opts:    Options{JournalMismatchBehavior: behavior},
					journal: []wire.Message{sendCmd("123", 1, 0)},
					handler: func(s *script) {
						s.input()
						_, err := s.m.Send(greeter, []byte("456"), 0)
						s.fails(err, CodeJournalMismatch)
					},
					want: []out{o(&wire.ErrorMessage{Code: 570, RelatedCommandIndex: wire.Uint32(1),
						RelatedCommandType: wire.Uint32(uint32(wire.TypeOneWayCallCommand)), Behavior: want})},
				})
			})
		}
	}
}

func TestDifferInvocationIDResult(t *testing.T) {
	t.Parallel()
	var d differ
	d.result("result", wire.Result{Kind: wire.ResultInvocationID, InvocationID: "x"}, wire.Result{Kind: wire.ResultInvocationID, InvocationID: "y"})
	if want := []string{`result: journal "x", now "y"`}; len(d.diffs) != 1 || d.diffs[0] != want[0] {
		t.Errorf("diffs %q, want %q", d.diffs, want)
	}
}
