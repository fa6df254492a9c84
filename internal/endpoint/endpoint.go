package endpoint

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Config configures an Endpoint.
type Config struct {
	Mode          ProtocolMode
	IdentityKeys  []string
	Logger        *slog.Logger
	ServerHeader  string
	MaxFrameBytes uint32 // 0 = wire.DefaultMaxFrameLength
	// MaxBodyBytes bounds request/response bodies read whole; 0 = 32 MiB
	// plus headroom.
	MaxBodyBytes int64
	Replay       replay.Options
}

// Endpoint is a set of services with their serving configuration.
type Endpoint struct {
	Config
	Services []*Service
	byName   map[string]*Service
	Verifier *Verifier
	// Rejected limits the logging of requests that failed verification.
	Rejected RateLog
}

// New validates the services and the configuration.
func New(services []*Service, cfg Config) (*Endpoint, error) {
	if cfg.Mode == "" {
		cfg.Mode = BidiStream
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ServerHeader == "" {
		cfg.ServerHeader = "restate-sdk-go-qcodr/0.1.0"
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 33 << 20
	}
	cfg.Replay.MaxFrameLength = cfg.MaxFrameBytes
	e := &Endpoint{Config: cfg, byName: map[string]*Service{}}
	for _, s := range services {
		if s == nil {
			return nil, fmt.Errorf("restate: nil service")
		}
		if _, dup := e.byName[s.Name]; dup {
			return nil, fmt.Errorf("restate: duplicate service %q", s.Name)
		}
		e.byName[s.Name] = s
		e.Services = append(e.Services, s)
	}
	v, err := NewVerifier(cfg.IdentityKeys)
	if err != nil {
		return nil, err
	}
	e.Verifier = v
	return e, nil
}

// Route kinds.
const (
	RouteNotFound = iota
	RouteDiscover
	RouteInvoke
	RouteHealth
)

// Route classifies a request path. The path may carry a mount prefix: only
// its trailing /discover or /invoke/{service}/{handler} counts. Health is
// exact: only "/health" itself is RouteHealth (see RouteMounted). It
// returns the normalised path (used as the identity token's audience) and,
// for invocations, the service and handler names.
func Route(path string) (kind int, normalized, service, handler string) {
	return RouteMounted(path, "")
}

// RouteMounted is Route for an endpoint mounted at mount (a path prefix
// such as "/restate", without the trailing slash; "" if unknown): "/health"
// and mount+"/health" are RouteHealth, which is served without a token,
// and no other path is. Any other path ending in /health needs a token
// like every other route, so that a prefix the endpoint does not know of
// cannot widen the exemption.
func RouteMounted(path, mount string) (kind int, normalized, service, handler string) {
	if path == "/health" || (mount != "" && path == mount+"/health") {
		return RouteHealth, "/health", "", ""
	}
	path = strings.TrimSuffix(path, "/")
	// The last three segments must be invoke/{service}/{handler}; matching
	// "/invoke/" anywhere instead would misroute a service named invoke.
	if j := strings.LastIndexByte(path, '/'); j > 0 {
		if i := strings.LastIndexByte(path[:j], '/'); i >= 0 {
			if k := strings.LastIndexByte(path[:i], '/'); k >= 0 && path[k+1:i] == "invoke" {
				svc, h := path[i+1:j], path[j+1:]
				if svc == "" || h == "" {
					return RouteNotFound, path, "", ""
				}
				return RouteInvoke, path[k:], svc, h
			}
		}
	}
	switch {
	case path == "/discover" || strings.HasSuffix(path, "/discover"):
		return RouteDiscover, "/discover", "", ""
	}
	return RouteNotFound, path, "", ""
}

// Lookup returns the handler service/handler, or an error naming what is
// missing.
func (e *Endpoint) Lookup(service, handler string) (*Service, *Handler, error) {
	s := e.byName[service]
	if s == nil {
		return nil, nil, fmt.Errorf("service %q not found", service)
	}
	h := s.Handler(handler)
	if h == nil {
		return nil, nil, fmt.Errorf("handler %q not found in service %q", handler, service)
	}
	return s, h, nil
}

// Discover renders the manifest for an Accept header. It returns the HTTP
// status, content type and body.
func (e *Endpoint) Discover(accept string, mode ProtocolMode) (int, string, []byte) {
	if accept == "" {
		return 415, "text/plain", []byte("missing accept header")
	}
	v := NegotiateManifest(accept)
	if v == 0 {
		return 415, "text/plain", []byte(fmt.Sprintf("unsupported manifest versions %q; this SDK supports v%d to v%d", accept, MinManifestVersion, MaxManifestVersion))
	}
	body, err := Manifest(e.Services, mode, v)
	if err != nil {
		return 500, "text/plain", []byte(err.Error())
	}
	return 200, ManifestContentType(v), body
}

// Attempt returns the configuration of one attempt of version v, with the
// endpoint's engine options and logger and the transport's trace context.
// The caller adds its input and output.
func (e *Endpoint) Attempt(v wire.Version, a Attempt) invocation.Config {
	return invocation.Config{Version: v, Options: e.Replay, Logger: e.Logger, TraceParent: a.TraceParent, TraceState: a.TraceState}
}

// RunBuffered runs one attempt whose whole request body is known (request/
// response mode, Lambda): it feeds body, closes the input, runs the handler
// to its end or suspension and returns every output frame.
func (e *Endpoint) RunBuffered(ctx context.Context, h *Handler, v wire.Version, body []byte, attempt Attempt) []byte {
	var out []byte
	cfg := e.Attempt(v, attempt)
	cfg.Body, cfg.CloseInput = body, true
	cfg.Output = invocation.OutputFunc(func(frames []byte) error {
		out = append(out, frames...)
		return nil
	})
	inv := invocation.New(ctx, cfg)
	if !inv.Ready() {
		inv.Reject()
		return out
	}
	inv.Run(h.Invoke)
	return out
}

// Attempt carries transport information into the invocation.
type Attempt struct {
	TraceParent, TraceState string
}
