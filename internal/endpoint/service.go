// Package endpoint is the transport-independent part of a Restate
// deployment endpoint: the service descriptors built by package restate,
// the discovery manifest, request routing and request identity
// verification. Package h2c and package lambda serve it.
package endpoint

import (
	"time"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
)

// ServiceKind is the manifest's service type.
type ServiceKind string

// The service kinds.
const (
	KindService       ServiceKind = "SERVICE"
	KindVirtualObject ServiceKind = "VIRTUAL_OBJECT"
	KindWorkflow      ServiceKind = "WORKFLOW"
)

// HandlerKind is the manifest's handler type; empty for plain services.
type HandlerKind string

// The handler kinds.
const (
	HandlerDefault   HandlerKind = ""
	HandlerExclusive HandlerKind = "EXCLUSIVE"
	HandlerShared    HandlerKind = "SHARED"
	HandlerWorkflow  HandlerKind = "WORKFLOW"
)

// RetryPolicy is the invocation retry policy of a service or handler
// (manifest v4 fields).
type RetryPolicy struct {
	InitialInterval *time.Duration
	MaxInterval     *time.Duration
	MaxAttempts     *uint32
	Factor          *float64
	OnMaxAttempts   string // "PAUSE" or "KILL"; empty = runtime default
}

// Options are the manifest fields shared by services and handlers.
type Options struct {
	Documentation               string
	Metadata                    map[string]string
	IngressPrivate              *bool
	JournalRetention            *time.Duration
	IdempotencyRetention        *time.Duration
	InactivityTimeout           *time.Duration
	AbortTimeout                *time.Duration
	WorkflowCompletionRetention *time.Duration // handlers of kind WORKFLOW only
	EnableLazyState             *bool
	RetryPolicy                 *RetryPolicy
}

// Payload describes a handler's input or output.
type Payload struct {
	// None: the handler takes no input / returns no output.
	None        bool
	ContentType string
	// Required (input only): a body with a content type must be sent.
	Required bool
	// SetContentTypeIfEmpty (output only).
	SetContentTypeIfEmpty bool
	Schema                map[string]any
}

// Handler describes one handler and how to invoke it.
type Handler struct {
	Name    string
	Kind    HandlerKind
	Input   Payload
	Output  Payload
	Options Options
	Invoke  invocation.HandlerFunc
}

// Service describes one service, virtual object or workflow.
type Service struct {
	Name     string
	Kind     ServiceKind
	Handlers []*Handler
	Options  Options
}

// Handler returns the named handler, or nil.
func (s *Service) Handler(name string) *Handler {
	for _, h := range s.Handlers {
		if h.Name == name {
			return h
		}
	}
	return nil
}
