package ingress

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	restate "github.com/qcodr/restate-sdk-go"
)

// Invocation is a handle on an invocation: one started with [Send] or
// [Submit], or one found again with [ByID], [ByIdempotencyKey] or
// [ByWorkflow]. It is a small value; copies are equivalent.
type Invocation[Out any] struct {
	c      *Client
	path   string // /restate/invocation/{id}, /restate/workflow/{name}/{key}, …
	what   string // for error messages
	id     string
	status SendStatus
	decode func([]byte) (Out, error)
}

// ID returns the invocation id (inv_…), or "" for a handle made with
// [ByIdempotencyKey] or [ByWorkflow], which find the invocation by key.
func (i Invocation[Out]) ID() string { return i.id }

// Status says whether the [Send] or [Submit] that returned the handle
// started a new invocation; it is "" for handles made otherwise.
func (i Invocation[Out]) Status() SendStatus { return i.status }

// Attach waits for the invocation to complete and returns its result, or
// its terminal failure as a *restate.TerminalError. Attaching to a
// completed invocation returns its result right away, as long as the
// runtime retains it (completed invocations are kept for the handler's
// journal or idempotency retention, and workflows for their workflow
// retention). The runtime reports an unknown invocation as a terminal
// failure with code 404.
func (i Invocation[Out]) Attach(ctx context.Context) (Out, error) {
	var zero Out
	if i.c == nil {
		return zero, errors.New("ingress: Attach on a zero Invocation")
	}
	b, err := i.c.do(ctx, http.MethodGet, i.path+"/attach", nil, nil, "", nil)
	if err != nil {
		return zero, err
	}
	return i.decodeOut(b)
}

// Output returns the invocation's result if it has completed, with Ok
// false if it is still running, without waiting. A terminal failure is
// returned as a *restate.TerminalError; an unknown invocation is an
// [*Error] with status 404.
func (i Invocation[Out]) Output(ctx context.Context) (restate.Maybe[Out], error) {
	if i.c == nil {
		return restate.Maybe[Out]{}, errors.New("ingress: Output on a zero Invocation")
	}
	b, err := i.c.do(ctx, http.MethodGet, i.path+"/output", nil, nil, "", nil)
	if errors.Is(err, errNotReady) {
		return restate.Maybe[Out]{}, nil
	}
	if err != nil {
		return restate.Maybe[Out]{}, err
	}
	v, err := i.decodeOut(b)
	if err != nil {
		return restate.Maybe[Out]{}, err
	}
	return restate.Maybe[Out]{Value: v, Ok: true}, nil
}

func (i Invocation[Out]) decodeOut(b []byte) (Out, error) {
	v, err := i.decode(b)
	if err != nil {
		var zero Out
		return zero, fmt.Errorf("ingress: cannot decode the result of %s into %T: %w", i.what, zero, err)
	}
	return v, nil
}

func newInvocation[In, Out any](c *Client, t restate.Target[In, Out], path, what string) Invocation[Out] {
	return Invocation[Out]{c: c, path: path, what: what, decode: t.Decode}
}

// ByID returns a handle on the invocation id of the target t. Only the
// output type and codec of t are used: the id alone names the invocation.
func ByID[In, Out any](c *Client, t restate.Target[In, Out], id string) Invocation[Out] {
	inv := newInvocation(c, t, "/restate/invocation/"+url.PathEscape(id), "invocation "+id)
	inv.id = id
	return inv
}

// ByIdempotencyKey returns a handle on the invocation of t (with its key,
// for virtual objects) started with idempotency key idempotencyKey.
func ByIdempotencyKey[In, Out any](c *Client, t restate.Target[In, Out], idempotencyKey string) Invocation[Out] {
	path := "/restate/invocation/" + url.PathEscape(t.Service)
	if t.Key != "" {
		path += "/" + url.PathEscape(t.Key)
	}
	path += "/" + url.PathEscape(t.Handler) + "/" + url.PathEscape(idempotencyKey)
	return newInvocation(c, t, path, fmt.Sprintf("%s with idempotency key %q", t, idempotencyKey))
}

// ByWorkflow returns a handle on the run of the workflow key of t, the
// workflow's run handler target (its handler name is not used).
func ByWorkflow[In, Out any](c *Client, t restate.Target[In, Out]) Invocation[Out] {
	path := "/restate/workflow/" + url.PathEscape(t.Service) + "/" + url.PathEscape(t.Key)
	return newInvocation(c, t, path, fmt.Sprintf("workflow %s/%s", t.Service, t.Key))
}

// ResolveAwakeable completes the awakeable id with value, encoded as JSON
// like the values restate.NewAwakeable decodes. The awakeable's invocation
// resumes with the value.
func ResolveAwakeable[T any](ctx context.Context, c *Client, id string, value T) error {
	b, err := restate.JSON.Marshal(value)
	if err != nil {
		return fmt.Errorf("ingress: cannot encode the value of awakeable %s: %w", id, err)
	}
	if b == nil {
		b = []byte{}
	}
	_, err = c.do(ctx, http.MethodPost, "/restate/awakeables/"+url.PathEscape(id)+"/resolve", nil, b, restate.JSON.ContentType(), nil)
	return err
}

// RejectAwakeable fails the awakeable id: its invocation's await returns a
// terminal error with code 500 and reason as the message.
func RejectAwakeable(ctx context.Context, c *Client, id, reason string) error {
	_, err := c.do(ctx, http.MethodPost, "/restate/awakeables/"+url.PathEscape(id)+"/reject", nil, []byte(reason), "text/plain", nil)
	return err
}
