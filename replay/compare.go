package replay

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/qcodr/restate-sdk-go/wire"
)

// describe names a command the way a user reads it in an error message:
// `run "charge"`, `call Payments/refund`, `set state "cart"`.
func describe(msg wire.Message) string {
	switch c := msg.(type) {
	case *wire.InputCommand:
		return "handler input"
	case *wire.OutputCommand:
		if c.Result.Kind == wire.ResultFailure {
			return fmt.Sprintf("handler output (terminal failure %d)", c.Result.Failure.Code)
		}
		return "handler output"
	case *wire.GetEagerStateCommand:
		return "get state " + strconv.Quote(string(c.Key))
	case *wire.GetLazyStateCommand:
		return "get state " + strconv.Quote(string(c.Key))
	case *wire.GetEagerStateKeysCommand, *wire.GetLazyStateKeysCommand:
		return "get state keys"
	case *wire.SetStateCommand:
		return "set state " + strconv.Quote(string(c.Key))
	case *wire.ClearStateCommand:
		return "clear state " + strconv.Quote(string(c.Key))
	case *wire.ClearAllStateCommand:
		return "clear all state"
	case *wire.GetPromiseCommand:
		return "get promise " + strconv.Quote(c.Key)
	case *wire.PeekPromiseCommand:
		return "peek promise " + strconv.Quote(c.Key)
	case *wire.CompletePromiseCommand:
		return "complete promise " + strconv.Quote(c.Key)
	case *wire.SleepCommand:
		return named("sleep", c.Name)
	case *wire.CallCommand:
		return named("call "+target(c.ServiceName, c.Key, c.HandlerName), c.Name)
	case *wire.OneWayCallCommand:
		return named("send "+target(c.ServiceName, c.Key, c.HandlerName), c.Name)
	case *wire.SendSignalCommand:
		if c.SignalName != "" {
			return fmt.Sprintf("send signal %q to %s", c.SignalName, c.TargetInvocationID)
		}
		if c.Idx == wire.SignalCancel {
			return "cancel " + c.TargetInvocationID
		}
		return fmt.Sprintf("send signal %d to %s", c.Idx, c.TargetInvocationID)
	case *wire.RunCommand:
		if c.Name == "" {
			return "run"
		}
		return "run " + strconv.Quote(c.Name)
	case *wire.AttachInvocationCommand:
		return "attach to " + describeTarget(c.Target)
	case *wire.GetInvocationOutputCommand:
		return "get output of " + describeTarget(c.Target)
	case *wire.CompleteAwakeableCommand:
		if c.Result.Kind == wire.ResultFailure {
			return "reject awakeable " + c.AwakeableID
		}
		return "resolve awakeable " + c.AwakeableID
	}
	if msg == nil {
		return "nothing"
	}
	return msg.Type().String()
}

func named(what, name string) string {
	if name == "" {
		return what
	}
	return what + " " + strconv.Quote(name)
}

func target(service, key, handler string) string {
	if key == "" {
		return service + "/" + handler
	}
	return service + "/" + key + "/" + handler
}

func describeTarget(t wire.InvocationTarget) string {
	switch t.Kind {
	case wire.TargetInvocationID:
		return "invocation " + t.InvocationID
	case wire.TargetWorkflow:
		return "workflow " + t.Workflow.WorkflowName + "/" + t.Workflow.WorkflowKey
	case wire.TargetIdempotentRequest:
		r := t.IdempotentRequest
		key := ""
		if r.ServiceKey != nil {
			key = *r.ServiceKey
		}
		return fmt.Sprintf("%s with idempotency key %q", target(r.ServiceName, key, r.HandlerName), r.IdempotencyKey)
	}
	return "no target"
}

