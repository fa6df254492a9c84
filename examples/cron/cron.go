// Package cron runs a job on a schedule with no scheduler: a virtual
// object per job that, each time it runs, sends itself the next run with a
// delay. Delayed sends are durable, so the schedule survives restarts of
// the service and of Restate; stopping cancels the pending run.
//
//	curl localhost:8080/Cron/report/start --json '{"intervalMillis": 5000, "times": 3}'
//	curl localhost:8080/Cron/report/status
//	curl -X POST localhost:8080/Cron/report/stop
package cron

import (
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// Schedule says how often a job runs, and how many times (0 = until
// stopped).
type Schedule struct {
	IntervalMillis int `json:"intervalMillis"`
	Times          int `json:"times,omitempty"`
}

// Status is a job's state.
type Status struct {
	Schedule Schedule `json:"schedule"`
	Active   bool     `json:"active"`
	Runs     int      `json:"runs"`
	// History holds the times of the last runs, at most 10.
	History []time.Time `json:"history"`
	// Next is the invocation id of the scheduled run, if any.
	Next string `json:"next,omitempty"`
}

// Cron is the example's virtual object and its handlers.
type Cron struct {
	Object *restate.Object
	Start  *restate.ObjectHandler[Schedule, Status]
	Tick   *restate.ObjectHandler[restate.Void, restate.Void]
	Stop   *restate.ObjectHandler[restate.Void, Status]
	Status *restate.SharedHandler[restate.Void, Status]
}

// status is the job's state, stored under one key.
var status = restate.NewStateKey[Status]("status")

// New returns the Cron virtual object. (Its handlers send to each other, so
// they are made in a function rather than as package variables, which
// could not refer to themselves.)
func New() *Cron {
	c := &Cron{}
	c.Start = restate.NewObjectHandler("start", c.start)
	c.Tick = restate.NewObjectHandler("tick", c.tick, restate.WithIngressPrivate())
	c.Stop = restate.NewObjectHandler("stop", restate.NoInput(c.stop))
	c.Status = restate.NewSharedHandler("status", restate.NoInput(func(ctx restate.ObjectSharedContext) (Status, error) {
		return status.Get(ctx)
	}))
	c.Object = restate.NewObject("Cron", c.Start, c.Tick, c.Stop, c.Status,
		restate.WithDocumentation("Jobs that reschedule themselves with delayed sends."))
	return c
}

func (c *Cron) start(ctx restate.ObjectContext, s Schedule) (Status, error) {
	st, err := status.Get(ctx)
	if err != nil {
		return Status{}, err
	}
	if st.Active {
		return st, &restate.TerminalError{Code: restate.CodePreconditionFailed, Message: "job " + ctx.Key() + " is already running"}
	}
	if s.IntervalMillis < 10 {
		return st, &restate.TerminalError{Code: 400, Message: "intervalMillis must be at least 10"}
	}
	st = Status{Schedule: s, Active: true}
	if err := c.scheduleNext(ctx, &st); err != nil {
		return Status{}, err
	}
	return st, status.Set(ctx, st)
}

// scheduleNext sends the next tick to this object after the interval and
// records its invocation id.
func (c *Cron) scheduleNext(ctx restate.ObjectContext, st *Status) error {
	d := time.Duration(st.Schedule.IntervalMillis) * time.Millisecond
	id, err := c.Tick.Send(ctx, ctx.Key(), restate.Void{}, restate.WithDelay(d)).ID()
	st.Next = id
	return err
}

func (c *Cron) tick(ctx restate.ObjectContext, _ restate.Void) (restate.Void, error) {
	st, err := status.Get(ctx)
	if err != nil || !st.Active || st.Next != ctx.Request().ID {
		// Stopped, or a tick of an earlier schedule: nothing to do.
		return restate.Void{}, err
	}
	// The job itself. A real one would call a service here; this one
	// records when it ran, journaled so that a retry sees the same time.
	now, err := restate.Now(ctx)
	if err != nil {
		return restate.Void{}, err
	}
	ctx.Log().Info("cron: job ran", "job", ctx.Key(), "run", st.Runs+1)
	st.Runs++
	st.History = append(st.History, now)
	if len(st.History) > 10 {
		st.History = st.History[len(st.History)-10:]
	}
	st.Next = ""
	if st.Schedule.Times > 0 && st.Runs >= st.Schedule.Times {
		st.Active = false
	} else if err := c.scheduleNext(ctx, &st); err != nil {
		return restate.Void{}, err
	}
	return restate.Void{}, status.Set(ctx, st)
}

func (c *Cron) stop(ctx restate.ObjectContext) (Status, error) {
	st, err := status.Get(ctx)
	if err != nil || !st.Active {
		return st, err
	}
	if st.Next != "" {
		if err := restate.CancelInvocation(ctx, st.Next); err != nil {
			return Status{}, err
		}
	}
	st.Active, st.Next = false, ""
	return st, status.Set(ctx, st)
}
