// Package services puts the three kinds of Restate services together in a
// user signup:
//
//   - Mailer, a stateless service: it sends emails, each send a durable
//     side effect.
//
//   - Users, a virtual object keyed by user id: the user's profile, in
//     durable state, changed by one handler at a time.
//
//   - Signup, a workflow keyed by user id: it creates the user, emails a
//     confirmation code and waits — durably, for as long as the link is
//     valid — on a durable promise that its shared handlers complete: verify
//     resolves it with the right code, abandon rejects it, status peeks at
//     it.
//
//     curl localhost:8080/Signup/u1/run/send --json '{"name": "Ann", "email": "ann@example.com"}'
//     curl localhost:8080/Signup/u1/status
//     curl localhost:8080/Signup/u1/verify --json '"<code from the email>"'
//     curl localhost:8080/restate/workflow/Signup/u1/attach
package services

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// Email is a message for Mailer/send.
type Email struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Outbox delivers emails: an SMTP client or an email API in real life.
type Outbox func(ctx context.Context, e Email) error

// User is a profile stored by Users.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Verified bool   `json:"verified"`
}

// SignupRequest is the input of the Signup workflow.
type SignupRequest struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// LinkValidityMillis is how long the confirmation code stays valid;
	// 0 means a day.
	LinkValidityMillis int `json:"linkValidityMillis,omitempty"`
}

// SignupStatus is what Signup/status reports.
type SignupStatus struct {
	// Stage is one of: creating, email-sent, verified, expired, abandoned.
	Stage string `json:"stage"`
	// Confirmed is true once the address is confirmed.
	Confirmed bool `json:"confirmed"`
}

// App holds the example's services and handlers.
type App struct {
	Mailer *restate.Service
	Send   *restate.Handler[Email, restate.Void]

	Users        *restate.Object
	Create       *restate.ObjectHandler[User, User]
	Get          *restate.SharedHandler[restate.Void, User]
	MarkVerified *restate.ObjectHandler[restate.Void, User]

	Signup  *restate.Workflow
	Run     *restate.WorkflowHandler[SignupRequest, User]
	Verify  *restate.WorkflowSharedHandler[string, bool]
	Abandon *restate.WorkflowSharedHandler[string, restate.Void]
	Status  *restate.WorkflowSharedHandler[restate.Void, SignupStatus]
}

// Definitions returns the three services, to serve together.
func (a *App) Definitions() []restate.ServiceDefinition {
	return []restate.ServiceDefinition{a.Mailer, a.Users, a.Signup}
}

var (
	profile = restate.NewStateKey[User]("profile")
	code    = restate.NewStateKey[string]("code")
	stage   = restate.NewStateKey[string]("stage")
)

// confirmed is the name of the Signup workflow's durable promise.
const confirmed = "email-confirmed"

// New returns the services, delivering emails through outbox.
func New(outbox Outbox) *App {
	a := &App{}

	a.Send = restate.NewHandler("send", restate.NoOutput(func(ctx restate.Context, e Email) error {
		// Delivered once per send, even if this handler is retried.
		return restate.RunVoid(ctx, func(rc restate.RunContext) error { return outbox(rc, e) },
			restate.WithName("deliver"))
	}))
	a.Mailer = restate.NewService("Mailer", a.Send)

	a.Create = restate.NewObjectHandler("create", func(ctx restate.ObjectContext, u User) (User, error) {
		_, exists, err := profile.Lookup(ctx)
		if err != nil {
			return User{}, err
		}
		if exists {
			return User{}, &restate.TerminalError{Code: restate.CodePreconditionFailed, Message: "user " + ctx.Key() + " already exists"}
		}
		u.ID, u.Verified = ctx.Key(), false
		return u, profile.Set(ctx, u)
	})
	a.Get = restate.NewSharedHandler("get", restate.NoInput(func(ctx restate.ObjectSharedContext) (User, error) {
		u, ok, err := profile.Lookup(ctx)
		if err == nil && !ok {
			err = &restate.TerminalError{Code: 404, Message: "no user " + ctx.Key()}
		}
		return u, err
	}))
	a.MarkVerified = restate.NewObjectHandler("markVerified", restate.NoInput(func(ctx restate.ObjectContext) (User, error) {
		u, err := profile.Get(ctx)
		if err != nil {
			return User{}, err
		}
		u.Verified = true
		return u, profile.Set(ctx, u)
	}))
	a.Users = restate.NewObject("Users", a.Create, a.Get, a.MarkVerified)

	a.Run = restate.NewWorkflowHandler("run", a.signup)
	a.Verify = restate.NewWorkflowSharedHandler("verify", verify)
	a.Abandon = restate.NewWorkflowSharedHandler("abandon", restate.NoOutput(func(ctx restate.WorkflowSharedContext, reason string) error {
		return restate.Promise[bool](ctx, confirmed).Reject(&restate.TerminalError{Code: 410, Message: "abandoned: " + reason})
	}))
	a.Status = restate.NewWorkflowSharedHandler("status", restate.NoInput(signupStatus))
	a.Signup = restate.NewWorkflow("Signup", a.Run, a.Verify, a.Abandon, a.Status,
		restate.WithDocumentation("Creates a user and confirms their email address."),
		restate.WithWorkflowRetention(24*time.Hour))
	return a
}

