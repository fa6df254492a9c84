package endpoint

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoute(t *testing.T) {
	t.Parallel()
	type route struct {
		Kind                         int
		Normalized, Service, Handler string
	}
	tests := []struct {
		path string
		want route
	}{
		{"/discover", route{RouteDiscover, "/discover", "", ""}},
		{"/discover/", route{RouteDiscover, "/discover", "", ""}},
		{"/restate/discover", route{RouteDiscover, "/discover", "", ""}},
		{"/health", route{RouteHealth, "/health", "", ""}},
		// Health is exact: a prefix the endpoint does not know of is not
		// exempt from identity verification.
		{"/restate/health", route{RouteNotFound, "/restate/health", "", ""}},
		{"/anything/health", route{RouteNotFound, "/anything/health", "", ""}},
		{"/health/", route{RouteNotFound, "/health", "", ""}},
		{"/xhealth", route{RouteNotFound, "/xhealth", "", ""}},
		{"/invoke/Greeter/greet", route{RouteInvoke, "/invoke/Greeter/greet", "Greeter", "greet"}},
		{"/invoke/Greeter/greet/", route{RouteInvoke, "/invoke/Greeter/greet", "Greeter", "greet"}},
		{"/prefix/invoke/Greeter/greet", route{RouteInvoke, "/invoke/Greeter/greet", "Greeter", "greet"}},
		// Names that are also route words.
		{"/invoke/invoke/greet", route{RouteInvoke, "/invoke/invoke/greet", "invoke", "greet"}},
		{"/invoke/Greeter/invoke", route{RouteInvoke, "/invoke/Greeter/invoke", "Greeter", "invoke"}},
		{"/invoke/discover/health", route{RouteInvoke, "/invoke/discover/health", "discover", "health"}},
		{"/invoke/invoke/invoke", route{RouteInvoke, "/invoke/invoke/invoke", "invoke", "invoke"}},
		// Malformed.
		{"/invoke/Greeter", route{RouteNotFound, "/invoke/Greeter", "", ""}},
		{"/invoke//greet", route{RouteNotFound, "/invoke//greet", "", ""}},
		{"/invoke/Greeter/greet/extra", route{RouteNotFound, "/invoke/Greeter/greet/extra", "", ""}},
		{"/invoke", route{RouteNotFound, "/invoke", "", ""}},
		{"/", route{RouteNotFound, "", "", ""}},
		{"", route{RouteNotFound, "", "", ""}},
		{"/other", route{RouteNotFound, "/other", "", ""}},
	}
	for _, tc := range tests {
		var got route
		got.Kind, got.Normalized, got.Service, got.Handler = Route(tc.path)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("Route(%q) (-want +got):\n%s", tc.path, d)
		}
	}
}

func TestRouteMounted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, mount string
		want        int
	}{
		{"/health", "", RouteHealth},
		{"/health", "/restate", RouteHealth},
		{"/restate/health", "/restate", RouteHealth},
		{"/restate/health", "", RouteNotFound},
		{"/other/health", "/restate", RouteNotFound},
		{"/restate/x/health", "/restate", RouteNotFound},
		{"/restate/discover", "/restate", RouteDiscover},
	}
	for _, tc := range tests {
		if got, _, _, _ := RouteMounted(tc.path, tc.mount); got != tc.want {
			t.Errorf("RouteMounted(%q, %q) = %d, want %d", tc.path, tc.mount, got, tc.want)
		}
	}
}
