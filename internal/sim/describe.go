package sim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/qcodr/restate-sdk-go/wire"
)

// Describe names a journal entry the way the engine's error messages do
// (`run "charge"`, `call Payments/refund`, `set state "cart"`), followed by
// its completion ids and, for notifications and results, a short form of the
// value. Reports of the property harness print journals with it.
func Describe(msg wire.Message) string {
	switch c := msg.(type) {
	case nil:
		return "nothing"
	case *wire.InputCommand:
		return "handler input " + quoteShort(string(c.Value))
	case *wire.OutputCommand:
		return "handler output " + describeResult(c.Result)
	case *wire.GetEagerStateCommand:
		return fmt.Sprintf("get state %q (eager) = %s", c.Key, describeResult(c.Result))
	case *wire.GetLazyStateCommand:
		return fmt.Sprintf("get state %q (lazy) [completion %d]", c.Key, c.ResultCompletionID)
	case *wire.GetEagerStateKeysCommand:
		return "get state keys (eager) = " + describeKeys(c.Keys)
	case *wire.GetLazyStateKeysCommand:
		return fmt.Sprintf("get state keys (lazy) [completion %d]", c.ResultCompletionID)
	case *wire.SetStateCommand:
		return fmt.Sprintf("set state %q = %s", c.Key, quoteShort(string(c.Value)))
	case *wire.ClearStateCommand:
		return fmt.Sprintf("clear state %q", c.Key)
	case *wire.ClearAllStateCommand:
		return "clear all state"
	case *wire.GetPromiseCommand:
		return fmt.Sprintf("get promise %q [completion %d]", c.Key, c.ResultCompletionID)
	case *wire.PeekPromiseCommand:
		return fmt.Sprintf("peek promise %q [completion %d]", c.Key, c.ResultCompletionID)
	case *wire.CompletePromiseCommand:
		return fmt.Sprintf("complete promise %q with %s [completion %d]", c.Key, describeResult(c.Completion), c.ResultCompletionID)
	case *wire.SleepCommand:
		return fmt.Sprintf("%s [completion %d]", named("sleep", c.Name), c.ResultCompletionID)
	case *wire.CallCommand:
		return fmt.Sprintf("%s with %s [completions %d, %d]", named("call "+target(c.ServiceName, c.Key, c.HandlerName), c.Name),
			quoteShort(string(c.Parameter)), c.InvocationIDNotificationIdx, c.ResultCompletionID)
	case *wire.OneWayCallCommand:
		return fmt.Sprintf("%s with %s [completion %d]", named("send "+target(c.ServiceName, c.Key, c.HandlerName), c.Name),
			quoteShort(string(c.Parameter)), c.InvocationIDNotificationIdx)
	case *wire.SendSignalCommand:
		switch {
		case c.SignalName != "":
			return fmt.Sprintf("send signal %q to %s: %s", c.SignalName, c.TargetInvocationID, describeResult(c.Result))
		case c.Idx == wire.SignalCancel:
			return "cancel " + c.TargetInvocationID
		}
		return fmt.Sprintf("send signal %d to %s: %s", c.Idx, c.TargetInvocationID, describeResult(c.Result))
	case *wire.RunCommand:
		return fmt.Sprintf("%s [completion %d]", named("run", c.Name), c.ResultCompletionID)
	case *wire.AttachInvocationCommand:
		return fmt.Sprintf("attach to %s [completion %d]", describeTarget(c.Target), c.ResultCompletionID)
	case *wire.GetInvocationOutputCommand:
		return fmt.Sprintf("get output of %s [completion %d]", describeTarget(c.Target), c.ResultCompletionID)
	case *wire.CompleteAwakeableCommand:
		return fmt.Sprintf("complete awakeable %s with %s", c.AwakeableID, describeResult(c.Result))
	case *wire.Notification:
		return fmt.Sprintf("%s %s = %s", notificationKind(c.MessageType), c.ID, describeResult(c.Result))
	case *wire.ProposeRunCompletionMessage:
		return fmt.Sprintf("propose run completion %d = %s", c.ResultCompletionID, describeResult(c.Result))
	case *wire.ProposeRunCompletionAckMessage:
		return fmt.Sprintf("ack run completion %d", c.CompletionID)
	case *wire.SuspensionMessage:
		return "suspend awaiting " + describeAwaited(awaitedOf(c))
	case *wire.ErrorMessage:
		return fmt.Sprintf("error [%d] %s", c.Code, c.Message)
	case *wire.EndMessage:
		return "end"
	case *wire.AwaitingOnMessage:
		if c.AwaitingOn == nil {
			return "awaiting on nothing"
		}
		return "awaiting on " + describeAwaited(flattenFuture(c.AwaitingOn, nil))
	}
	return msg.Type().String()
}