func commandName(msg wire.Message) string {
	switch c := msg.(type) {
	case *wire.InputCommand:
		return c.Name
	case *wire.OutputCommand:
		return c.Name
	case *wire.GetLazyStateCommand:
		return c.Name
	case *wire.SetStateCommand:
		return c.Name
	case *wire.ClearStateCommand:
		return c.Name
	case *wire.ClearAllStateCommand:
		return c.Name
	case *wire.GetLazyStateKeysCommand:
		return c.Name
	case *wire.GetEagerStateCommand:
		return c.Name
	case *wire.GetEagerStateKeysCommand:
		return c.Name
	case *wire.GetPromiseCommand:
		return c.Name
	case *wire.PeekPromiseCommand:
		return c.Name
	case *wire.CompletePromiseCommand:
		return c.Name
	case *wire.SleepCommand:
		return c.Name
	case *wire.CallCommand:
		return c.Name
	case *wire.OneWayCallCommand:
		return c.Name
	case *wire.SendSignalCommand:
		return c.EntryName
	case *wire.RunCommand:
		return c.Name
	case *wire.AttachInvocationCommand:
		return c.Name
	case *wire.GetInvocationOutputCommand:
		return c.Name
	case *wire.CompleteAwakeableCommand:
		return c.Name
	}
	return ""
}

// mismatch builds the 570 error for a journaled command that does not match
// what the handler issued now. diffs lists the fields that differ when the
// kinds agree.
func (m *Machine) mismatch(journal wire.Message, now wire.Message, diffs []string) *Error {
	var b strings.Builder
	if now == nil {
		fmt.Fprintf(&b, "journal mismatch at index %d: journal has %s, but the handler now returned", m.commandIndex, describe(journal))
	} else {
		fmt.Fprintf(&b, "journal mismatch at index %d: journal has %s, handler now issued %s", m.commandIndex, describe(journal), describe(now))
	}
	if len(diffs) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(diffs, "; "))
		b.WriteString(")")
	}
	b.WriteString(". The handler code is not deterministic or changed while this invocation was in flight")
	idx := uint32(max(m.commandIndex, 0))
	e := &Error{Code: CodeJournalMismatch, Message: b.String(), RelatedIndex: &idx}
	if now != nil {
		e.RelatedName = commandName(now)
		e.RelatedType = now.Type()
	} else if journal != nil {
		e.RelatedName = commandName(journal)
		e.RelatedType = journal.Type()
	}
	return e
}

type differ struct{ diffs []string }

func (d *differ) str(field, journal, now string) {
	if journal != now {
		d.diffs = append(d.diffs, fmt.Sprintf("%s: journal %s, now %s", field, quoteShort(journal), quoteShort(now)))
	}
}

func (d *differ) bytes(field string, journal, now []byte) {
	if !bytes.Equal(journal, now) {
		d.diffs = append(d.diffs, fmt.Sprintf("%s: journal %s, now %s", field, quoteShort(string(journal)), quoteShort(string(now))))
	}
}

func (d *differ) u32(field string, journal, now uint32) {
	if journal != now {
		d.diffs = append(d.diffs, fmt.Sprintf("%s: journal %d, now %d", field, journal, now))
	}
}

func (d *differ) optStr(field string, journal, now *string) {
	switch {
	case journal == nil && now == nil:
	case journal == nil:
		d.diffs = append(d.diffs, fmt.Sprintf("%s: journal unset, now %s", field, quoteShort(*now)))
	case now == nil:
		d.diffs = append(d.diffs, fmt.Sprintf("%s: journal %s, now unset", field, quoteShort(*journal)))
	default:
		d.str(field, *journal, *now)
	}
}

func (d *differ) headers(field string, journal, now []wire.HeaderEntry) {
	if len(journal) != len(now) {
		d.diffs = append(d.diffs, fmt.Sprintf("%s: journal has %d, now %d", field, len(journal), len(now)))
		return
	}
	for i := range journal {
		if journal[i] != now[i] {
			d.diffs = append(d.diffs, fmt.Sprintf("%s[%d]: journal %s=%s, now %s=%s", field, i,
				journal[i].Key, quoteShort(journal[i].Value), now[i].Key, quoteShort(now[i].Value)))
			return
		}
	}
}

