package loadgen_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/bench/internal/freemem"
	"github.com/qcodr/restate-sdk-go/bench/loadgen"
	"github.com/qcodr/restate-sdk-go/bench/services/qcodrsvc"
	"github.com/qcodr/restate-sdk-go/bench/services/sdkgosvc"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/restatedev/sdk-go/server"
)

// serve serves h on a loopback port with HTTP/1.1 and h2c, like the
// benchmark endpoints, and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := h2c.NewServer(ln.Addr().String(), h)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func endpoints(t *testing.T) map[string]string {
	t.Helper()
	q, err := h2c.NewHandler(qcodrsvc.Services(""))
	if err != nil {
		t.Fatal(err)
	}
	r := server.NewRestate()
	for _, s := range sdkgosvc.Services("") {
		r = r.Bind(s)
	}
	s, err := r.Handler()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"qcodr": serve(t, q), "sdk-go": serve(t, s)}
}

// TestWorkloads sends every workload to both SDKs over both HTTP versions
// and checks that the load generator validates their answers.
func TestWorkloads(t *testing.T) {
	reqs := map[string]loadgen.Request{
		"greet":    loadgen.Greet(""),
		"counter":  loadgen.CounterAdd(""),
		"gets":     loadgen.Gets("", 5),
		"runs":     loadgen.RunsLive("", 3),
		"replay":   loadgen.RunsReplay("", 50),
		"replay-1": loadgen.RunsReplay("", 1),
	}
	ctx := context.Background()
	for sdk, base := range endpoints(t) {
		for _, proto := range []loadgen.Proto{loadgen.H2, loadgen.H1} {
			c := loadgen.NewClient(proto, 2)
			for name, req := range reqs {
				st, err := loadgen.Closed(ctx, os.Getpid(), 2, 20*time.Millisecond, loadgen.Direct(c, base, req))
				if err != nil {
					t.Errorf("%s %s %s: %v", sdk, proto, name, err)
					continue
				}
				if st.N == 0 || st.Percentile(50) <= 0 {
					t.Errorf("%s %s %s: %+v", sdk, proto, name, st)
				}
			}
			c.Close()
		}
	}
}

// TestPark parks invocations on an awakeable in both SDKs and completes
// them.
func TestPark(t *testing.T) {
	freemem.OnSignal() // Park signals the endpoint's process: this one
	for sdk, base := range endpoints(t) {
		c := loadgen.NewClient(loadgen.H2, 2)
		res, err := loadgen.Park(context.Background(), c, base, os.Getpid(), 150, loadgen.Wait(""), 0)
		if err != nil {
			t.Errorf("%s: %v", sdk, err)
			continue
		}
		if res.Parked != 150 || res.Baseline <= 0 || res.Peak <= 0 || res.After <= 0 || res.AfterGC <= 0 {
			t.Errorf("%s: %+v", sdk, res)
		}
	}
}

// TestWrongOutput checks that a wrong output is an error.
func TestWrongOutput(t *testing.T) {
	base := endpoints(t)["qcodr"]
	req := loadgen.Greet("")
	req.Want = []byte(`"Hello Bob!"`)
	c := loadgen.NewClient(loadgen.H2, 1)
	defer c.Close()
	if _, err := loadgen.Direct(c, base, req)(context.Background()); err == nil {
		t.Fatal("a wrong greeting passed validation")
	}
}
