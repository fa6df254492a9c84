package sim

import (
	"errors"
	"fmt"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Commands returns the commands of a journal, in order.
func Commands(journal []wire.Message) []wire.Message {
	var out []wire.Message
	for _, e := range journal {
		if e.Type().IsCommand() {
			out = append(out, e)
		}
	}
	return out
}

// Mismatch replays the commands of issued (a journal, or the commands a
// handler wrote) against the commands of journal in a fresh engine, and
// returns the engine's journal mismatch error (code 570) for the first one
// that differs. Commands issued after the whole journal was replayed are a
// mismatch too: the journal has nothing there. It returns nil when issued
// re-issues exactly the journal's commands, which is what a deterministic
// handler does on every replay.
func Mismatch(v wire.Version, journal, issued []wire.Message) *replay.Error {
	recorded := Commands(journal)
	now := Commands(issued)
	m, err := invocation.Engine(&invocation.Config{
		Version: v,
		Options: replay.Options{DisableImplicitCancellation: true},
		Start:   &invocation.Start{},
		Journal: recorded,
	})
	if err != nil {
		return &replay.Error{Code: replay.CodeProtocolViolation, Message: fmt.Sprintf("the journal cannot be replayed: %v", err)}
	}
	if _, err := m.Input(); err != nil {
		return asEngineError(err)
	}
	for i, c := range now {
		if i == 0 {
			continue // the input is never compared
		}
		if !m.Replaying() {
			idx := uint32(i)
			return &replay.Error{
				Code:         replay.CodeJournalMismatch,
				Message:      fmt.Sprintf("journal mismatch at index %d: journal has nothing, handler now issued %s", i, Describe(c)),
				RelatedIndex: &idx,
				RelatedType:  c.Type(),
			}
		}
		if err := issue(m, c); err != nil {
			return asEngineError(err)
		}
	}
	if m.Replaying() {
		return asEngineError(m.End())
	}
	return nil
}

func asEngineError(err error) *replay.Error {
	if err == nil {
		return nil
	}
	var e *replay.Error
	if errors.As(err, &e) {
		return e
	}
	return &replay.Error{Code: replay.CodeInternal, Message: err.Error()}
}

// issue performs the operation that writes cmd.
func issue(m *replay.Machine, cmd wire.Message) error {
	var err error
	switch c := cmd.(type) {
	case *wire.OutputCommand:
		err = m.Output(c.Result)
	case *wire.GetEagerStateCommand:
		_, err = m.GetState(string(c.Key))
	case *wire.GetLazyStateCommand:
		_, err = m.GetState(string(c.Key))
	case *wire.GetEagerStateKeysCommand, *wire.GetLazyStateKeysCommand:
		_, err = m.GetStateKeys()
	case *wire.SetStateCommand:
		err = m.SetState(string(c.Key), c.Value)
	case *wire.ClearStateCommand:
		err = m.ClearState(string(c.Key))
	case *wire.ClearAllStateCommand:
		err = m.ClearAllState()
	case *wire.GetPromiseCommand:
		_, err = m.GetPromise(c.Key)
	case *wire.PeekPromiseCommand:
		_, err = m.PeekPromise(c.Key)
	case *wire.CompletePromiseCommand:
		_, err = m.CompletePromise(c.Key, c.Completion)
	case *wire.SleepCommand:
		_, err = m.Sleep(c.WakeUpTime, c.Name)
	case *wire.CallCommand:
		_, _, err = m.Call(replay.CallTarget{
			Service: c.ServiceName, Handler: c.HandlerName, Key: c.Key, IdempotencyKey: c.IdempotencyKey,
			Scope: c.Scope, LimitKey: c.LimitKey, Headers: c.Headers, Name: c.Name,
		}, c.Parameter)
	case *wire.OneWayCallCommand:
		_, err = m.Send(replay.CallTarget{
			Service: c.ServiceName, Handler: c.HandlerName, Key: c.Key, IdempotencyKey: c.IdempotencyKey,
			Scope: c.Scope, LimitKey: c.LimitKey, Headers: c.Headers, Name: c.Name,
		}, c.Parameter, c.InvokeTime)
	case *wire.SendSignalCommand:
		if c.SignalName == "" && c.Idx == wire.SignalCancel {
			err = m.CancelInvocation(c.TargetInvocationID)
		} else {
			err = m.SendSignal(c.TargetInvocationID, c.SignalName, c.Result)
		}
	case *wire.RunCommand:
		_, _, err = m.Run(c.Name)
	case *wire.AttachInvocationCommand:
		_, err = m.Attach(c.Target)
	case *wire.GetInvocationOutputCommand:
		_, err = m.GetInvocationOutput(c.Target)
	case *wire.CompleteAwakeableCommand:
		err = m.CompleteAwakeable(c.AwakeableID, c.Result)
	default:
		err = fmt.Errorf("sim: cannot issue %s", cmd.Type())
	}
	return err
}