func notificationKind(t wire.Type) string {
	switch t {
	case wire.TypeGetLazyStateCompletion:
		return "state"
	case wire.TypeGetLazyStateKeysCompletion:
		return "state keys"
	case wire.TypeGetPromiseCompletion:
		return "promise"
	case wire.TypePeekPromiseCompletion:
		return "peeked promise"
	case wire.TypeCompletePromiseCompletion:
		return "completed promise"
	case wire.TypeSleepCompletion:
		return "timer fired:"
	case wire.TypeCallCompletion:
		return "call result"
	case wire.TypeCallInvocationIDCompletion:
		return "call invocation id"
	case wire.TypeRunCompletion:
		return "run result"
	case wire.TypeAttachInvocationCompletion:
		return "attach result"
	case wire.TypeGetInvocationOutputCompletion:
		return "invocation output"
	case wire.TypeSignalNotification:
		return "signal:"
	}
	return t.String()
}

func describeResult(r wire.Result) string {
	switch r.Kind {
	case wire.ResultVoid:
		return "void"
	case wire.ResultValue:
		return quoteShort(string(r.Value))
	case wire.ResultFailure:
		return fmt.Sprintf("failure %d %s", r.Failure.Code, quoteShort(r.Failure.Message))
	case wire.ResultInvocationID:
		return r.InvocationID
	case wire.ResultStateKeys:
		return describeKeys(r.StateKeys)
	}
	return "none"
}

func describeKeys(keys [][]byte) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = strconv.Quote(string(k))
	}
	return "[" + strings.Join(s, " ") + "]"
}

func describeAwaited(ids []wire.NotificationID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ", ")
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

func quoteShort(s string) string {
	const limit = 48
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "…"
	}
	return strconv.Quote(s)
}

// awaitedOf returns the notification ids a suspension waits for, in the
// order they appear (V7 trees flattened).
func awaitedOf(s *wire.SuspensionMessage) []wire.NotificationID {
	var ids []wire.NotificationID
	for _, c := range s.WaitingCompletions {
		ids = append(ids, wire.CompletionID(c))
	}
	for _, c := range s.WaitingSignals {
		ids = append(ids, wire.SignalID(c))
	}
	for _, n := range s.WaitingNamedSignals {
		ids = append(ids, wire.NamedSignalID(n))
	}
	if s.AwaitingOn != nil {
		ids = flattenFuture(s.AwaitingOn, ids)
	}
	return ids
}

func flattenFuture(f *wire.Future, ids []wire.NotificationID) []wire.NotificationID {
	for _, c := range f.WaitingCompletions {
		ids = append(ids, wire.CompletionID(c))
	}
	for _, c := range f.WaitingSignals {
		ids = append(ids, wire.SignalID(c))
	}
	for _, n := range f.WaitingNamedSignals {
		ids = append(ids, wire.NamedSignalID(n))
	}
	for i := range f.NestedFutures {
		ids = flattenFuture(&f.NestedFutures[i], ids)
	}
	return ids
}
