package h2c_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

// patchedOrder is version 1, 2 or 3 of a workflow that gains a fraud check
// between its reservation and its charge: version 2 adds it behind
// restate.Patched, version 3 deprecates the patch. Each execution of the
// charge is reported on charged; the run returns which path it took.
func patchedOrder(name string, version int, charged chan<- string) restate.ServiceDefinition {
	return restate.NewWorkflow(name,
		restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, _ string) (string, error) {
			if _, err := restate.Run(ctx, func(restate.RunContext) (string, error) { return "reserved", nil }, restate.WithName("reserve")); err != nil {
				return "", err
			}
			path := "old"
			fraudCheck := false
			switch version {
			case 2:
				fraudCheck = restate.Patched(ctx, "fraud-check")
			case 3:
				restate.Deprecated(ctx, "fraud-check")
				fraudCheck = true
			}
			if fraudCheck {
				path = "new"
				if _, err := restate.Run(ctx, func(restate.RunContext) (bool, error) { return true, nil }, restate.WithName("fraud-check")); err != nil {
					return "", err
				}
			}
			key := ctx.Key()
			if _, err := restate.Run(ctx, func(restate.RunContext) (string, error) { charged <- key; return "charged", nil }, restate.WithName("charge")); err != nil {
				return "", err
			}
			if _, err := restate.Promise[string](ctx, "ship").Result().Await(); err != nil {
				return "", err
			}
			return path, nil
		}),
		restate.NewWorkflowSharedHandler("ship", func(ctx restate.WorkflowSharedContext, _ string) (restate.Void, error) {
			return restate.Void{}, restate.Promise[string](ctx, "ship").Resolve("now")
		}),
	)
}

// TestEndToEndPatching deploys three versions of a workflow in place, at
// one URL, while invocations of the earlier version are suspended: those
// finish along the path they started on, new ones take the new path, and
// no invocation fails with a journal mismatch.
func TestEndToEndPatching(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ config, mode string }{{"default", "bidi"}, {"v7", "request-response"}} {
		t.Run(tc.config+"/"+tc.mode, func(t *testing.T) {
			t.Parallel()
			srv := restateServer(t, tc.config)
			name := "PatchOrder" + strings.ReplaceAll(tc.config+tc.mode, "-", "")
			charged := make(chan string, 64)
			var current atomic.Pointer[h2c.Handler]
			deployVersion := func(v int) {
				t.Helper()
				h, err := h2c.NewHandler([]restate.ServiceDefinition{patchedOrder(name, v, charged)}, append(modeOptions(tc.mode), h2c.WithLogger(quietLogger()))...)
				if err != nil {
					t.Fatal(err)
				}
				current.Store(h)
			}
			deployVersion(1)
			ep := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().ServeHTTP(w, r) }))
			register := func() {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if _, err := srv.Register(ctx, ep.URL, restateserver.RegisterOptions{Force: true}); err != nil {
					t.Fatalf("registering: %v", err)
				}
			}
			register()
			start := func(keys ...string) {
				t.Helper()
				for _, k := range keys {
					if status, body := ingress(t, srv, "POST", "/"+name+"/"+k+"/run/send", `""`); status != 202 {
						t.Fatalf("starting %s: %d %s", k, status, body)
					}
				}
				waitCharged(t, charged, keys)
			}
			finish := func(want string, keys ...string) {
				t.Helper()
				for _, k := range keys {
					if status, body := ingress(t, srv, "POST", "/"+name+"/"+k+"/ship", `""`); status != 200 {
						t.Fatalf("shipping %s: %d %s", k, status, body)
					}
				}
				for _, k := range keys {
					expect(t, srv, "GET", "/restate/workflow/"+name+"/"+k+"/attach", ``, 200, `"`+want+`"`)
				}
			}

			start("v1a", "v1b")
			deployVersion(2)
			register()
			start("v2a", "v2b")
			finish("old", "v1a", "v1b") // started before the patch: the old path
			deployVersion(3)
			register()
			start("v3a")
			finish("new", "v2a", "v2b", "v3a") // the marker of v2a and v2b is consumed by Deprecated

			markers := map[string]int{}
			rows, err := srv.Query(context.Background(), fmt.Sprintf(
				"SELECT i.target_service_key AS key FROM sys_journal j JOIN sys_invocation i ON j.id = i.id WHERE i.target_service_name = '%s' AND j.name = 'patch:fraud-check'", name))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				markers[fmt.Sprint(r["key"])]++
			}
			if want := map[string]int{"v2a": 1, "v2b": 1}; fmt.Sprint(markers) != fmt.Sprint(want) {
				t.Errorf("patch markers in the journals by key: %v, want %v", markers, want)
			}
		})
	}
}

// waitCharged waits until the charge of every key executed: the
// invocation then waits for its promise, suspended.
func waitCharged(t *testing.T, charged <-chan string, keys []string) {
	t.Helper()
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	timeout := time.After(time.Minute)
	for len(want) > 0 {
		select {
		case k := <-charged:
			delete(want, k)
		case <-timeout:
			t.Fatalf("charges still missing: %v", want)
		}
	}
}
