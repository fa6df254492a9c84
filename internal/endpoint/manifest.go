package endpoint

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qcodr/restate-sdk-go/wire"
)

// ProtocolMode is how the deployment exchanges messages with the runtime.
type ProtocolMode string

// The protocol modes.
const (
	BidiStream      ProtocolMode = "BIDI_STREAM"
	RequestResponse ProtocolMode = "REQUEST_RESPONSE"
)

const manifestPrefix = "application/vnd.restate.endpointmanifest.v"

// ManifestContentType returns the content type of manifest version v.
func ManifestContentType(v int) string {
	return fmt.Sprintf("%s%d+json", manifestPrefix, v)
}

// Supported manifest versions.
const (
	MinManifestVersion = 1
	MaxManifestVersion = 4
)

// NegotiateManifest picks the highest manifest version listed in an Accept
// header, or 0 when none is acceptable.
func NegotiateManifest(accept string) int {
	best := 0
	for item := range strings.SplitSeq(accept, ",") {
		item, _, _ = strings.Cut(item, ";")
		item = strings.TrimSpace(item)
		for v := MinManifestVersion; v <= MaxManifestVersion; v++ {
			if item == ManifestContentType(v) && v > best {
				best = v
			}
		}
	}
	return best
}

type manifest struct {
	ProtocolMode       ProtocolMode      `json:"protocolMode"`
	MinProtocolVersion int               `json:"minProtocolVersion"`
	MaxProtocolVersion int               `json:"maxProtocolVersion"`
	Services           []manifestService `json:"services"`
}

type manifestOptions struct {
	Documentation                   string            `json:"documentation,omitempty"`
	Metadata                        map[string]string `json:"metadata,omitempty"`
	IngressPrivate                  *bool             `json:"ingressPrivate,omitempty"`
	JournalRetention                *int64            `json:"journalRetention,omitempty"`
	IdempotencyRetention            *int64            `json:"idempotencyRetention,omitempty"`
	WorkflowCompletionRetention     *int64            `json:"workflowCompletionRetention,omitempty"`
	InactivityTimeout               *int64            `json:"inactivityTimeout,omitempty"`
	AbortTimeout                    *int64            `json:"abortTimeout,omitempty"`
	EnableLazyState                 *bool             `json:"enableLazyState,omitempty"`
	RetryPolicyInitialInterval      *int64            `json:"retryPolicyInitialInterval,omitempty"`
	RetryPolicyMaxInterval          *int64            `json:"retryPolicyMaxInterval,omitempty"`
	RetryPolicyMaxAttempts          *uint32           `json:"retryPolicyMaxAttempts,omitempty"`
	RetryPolicyExponentiationFactor *float64          `json:"retryPolicyExponentiationFactor,omitempty"`
	RetryPolicyOnMaxAttempts        string            `json:"retryPolicyOnMaxAttempts,omitempty"`
}

type manifestService struct {
	Name     string            `json:"name"`
	Ty       ServiceKind       `json:"ty"`
	Handlers []manifestHandler `json:"handlers"`
	manifestOptions
}

type manifestHandler struct {
	Name   string         `json:"name"`
	Ty     HandlerKind    `json:"ty,omitempty"`
	Input  map[string]any `json:"input"`
	Output map[string]any `json:"output"`
	manifestOptions
}

func millis(d *time.Duration) *int64 {
	if d == nil {
		return nil
	}
	ms := d.Milliseconds()
	return &ms
}

// neededVersion returns the lowest manifest version that can carry o, and
// the name of the field that needs it.
func (o *Options) neededVersion() (int, string) {
	switch {
	case o.RetryPolicy != nil:
		return 4, "retry policy"
	case o.IngressPrivate != nil:
		return 3, "ingress private"
	case o.JournalRetention != nil:
		return 3, "journal retention"
	case o.IdempotencyRetention != nil:
		return 3, "idempotency retention"
	case o.WorkflowCompletionRetention != nil:
		return 3, "workflow completion retention"
	case o.InactivityTimeout != nil:
		return 3, "inactivity timeout"
	case o.AbortTimeout != nil:
		return 3, "abort timeout"
	case o.EnableLazyState != nil:
		return 3, "lazy state"
	case o.Documentation != "" || len(o.Metadata) > 0:
		return 2, "documentation and metadata"
	}
	return 1, ""
}

func (o *Options) render() manifestOptions {
	m := manifestOptions{
		Documentation:               o.Documentation,
		Metadata:                    o.Metadata,
		IngressPrivate:              o.IngressPrivate,
		JournalRetention:            millis(o.JournalRetention),
		IdempotencyRetention:        millis(o.IdempotencyRetention),
		WorkflowCompletionRetention: millis(o.WorkflowCompletionRetention),
		InactivityTimeout:           millis(o.InactivityTimeout),
		AbortTimeout:                millis(o.AbortTimeout),
		EnableLazyState:             o.EnableLazyState,
	}
	if rp := o.RetryPolicy; rp != nil {
		m.RetryPolicyInitialInterval = millis(rp.InitialInterval)
		m.RetryPolicyMaxInterval = millis(rp.MaxInterval)
		m.RetryPolicyMaxAttempts = rp.MaxAttempts
		m.RetryPolicyExponentiationFactor = rp.Factor
		m.RetryPolicyOnMaxAttempts = rp.OnMaxAttempts
	}
	return m
}

func renderInput(p Payload) map[string]any {
	if p.None {
		return map[string]any{}
	}
	m := map[string]any{"required": p.Required, "contentType": p.ContentType}
	if p.Schema != nil {
		m["jsonSchema"] = p.Schema
	}
	return m
}

func renderOutput(p Payload) map[string]any {
	if p.None {
		return map[string]any{"setContentTypeIfEmpty": false}
	}
	m := map[string]any{"contentType": p.ContentType, "setContentTypeIfEmpty": p.SetContentTypeIfEmpty}
	if p.Schema != nil {
		m["jsonSchema"] = p.Schema
	}
	return m
}

// Manifest renders the endpoint manifest in version v. It fails when a
// service uses an option that v cannot carry: silently dropping, say,
// ingressPrivate would expose a private handler.
func Manifest(services []*Service, mode ProtocolMode, v int) ([]byte, error) {
	m := manifest{
		ProtocolMode:       mode,
		MinProtocolVersion: int(wire.MinVersion),
		MaxProtocolVersion: int(wire.MaxVersion),
		Services:           []manifestService{},
	}
	sorted := slices.Clone(services)
	slices.SortFunc(sorted, func(a, b *Service) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range sorted {
		if need, what := s.Options.neededVersion(); need > v {
			return nil, fmt.Errorf("service %s uses %s, which needs endpoint manifest v%d, but the runtime accepts at most v%d; upgrade the Restate server", s.Name, what, need, v)
		}
		ms := manifestService{Name: s.Name, Ty: s.Kind, Handlers: []manifestHandler{}, manifestOptions: s.Options.render()}
		for _, h := range s.Handlers {
			if need, what := h.Options.neededVersion(); need > v {
				return nil, fmt.Errorf("handler %s/%s uses %s, which needs endpoint manifest v%d, but the runtime accepts at most v%d; upgrade the Restate server", s.Name, h.Name, what, need, v)
			}
			ms.Handlers = append(ms.Handlers, manifestHandler{
				Name: h.Name, Ty: h.Kind,
				Input: renderInput(h.Input), Output: renderOutput(h.Output),
				manifestOptions: h.Options.render(),
			})
		}
		m.Services = append(m.Services, ms)
	}
	return json.Marshal(m)
}
