// Package journaltest runs a handler against a canned journal through the
// real engine, in request/response mode: the way the runtime re-invokes a
// handler with the journal it stored. Tests and examples use it to show
// what a handler writes without a server.
package journaltest

import (
	"context"
	"fmt"
	"strings"

	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Attempt describes one attempt: the start message fields and the journal.
type Attempt struct {
	Version wire.Version // default V6
	Key     string
	State   map[string]string // eager state; nil with Lazy means none
	Lazy    bool              // partial state: reads the journal does not answer become lazy gets
	Seed    uint64
	Journal []wire.Message // starting with the input command
}

// InvocationID is the binary invocation id used by Run (the one of the
// protocol specification's worked example).
var InvocationID = []byte{0, 0, 0, 0, 0, 0, 0, 0x2a, 0x01, 0x96, 0xf1, 0xc2, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8, 0x09, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}

// DebugID is the printable invocation id used by Run.
const DebugID = "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"

// Run runs handler of svc for one attempt and returns the frames it wrote.
func Run(svc *endpoint.Service, handler string, a Attempt) ([]wire.Message, error) {
	h := svc.Handler(handler)
	if h == nil {
		return nil, fmt.Errorf("journaltest: no handler %s/%s", svc.Name, handler)
	}
	if a.Version == 0 {
		a.Version = wire.V6
	}
	var state map[string][]byte
	if len(a.State) > 0 {
		state = make(map[string][]byte, len(a.State))
		for k, v := range a.State {
			state[k] = []byte(v)
		}
	}
	var out []byte
	inv := invocation.New(context.Background(), invocation.Config{
		Version:    a.Version,
		Start:      &invocation.Start{ID: InvocationID, DebugID: DebugID, Key: a.Key, Seed: a.Seed, State: state, Eager: !a.Lazy && a.State != nil},
		Journal:    a.Journal,
		CloseInput: true,
		Output: invocation.OutputFunc(func(frames []byte) error {
			out = append(out, frames...)
			return nil
		}),
	})
	if !inv.Ready() {
		inv.Reject()
	} else {
		inv.Run(h.Invoke)
	}
	return Decode(out)
}

// Decode splits frames into messages.
func Decode(b []byte) ([]wire.Message, error) {
	d := wire.NewDecoder(0)
	d.Write(b)
	var msgs []wire.Message
	for {
		f, ok, err := d.Next()
		if err != nil {
			return msgs, err
		}
		if !ok {
			return msgs, nil
		}
		m, err := f.Decode()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}

// Input returns the input command carrying a JSON-encoded value.
func Input(json string) *wire.InputCommand {
	return &wire.InputCommand{Value: []byte(json)}
}

// Format renders messages one per line, for Example output.
func Format(msgs []wire.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(Describe(m))
		b.WriteByte('\n')
	}
	return b.String()
}

// Describe renders one message briefly.
func Describe(m wire.Message) string {
	switch m := m.(type) {
	case *wire.OutputCommand:
		if m.Result.Kind == wire.ResultFailure {
			return fmt.Sprintf("output: failure %d %q", m.Result.Failure.Code, m.Result.Failure.Message)
		}
		return fmt.Sprintf("output: %s", m.Result.Value)
	case *wire.EndMessage:
		return "end"
	case *wire.SuspensionMessage:
		return fmt.Sprintf("suspend: completions %v signals %v named %v", m.WaitingCompletions, m.WaitingSignals, m.WaitingNamedSignals)
	case *wire.ErrorMessage:
		return fmt.Sprintf("error %d: %s", m.Code, m.Message)
	case *wire.RunCommand:
		return fmt.Sprintf("run %q (completion %d)", m.Name, m.ResultCompletionID)
	case *wire.ProposeRunCompletionMessage:
		if m.Result.Kind == wire.ResultFailure {
			return fmt.Sprintf("propose run %d: failure %d %q", m.ResultCompletionID, m.Result.Failure.Code, m.Result.Failure.Message)
		}
		return fmt.Sprintf("propose run %d: %s", m.ResultCompletionID, m.Result.Value)
	case *wire.SleepCommand:
		return fmt.Sprintf("sleep (completion %d)", m.ResultCompletionID)
	case *wire.CallCommand:
		return fmt.Sprintf("call %s/%s key %q: %s", m.ServiceName, m.HandlerName, m.Key, m.Parameter)
	case *wire.OneWayCallCommand:
		return fmt.Sprintf("send %s/%s key %q: %s", m.ServiceName, m.HandlerName, m.Key, m.Parameter)
	case *wire.SetStateCommand:
		return fmt.Sprintf("set %s = %s", m.Key, m.Value)
	case *wire.GetEagerStateCommand:
		if m.Result.Kind == wire.ResultVoid {
			return fmt.Sprintf("get %s (eager): none", m.Key)
		}
		return fmt.Sprintf("get %s (eager): %s", m.Key, m.Result.Value)
	case *wire.GetLazyStateCommand:
		return fmt.Sprintf("get %s (lazy, completion %d)", m.Key, m.ResultCompletionID)
	case *wire.ClearStateCommand:
		return fmt.Sprintf("clear %s", m.Key)
	case *wire.ClearAllStateCommand:
		return "clear all"
	case *wire.GetPromiseCommand:
		return fmt.Sprintf("get promise %q (completion %d)", m.Key, m.ResultCompletionID)
	case *wire.SendSignalCommand:
		if m.SignalName == "" {
			return fmt.Sprintf("send signal %d to %s", m.Idx, m.TargetInvocationID)
		}
		return fmt.Sprintf("send signal %q to %s", m.SignalName, m.TargetInvocationID)
	case *wire.CompleteAwakeableCommand:
		return fmt.Sprintf("complete awakeable %s", m.AwakeableID)
	}
	return m.Type().String()
}