func (d *differ) result(field string, journal, now wire.Result) {
	if journal.Kind != now.Kind {
		d.diffs = append(d.diffs, fmt.Sprintf("%s: journal %s, now %s", field, journal.Kind, now.Kind))
		return
	}
	switch journal.Kind {
	case wire.ResultValue:
		d.bytes(field, journal.Value, now.Value)
	case wire.ResultFailure:
		d.u32(field+" code", journal.Failure.Code, now.Failure.Code)
		d.str(field+" message", journal.Failure.Message, now.Failure.Message)
		if len(journal.Failure.Metadata) != len(now.Failure.Metadata) {
			d.diffs = append(d.diffs, field+" metadata differs")
			return
		}
		for i := range journal.Failure.Metadata {
			if journal.Failure.Metadata[i] != now.Failure.Metadata[i] {
				d.diffs = append(d.diffs, field+" metadata differs")
				return
			}
		}
	case wire.ResultInvocationID:
		d.str(field, journal.InvocationID, now.InvocationID)
	}
}

func (d *differ) target(field string, journal, now wire.InvocationTarget) {
	if journal.Kind != now.Kind {
		d.diffs = append(d.diffs, fmt.Sprintf("%s: journal %s, now %s", field, describeTarget(journal), describeTarget(now)))
		return
	}
	switch journal.Kind {
	case wire.TargetInvocationID:
		d.str(field, journal.InvocationID, now.InvocationID)
	case wire.TargetWorkflow:
		d.str(field+" workflow", journal.Workflow.WorkflowName, now.Workflow.WorkflowName)
		d.str(field+" key", journal.Workflow.WorkflowKey, now.Workflow.WorkflowKey)
		d.optStr(field+" scope", journal.Workflow.Scope, now.Workflow.Scope)
	case wire.TargetIdempotentRequest:
		j, n := journal.IdempotentRequest, now.IdempotentRequest
		d.str(field+" service", j.ServiceName, n.ServiceName)
		d.optStr(field+" key", j.ServiceKey, n.ServiceKey)
		d.str(field+" handler", j.HandlerName, n.HandlerName)
		d.str(field+" idempotency key", j.IdempotencyKey, n.IdempotencyKey)
		d.optStr(field+" scope", j.Scope, n.Scope)
	}
}

func quoteShort(s string) string {
	const limit = 64
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "…"
	}
	return strconv.Quote(s)
}