func (a *App) signup(ctx restate.WorkflowContext, req SignupRequest) (User, error) {
	if err := stage.Set(ctx, "creating"); err != nil {
		return User{}, err
	}
	if _, err := a.Create.Call(ctx, ctx.Key(), User{Name: req.Name, Email: req.Email}).Await(); err != nil {
		return User{}, err
	}
	// A random code, the same on every replay.
	secret := restate.UUID(ctx)
	if err := code.Set(ctx, secret); err != nil {
		return User{}, err
	}
	validity := time.Duration(req.LinkValidityMillis) * time.Millisecond
	if validity <= 0 {
		validity = 24 * time.Hour
	}
	_, err := a.Send.Call(ctx, Email{
		To:      req.Email,
		Subject: "Confirm your address",
		Body:    fmt.Sprintf("Hi %s, your confirmation code is %s (valid for %s).", req.Name, secret, validity),
	}).Await()
	if err != nil {
		return User{}, err
	}
	if err := stage.Set(ctx, "email-sent"); err != nil {
		return User{}, err
	}

	// The workflow suspends here; nothing runs until verify or abandon
	// completes the promise, or the timer fires.
	_, err = restate.WithTimeout(ctx, restate.Promise[bool](ctx, confirmed).Result(), validity).Await()
	switch {
	case errors.Is(err, restate.ErrTimeout):
		if err := stage.Set(ctx, "expired"); err != nil {
			return User{}, err
		}
		return User{}, &restate.TerminalError{Code: 408, Message: "the confirmation code expired"}
	case err != nil: // rejected by abandon
		if err := stage.Set(ctx, "abandoned"); err != nil {
			return User{}, err
		}
		return User{}, err
	}
	user, err := a.MarkVerified.Call(ctx, ctx.Key(), restate.Void{}).Await()
	if err != nil {
		return User{}, err
	}
	return user, stage.Set(ctx, "verified")
}

// verify resolves the promise if the code is right. Shared handlers run
// while the run handler waits; they can read the workflow's state.
func verify(ctx restate.WorkflowSharedContext, attempt string) (bool, error) {
	secret, err := code.Get(ctx)
	if err != nil || secret == "" || strings.TrimSpace(attempt) != secret {
		return false, err
	}
	p := restate.Promise[bool](ctx, confirmed)
	done, err := p.Peek().Await()
	if err != nil || done.Ok { // confirmed already
		return err == nil, err
	}
	return true, p.Resolve(true)
}

func signupStatus(ctx restate.WorkflowSharedContext) (SignupStatus, error) {
	s, err := stage.Get(ctx)
	if err != nil {
		return SignupStatus{}, err
	}
	// Peek does not wait: Ok is false while the promise is pending.
	done, err := restate.Promise[bool](ctx, confirmed).Peek().Await()
	if restate.IsTerminal(err) { // rejected
		return SignupStatus{Stage: s}, nil
	}
	return SignupStatus{Stage: s, Confirmed: done.Ok && done.Value}, err
}

// MemoryOutbox keeps emails in memory, for tests and demos. It is safe for
// concurrent use.
type MemoryOutbox struct {
	mu   sync.Mutex
	sent []Email
}

// Deliver is an [Outbox].
func (o *MemoryOutbox) Deliver(_ context.Context, e Email) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, e)
	return nil
}

// Sent returns the emails sent to the address to.
func (o *MemoryOutbox) Sent(to string) []Email {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Email
	for _, e := range o.sent {
		if e.To == to {
			out = append(out, e)
		}
	}
	return out
}

// Code extracts the confirmation code from a signup email.
func Code(e Email) string {
	_, rest, _ := strings.Cut(e.Body, "code is ")
	c, _, _ := strings.Cut(rest, " ")
	return c
}
