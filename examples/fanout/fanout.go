// Package fanout runs work concurrently: it starts calls and durable
// timers without waiting for them, then combines their futures with the
// typed combinators restate.All, restate.Any, restate.AsCompleted,
// restate.WithTimeout and restate.Map. Every combination is journaled, so a
// replay sees the same winners in the same order.
//
//	curl localhost:8080/FanOut/all --json '[{"name": "a", "millis": 300}, {"name": "b", "millis": 200}]'
package fanout

import (
	"fmt"
	"strings"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// Task is a unit of work for Worker/work: it takes Millis (on a durable
// timer) and fails terminally if Fail is set.
type Task struct {
	Name   string `json:"name"`
	Millis int    `json:"millis"`
	Fail   bool   `json:"fail,omitempty"`
}

// Work performs one task.
var Work = restate.NewHandler("work", func(ctx restate.Context, t Task) (string, error) {
	if err := restate.Sleep(ctx, time.Duration(t.Millis)*time.Millisecond); err != nil {
		return "", err
	}
	if t.Fail {
		return "", restate.TerminalErrorf("task %s failed", t.Name)
	}
	return strings.ToUpper(t.Name), nil
})

// Worker is the service doing the work.
var Worker = restate.NewService("Worker", Work)

// All runs every task at once and returns all results, in task order; it
// fails as soon as one task fails.
var All = restate.NewHandler("all", func(ctx restate.Context, tasks []Task) ([]string, error) {
	futs := make([]restate.Future[string], len(tasks))
	for i, t := range tasks {
		// Call starts the call and returns its future at once.
		call := Work.Call(ctx, t).Future
		// Map derives a future from another without waiting.
		futs[i] = restate.Map(call, func(s string) (string, error) { return t.Name + "=" + s, nil })
	}
	return restate.All(futs...).Await()
})

// First runs every task at once and returns the first successful result;
// it fails only if every task fails.
var First = restate.NewHandler("first", func(ctx restate.Context, tasks []Task) (string, error) {
	futs := make([]restate.Future[string], len(tasks))
	for i, t := range tasks {
		futs[i] = Work.Call(ctx, t).Future
	}
	return restate.Any(futs...).Await()
})

// DeadlineRequest is the input of deadline.
type DeadlineRequest struct {
	Tasks  []Task `json:"tasks"`
	Millis int    `json:"millis"`
}

// Report says which tasks finished before the deadline, in the order they
// finished, and which did not.
type Report struct {
	Done    []string `json:"done"`
	Late    []string `json:"late"`
	Elapsed string   `json:"elapsed"`
}

// Deadline runs every task at once next to a durable timer and reports
// the tasks that completed before the timer fired, in completion order.
// Tasks still running keep running; only this handler stops waiting.
var Deadline = restate.NewHandler("deadline", func(ctx restate.Context, req DeadlineRequest) (Report, error) {
	start, err := restate.Now(ctx)
	if err != nil {
		return Report{}, err
	}
	calls := make([]restate.CallFuture[string], len(req.Tasks))
	futs := make([]restate.Selectable, 0, len(req.Tasks)+1)
	for i, t := range req.Tasks {
		calls[i] = Work.Call(ctx, t)
		futs = append(futs, calls[i])
	}
	timer := restate.After(ctx, time.Duration(req.Millis)*time.Millisecond, restate.WithName("deadline"))
	futs = append(futs, timer)

	var r Report
	finished := make([]bool, len(calls))
	for i, err := range restate.AsCompleted(futs...) {
		if err != nil {
			return Report{}, err
		}
		if i == len(calls) { // the timer fired
			break
		}
		finished[i] = true
		if out, err := calls[i].Await(); err != nil {
			r.Done = append(r.Done, req.Tasks[i].Name+" failed: "+err.Error())
		} else {
			r.Done = append(r.Done, out)
		}
	}
	for i, t := range req.Tasks {
		if !finished[i] {
			r.Late = append(r.Late, t.Name)
		}
	}
	end, err := restate.Now(ctx)
	r.Elapsed = end.Sub(start).Round(100 * time.Millisecond).String()
	return r, err
})

// TimedTask is the input of withTimeout.
type TimedTask struct {
	Task          Task `json:"task"`
	TimeoutMillis int  `json:"timeoutMillis"`
}

// WithTimeout runs a task but waits at most the timeout for it.
var WithTimeout = restate.NewHandler("withTimeout", func(ctx restate.Context, in TimedTask) (string, error) {
	call := Work.Call(ctx, in.Task)
	out, err := restate.WithTimeout(ctx, call.Future, time.Duration(in.TimeoutMillis)*time.Millisecond).Await()
	if restate.ErrorCode(err) == 408 { // errors.Is(err, restate.ErrTimeout) works too
		id, idErr := call.InvocationID()
		if idErr != nil {
			return "", idErr
		}
		// Nobody waits for the result any more: cancel the call.
		if err := restate.CancelInvocation(ctx, id); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s timed out after %dms", in.Task.Name, in.TimeoutMillis), nil
	}
	return out, err
})

// FanOut is the service combining the work.
var FanOut = restate.NewService("FanOut", All, First, Deadline, WithTimeout,
	restate.WithDocumentation("Concurrent calls and timers, combined."))
