package services

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// Awaitable is an awaitable command of VirtualObjectCommandInterpreter:
// each creates one durable future whose value is a string.
type Awaitable struct {
	// Type is createAwakeable, sleep, runReturns,
	// runThrowTerminalException or createSignal.
	Type          string `json:"type"`
	AwakeableKey  string `json:"awakeableKey,omitempty"`
	TimeoutMillis int64  `json:"timeoutMillis,omitempty"`
	Value         string `json:"value,omitempty"`
	Reason        string `json:"reason,omitempty"`
	SignalName    string `json:"signalName,omitempty"`
}

// InterpreterCommand is a command of VirtualObjectCommandInterpreter; its
// Type selects which other fields apply.
type InterpreterCommand struct {
	Type          string      `json:"type"`
	Command       *Awaitable  `json:"command,omitempty"`
	Commands      []Awaitable `json:"commands,omitempty"`
	AwakeableKey  string      `json:"awakeableKey,omitempty"`
	TimeoutMillis int64       `json:"timeoutMillis,omitempty"`
	Value         string      `json:"value,omitempty"`
	Reason        string      `json:"reason,omitempty"`
	EnvName       string      `json:"envName,omitempty"`
}

// InterpretRequest is the input of interpretCommands.
type InterpretRequest struct {
	Commands []InterpreterCommand `json:"commands"`
}

// ResolveAwakeableRequest is the input of the shared resolveAwakeable.
type ResolveAwakeableRequest struct {
	AwakeableKey string `json:"awakeableKey"`
	Value        string `json:"value"`
}

// RejectAwakeableRequest is the input of the shared rejectAwakeable.
type RejectAwakeableRequest struct {
	AwakeableKey string `json:"awakeableKey"`
	Reason       string `json:"reason"`
}

var resultsState = restate.NewStateKey[[]string]("results")

// awakeableState is where the id of the awakeable created for key is kept.
func awakeableState(key string) restate.StateKey[string] {
	return restate.NewStateKey[string]("awk-" + key)
}

// createAwakeable creates an awakeable and stores its id for key.
func createAwakeable(ctx restate.ObjectContext, key string) (restate.Future[string], error) {
	awk := restate.NewAwakeable[string](ctx)
	return awk.Future, awakeableState(key).Set(ctx, awk.ID())
}

// future starts the durable operation of an awaitable command.
func (a Awaitable) future(ctx restate.ObjectContext) (restate.Future[string], error) {
	switch a.Type {
	case "createAwakeable":
		return createAwakeable(ctx, a.AwakeableKey)
	case "sleep":
		timer := restate.After(ctx, time.Duration(a.TimeoutMillis)*time.Millisecond)
		return restate.Map(timer, func(restate.Void) (string, error) { return "sleep", nil }), nil
	case "runReturns":
		return restate.RunAsync(ctx, func(restate.RunContext) (string, error) {
			time.Sleep(time.Millisecond) // some real work
			return a.Value, nil
		}), nil
	case "runThrowTerminalException":
		return restate.RunAsync(ctx, func(restate.RunContext) (string, error) {
			return "", &restate.TerminalError{Message: a.Reason}
		}), nil
	case "createSignal":
		return restate.Signal[string](ctx, a.SignalName), nil
	}
	return restate.Future[string]{}, restate.TerminalErrorf("unknown awaitable command type %q", a.Type)
}

