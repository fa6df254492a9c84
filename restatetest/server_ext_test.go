package restatetest_test

import (
	"context"
	"os"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// serverTest skips a test that needs a real restate-server unless
// RESTATE_E2E_BACKEND asks for it, as the examples' end-to-end tests do;
// when asked, a server that cannot start fails the test.
func serverTest(t *testing.T) {
	t.Helper()
	if os.Getenv("RESTATE_E2E_BACKEND") != "restate-server" {
		t.Skip("set RESTATE_E2E_BACKEND=restate-server to run against a real restate-server")
	}
	if os.Getenv(restateserver.CacheDirEnv) == "" {
		if root, err := restateserver.ModuleRoot(); err == nil {
			t.Setenv(restateserver.CacheDirEnv, root+"/.cache/restate")
		}
	}
}

// checkHandoff is one test body for both backends: a handler that hands its
// context to a goroutine and waits for it returns normally, also when its
// attempt suspends inside that goroutine.
func checkHandoff(t *testing.T, c *ingress.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, d := range []time.Duration{10 * time.Millisecond, 3 * time.Second} {
		got, err := ingress.Call(ctx, c, handoff.Target(), d)
		if err != nil {
			t.Fatalf("sleep %v: %v", d, err)
		}
		if got != "woke" {
			t.Fatalf("sleep %v: result %q, want %q", d, got, "woke")
		}
	}
}

// TestStartServerHandoff checks that restate-server and restatetest agree
// on a handoff of the context to a goroutine (issue 24, bug 4): the server
// closes an idle stream after a second, so the 3s sleep suspends inside the
// goroutine there too.
func TestStartServerHandoff(t *testing.T) {
	t.Run("restatetest", func(t *testing.T) {
		checkHandoff(t, restatetest.New(t, handoffServices).IngressClient())
	})
	t.Run("restate-server", func(t *testing.T) {
		serverTest(t)
		srv := restatetest.StartServer(t, handoffServices, restatetest.WithServerEnv("RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT", "1s"))
		checkHandoff(t, srv.IngressClient())
		if srv.EndpointURL() == "" || srv.AdminURL() == "" || srv.IngressURL() == "" {
			t.Errorf("URLs endpoint %q admin %q ingress %q, want all set", srv.EndpointURL(), srv.AdminURL(), srv.IngressURL())
		}
	})
}

// TestStartServerAdmin checks the clients StartServer returns: state a
// handler wrote survives into the next call, and the admin client answers.
func TestStartServerAdmin(t *testing.T) {
	serverTest(t)
	counter := restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
		k := restate.NewStateKey[int]("n")
		v, err := k.Get(ctx)
		if err != nil {
			return 0, err
		}
		return v + n, k.Set(ctx, v+n)
	})
	srv := restatetest.StartServer(t, []restate.ServiceDefinition{restate.NewObject("Counter", counter)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, want := range []int{2, 5} {
		got, err := ingress.Call(ctx, srv.IngressClient(), counter.Target("a"), []int{2, 3}[i])
		if err != nil || got != want {
			t.Fatalf("add: %d, %v; want %d", got, err, want)
		}
	}
	// The admin client reaches the server's SQL endpoint.
	if _, err := srv.AdminClient().ListInvocations(ctx, ingress.InvocationFilter{Service: "Counter"}); err != nil {
		t.Fatal(err)
	}
}
