package restatetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

// Server is a real restate-server started by [StartServer], with the
// services served to it over h2c and registered. Its clients are the same
// types as [Env.IngressClient] and [Env.AdminClient] return, so a test
// written against them runs on either backend.
type Server struct {
	srv      *restateserver.Server
	endpoint string
	client   *ingress.Client
	admin    *ingress.Admin
}

// ServerOption configures [StartServer].
type ServerOption interface {
	applyServer(*serverConfig)
}

type serverConfig struct {
	env     map[string]string
	timeout time.Duration
}

func newServerConfig(opts []ServerOption) serverConfig {
	c := serverConfig{env: map[string]string{}, timeout: restateserver.DefaultStartTimeout}
	for _, o := range opts {
		if o != nil {
			o.applyServer(&c)
		}
	}
	return c
}

type serverOptionFunc func(*serverConfig)

func (f serverOptionFunc) applyServer(c *serverConfig) { f(c) }

// WithServerEnv sets an environment variable of the restate-server
// process, for a setting of restate-server's own (for example
// RESTATE_DEFAULT_NUM_PARTITIONS=1, or
// RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT=1s). It takes precedence
// over the settings StartServer makes itself; overriding the bind
// addresses breaks the server's URLs.
func WithServerEnv(key, value string) ServerOption {
	return serverOptionFunc(func(c *serverConfig) { c.env[key] = value })
}

// WithServerStartTimeout bounds how long StartServer waits for the server
// to become healthy: 30s by default. The first use also installs
// restate-server, which the timeout does not include.
func WithServerStartTimeout(d time.Duration) ServerOption {
	return serverOptionFunc(func(c *serverConfig) { c.timeout = d })
}

// StartServer runs services against a real restate-server for the rest of
// the test, which it fails with t.Fatal if the server cannot start or the
// deployment cannot be registered.
//
// On first use it installs restate-server (version 1.7.12) from the npm
// registry into a cache directory, $RESTATE_CACHE_DIR when set, else
// .cache/restate under the module root (the nearest directory with a
// go.mod); later uses, from any test process, reuse it. The server gets
// free loopback ports for its ingress, admin and node addresses and a
// fresh temporary base directory, and the test waits until both APIs are
// healthy. Its settings are restate-server's defaults except for those
// addresses, RESTATE_LISTEN_MODE=tcp, RESTATE_DISABLE_TELEMETRY=true and
// a compact log format without colours; RESTATE_* variables of the test
// process are not passed on (use [WithServerEnv]). The services are served
// with h2c.Serve on another free loopback port and registered through the
// admin API.
//
// When the test ends, the endpoint shuts down, the server is killed and
// its base directory removed; if the test failed, the last part of the
// server's log is written to the test log first.
//
// Each call starts a server of its own, which takes about a second; tests
// that need many can share one from TestMain with keys of their own.
func StartServer(t testing.TB, services []restate.ServiceDefinition, opts ...ServerOption) *Server {
	t.Helper()
	s, err := startServer(t, services, newServerConfig(opts))
	if err != nil {
		t.Fatalf("restatetest: %v", err)
	}
	return s
}

func startServer(t testing.TB, services []restate.ServiceDefinition, cfg serverConfig) (*Server, error) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := restateserver.Start(ctx, restateserver.Options{Env: cfg.env, StartTimeout: cfg.timeout})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("cannot start restate-server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		_ = srv.Close()
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- h2c.Serve(ctx, ln, services) }()
	s := &Server{
		srv:      srv,
		endpoint: "http://" + ln.Addr().String(),
		client:   ingress.NewClient(srv.IngressURL()),
		admin:    ingress.NewAdmin(srv.AdminURL()),
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("restatetest: restate-server log (last part):\n%s", srv.Logs())
		}
		cancel()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("restatetest: serving the services: %v", err)
		}
		_ = srv.Close()
	})
	regCtx, regCancel := context.WithTimeout(ctx, cfg.timeout)
	defer regCancel()
	if _, err := s.admin.Register(regCtx, s.endpoint); err != nil {
		return nil, fmt.Errorf("registering the services with restate-server: %w", err)
	}
	return s, nil
}

// IngressClient returns a client of the server's ingress.
func (s *Server) IngressClient() *ingress.Client { return s.client }

// AdminClient returns a client of the server's admin API.
func (s *Server) AdminClient() *ingress.Admin { return s.admin }

// IngressURL returns the ingress's base URL, such as
// http://127.0.0.1:41234.
func (s *Server) IngressURL() string { return s.srv.IngressURL() }

// AdminURL returns the admin API's base URL.
func (s *Server) AdminURL() string { return s.srv.AdminURL() }

// EndpointURL returns the URL the services are served at, as registered.
func (s *Server) EndpointURL() string { return s.endpoint }

// Logs returns the last part (up to 256 KiB) of the server's output.
func (s *Server) Logs() string { return s.srv.Logs() }