// futures starts the operations of cmds, in order.
func futures(ctx restate.ObjectContext, cmds []Awaitable) ([]restate.Future[string], error) {
	out := make([]restate.Future[string], len(cmds))
	for i, c := range cmds {
		f, err := c.future(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// completeStoredAwakeable resolves (reason == nil) or rejects the awakeable
// stored for key.
func completeStoredAwakeable(ctx restate.ObjectSharedContext, key, value string, reason error) error {
	id, ok, err := awakeableState(key).Lookup(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return restate.TerminalErrorf("no awakeable is registered for %q", key)
	}
	if reason != nil {
		return restate.RejectAwakeable(ctx, id, reason)
	}
	return restate.ResolveAwakeable(ctx, id, value)
}

// interpret executes one command and returns its result.
func (c InterpreterCommand) interpret(ctx restate.ObjectContext) (string, error) {
	switch c.Type {
	case "awaitOne":
		if c.Command == nil {
			return "", restate.TerminalErrorf("awaitOne without a command")
		}
		f, err := c.Command.future(ctx)
		if err != nil {
			return "", err
		}
		return f.Await()
	case "awaitAny", "awaitFirstCompleted":
		fs, err := futures(ctx, c.Commands)
		if err != nil {
			return "", err
		}
		return restate.Race(fs...).Await()
	case "awaitAnySuccessful", "awaitFirstSucceededOrAllFailed":
		fs, err := futures(ctx, c.Commands)
		if err != nil {
			return "", err
		}
		return restate.Any(fs...).Await()
	case "awaitAllSucceededOrFirstFailed":
		fs, err := futures(ctx, c.Commands)
		if err != nil {
			return "", err
		}
		vs, err := restate.All(fs...).Await()
		return strings.Join(vs, "|"), err
	case "awaitAllCompleted":
		fs, err := futures(ctx, c.Commands)
		if err != nil {
			return "", err
		}
		sel := make([]restate.Selectable, len(fs))
		for i, f := range fs {
			sel[i] = f
		}
		if _, err := restate.AllSettled(sel...).Await(); err != nil {
			return "", err
		}
		parts := make([]string, len(fs))
		for i, f := range fs {
			v, err := f.Await()
			var te *restate.TerminalError
			switch {
			case errors.As(err, &te):
				parts[i] = "err:" + te.Error()
			case err != nil:
				return "", err
			default:
				parts[i] = "ok:" + v
			}
		}
		return strings.Join(parts, "|"), nil
	case "awaitAwakeableOrTimeout":
		awk, err := createAwakeable(ctx, c.AwakeableKey)
		if err != nil {
			return "", err
		}
		v, err := restate.WithTimeout(ctx, awk, time.Duration(c.TimeoutMillis)*time.Millisecond).Await()
		if errors.Is(err, restate.ErrTimeout) {
			return "", restate.TerminalErrorf("await-timeout")
		}
		return v, err
	case "resolveAwakeable":
		return "", completeStoredAwakeable(ctx, c.AwakeableKey, c.Value, nil)
	case "rejectAwakeable":
		return "", completeStoredAwakeable(ctx, c.AwakeableKey, "", &restate.TerminalError{Message: c.Reason})
	case "getEnvVariable":
		name := c.EnvName
		return restate.Run(ctx, func(restate.RunContext) (string, error) { return os.Getenv(name), nil })
	}
	return "", restate.TerminalErrorf("unknown command type %q", c.Type)
}

// VirtualObjectCommandInterpreter is a virtual object that interprets
// commands creating and combining durable futures (awakeables, timers,
// runs, signals), recording each command's result under "results".
var VirtualObjectCommandInterpreter = restate.NewObject("VirtualObjectCommandInterpreter",
	restate.NewObjectHandler("interpretCommands", func(ctx restate.ObjectContext, req InterpretRequest) (string, error) {
		last := ""
		for i, c := range req.Commands {
			res, err := c.interpret(ctx)
			if err != nil {
				if restate.IsTerminal(err) {
					return "", err
				}
				return "", fmt.Errorf("command %d (%s): %w", i, c.Type, err)
			}
			results, err := resultsState.Get(ctx)
			if err != nil {
				return "", err
			}
			if err := resultsState.Set(ctx, append(results, res)); err != nil {
				return "", err
			}
			last = res
		}
		return last, nil
	}),
	restate.NewSharedHandler("resolveAwakeable", restate.NoOutput(func(ctx restate.ObjectSharedContext, r ResolveAwakeableRequest) error {
		return completeStoredAwakeable(ctx, r.AwakeableKey, r.Value, nil)
	})),
	restate.NewSharedHandler("rejectAwakeable", restate.NoOutput(func(ctx restate.ObjectSharedContext, r RejectAwakeableRequest) error {
		return completeStoredAwakeable(ctx, r.AwakeableKey, "", &restate.TerminalError{Message: r.Reason})
	})),
	restate.NewSharedHandler("hasAwakeable", func(ctx restate.ObjectSharedContext, key string) (bool, error) {
		_, ok, err := awakeableState(key).Lookup(ctx)
		return ok, err
	}),
	restate.NewSharedHandler("getResults", restate.NoInput(func(ctx restate.ObjectSharedContext) ([]string, error) {
		results, err := resultsState.Get(ctx)
		if results == nil {
			results = []string{}
		}
		return results, err
	})),
)