// compareCommand returns the differences between a journaled command and the
// one the handler issued now, following the protocol's replay table: the
// fields that are not compared (sleep's wake-up time, one-way call's invoke
// time, eager state results) are skipped. It returns nil when they match.
// Different message types are reported by the caller.
func compareCommand(journal, now wire.Message) []string {
	var d differ
	switch n := now.(type) {
	case *wire.OutputCommand:
		j := journal.(*wire.OutputCommand)
		d.result("result", j.Result, n.Result)
		d.str("name", j.Name, n.Name)
	case *wire.SetStateCommand:
		j := journal.(*wire.SetStateCommand)
		d.bytes("key", j.Key, n.Key)
		d.bytes("value", j.Value, n.Value)
		d.str("name", j.Name, n.Name)
	case *wire.ClearStateCommand:
		j := journal.(*wire.ClearStateCommand)
		d.bytes("key", j.Key, n.Key)
		d.str("name", j.Name, n.Name)
	case *wire.ClearAllStateCommand:
		j := journal.(*wire.ClearAllStateCommand)
		d.str("name", j.Name, n.Name)
	case *wire.GetPromiseCommand:
		j := journal.(*wire.GetPromiseCommand)
		d.str("key", j.Key, n.Key)
		d.u32("completion id", j.ResultCompletionID, n.ResultCompletionID)
		d.str("name", j.Name, n.Name)
	case *wire.PeekPromiseCommand:
		j := journal.(*wire.PeekPromiseCommand)
		d.str("key", j.Key, n.Key)
		d.u32("completion id", j.ResultCompletionID, n.ResultCompletionID)
		d.str("name", j.Name, n.Name)
	case *wire.CompletePromiseCommand:
		j := journal.(*wire.CompletePromiseCommand)
		d.str("key", j.Key, n.Key)
		d.result("completion", j.Completion, n.Completion)
		d.u32("completion id", j.ResultCompletionID, n.ResultCompletionID)
		d.str("name", j.Name, n.Name)
	case *wire.SleepCommand:
		j := journal.(*wire.SleepCommand)
		d.str("name", j.Name, n.Name)
	case *wire.CallCommand:
		j := journal.(*wire.CallCommand)
		d.str("service", j.ServiceName, n.ServiceName)
		d.str("handler", j.HandlerName, n.HandlerName)
		d.str("key", j.Key, n.Key)
		d.bytes("parameter", j.Parameter, n.Parameter)
		d.headers("headers", j.Headers, n.Headers)
		d.optStr("idempotency key", j.IdempotencyKey, n.IdempotencyKey)
		d.optStr("scope", j.Scope, n.Scope)
		d.optStr("limit key", j.LimitKey, n.LimitKey)
		d.u32("invocation id completion id", j.InvocationIDNotificationIdx, n.InvocationIDNotificationIdx)
		d.u32("completion id", j.ResultCompletionID, n.ResultCompletionID)
		d.str("name", j.Name, n.Name)
	case *wire.OneWayCallCommand:
		j := journal.(*wire.OneWayCallCommand)
		d.str("service", j.ServiceName, n.ServiceName)
		d.str("handler", j.HandlerName, n.HandlerName)
		d.str("key", j.Key, n.Key)
		d.bytes("parameter", j.Parameter, n.Parameter)
		d.headers("headers", j.Headers, n.Headers)
		d.optStr("idempotency key", j.IdempotencyKey, n.IdempotencyKey)
		d.optStr("scope", j.Scope, n.Scope)
		d.optStr("limit key", j.LimitKey, n.LimitKey)
		d.u32("invocation id completion id", j.InvocationIDNotificationIdx, n.InvocationIDNotificationIdx)
		d.str("name", j.Name, n.Name)
	case *wire.SendSignalCommand:
		j := journal.(*wire.SendSignalCommand)
		d.str("target", j.TargetInvocationID, n.TargetInvocationID)
		d.u32("signal", j.Idx, n.Idx)
		d.str("signal name", j.SignalName, n.SignalName)
		d.result("result", j.Result, n.Result)
		d.str("name", j.EntryName, n.EntryName)
	case *wire.RunCommand:
		j := journal.(*wire.RunCommand)
		d.u32("completion id", j.ResultCompletionID, n.ResultCompletionID)
		d.str("name", j.Name, n.Name)
	case *wire.AttachInvocationCommand:
		j := journal.(*wire.AttachInvocationCommand)
		d.target("target", j.Target, n.Target)
		d.u32("completion id", j.ResultCompletionID, n.ResultCompletionID)
		d.str("name", j.Name, n.Name)
	case *wire.GetInvocationOutputCommand:
		j := journal.(*wire.GetInvocationOutputCommand)
		d.target("target", j.Target, n.Target)
		d.u32("completion id", j.ResultCompletionID, n.ResultCompletionID)
		d.str("name", j.Name, n.Name)
	case *wire.CompleteAwakeableCommand:
		j := journal.(*wire.CompleteAwakeableCommand)
		d.str("awakeable id", j.AwakeableID, n.AwakeableID)
		d.result("result", j.Result, n.Result)
		d.str("name", j.Name, n.Name)
	}
	return d.diffs
}
