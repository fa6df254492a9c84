package run_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/examples/run"
	"github.com/qcodr/restate-sdk-go/ingress"
)

var (
	env      e2e.Env
	api      = run.NewAPI(map[string]float64{"EUR/USD": 1.25, "USD/EUR": 0.8, "GBP/EUR": 1.5, "CHF/EUR": 1.0})
	faulty   = &faults{next: api, hits: map[string]int{}}
	exchange *run.Exchange
)

func TestMain(m *testing.M) {
	srv := httptest.NewServer(faulty)
	defer srv.Close()
	exchange = run.New(srv.URL, srv.Client())
	e2e.Main(m, &env, e2e.Options{}, exchange.Service)
}

// faults wraps the API: it counts requests per path, fails the next
// failRates rate requests with 503, and executes the next loseLedger
// ledger requests but answers them with 503, as if the answer was lost.
type faults struct {
	next       http.Handler
	mu         sync.Mutex
	failRates  int
	loseLedger int
	hits       map[string]int
}

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.URL.Path]++
	fail := r.URL.Path == "/rates" && f.failRates > 0
	lose := r.URL.Path == "/ledger" && f.loseLedger > 0
	if fail {
		f.failRates--
	}
	if lose {
		f.loseLedger--
	}
	f.mu.Unlock()
	switch {
	case fail:
		http.Error(w, "try again", http.StatusServiceUnavailable)
	case lose:
		f.next.ServeHTTP(httptest.NewRecorder(), r)
		http.Error(w, "lost", http.StatusServiceUnavailable)
	default:
		f.next.ServeHTTP(w, r)
	}
}

// reset sets the faults for the next test and clears the counters. The
// tests of this package run one at a time.
func (f *faults) reset(failRates, loseLedger int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failRates, f.loseLedger, f.hits = failRates, loseLedger, map[string]int{}
}

func (f *faults) count() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

func convert(t *testing.T, req run.ConvertRequest) (run.Conversion, error) {
	return ingress.Call(e2e.Context(t), env.Client, exchange.Convert.Target(), req)
}

func TestConvert(t *testing.T) {
	faulty.reset(0, 0)
	before := len(api.Entries())
	got, err := convert(t, run.ConvertRequest{Amount: 100, From: "EUR", To: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	want := run.Conversion{ConvertRequest: run.ConvertRequest{Amount: 100, From: "EUR", To: "USD"}, Rate: 1.25, Result: 125,
		LedgerID: got.LedgerID}
	if diff := cmp.Diff(want, got); diff != "" || got.LedgerID == "" {
		t.Errorf("convert (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"/rates": 1, "/ledger": 1}, faulty.count()); diff != "" {
		t.Errorf("API requests (-want +got):\n%s", diff)
	}
	if n := len(api.Entries()) - before; n != 1 {
		t.Errorf("%d ledger entries, want 1", n)
	}
}

// TestTransientFailuresAreRetried: the run retries the rate request until
// the API answers.
func TestTransientFailuresAreRetried(t *testing.T) {
	faulty.reset(2, 0)
	got, err := convert(t, run.ConvertRequest{Amount: 10, From: "USD", To: "EUR"})
	if err != nil || got.Result != 8 {
		t.Fatalf("convert = %+v, %v; want result 8", got, err)
	}
	if diff := cmp.Diff(map[string]int{"/rates": 3, "/ledger": 1}, faulty.count()); diff != "" {
		t.Errorf("API requests (-want +got):\n%s", diff)
	}
}

// TestJournaledRunIsNotRepeated: the ledger's answer is lost once, so the
// handler is retried; the retry replays the journaled rate instead of
// fetching it again, and the idempotency key keeps the ledger from
// recording the conversion twice.
func TestJournaledRunIsNotRepeated(t *testing.T) {
	faulty.reset(0, 1)
	before := len(api.Entries())
	got, err := convert(t, run.ConvertRequest{Amount: 2, From: "GBP", To: "EUR"})
	if err != nil || got.Result != 3 {
		t.Fatalf("convert = %+v, %v; want result 3", got, err)
	}
	if diff := cmp.Diff(map[string]int{"/rates": 1, "/ledger": 2}, faulty.count()); diff != "" {
		t.Errorf("API requests (-want +got):\n%s", diff)
	}
	if n := len(api.Entries()) - before; n != 1 {
		t.Errorf("%d ledger entries, want 1", n)
	}
}

func TestUnknownCurrencyIsTerminal(t *testing.T) {
	faulty.reset(0, 0)
	_, err := convert(t, run.ConvertRequest{Amount: 1, From: "EUR", To: "XYZ"})
	var te *restate.TerminalError
	if !errors.As(err, &te) || te.Code != 404 || te.Message != "no exchange rate from EUR to XYZ" {
		t.Fatalf("convert to XYZ = %v, want the terminal error 404", err)
	}
	if diff := cmp.Diff(map[string]int{"/rates": 1}, faulty.count()); diff != "" {
		t.Errorf("API requests (-want +got):\n%s", diff)
	}
}

// TestRetriesAreBounded: after 5 failed attempts the run gives up with a
// terminal error.
func TestRetriesAreBounded(t *testing.T) {
	faulty.reset(1000, 0)
	_, err := convert(t, run.ConvertRequest{Amount: 1, From: "CHF", To: "EUR"})
	if !restate.IsTerminal(err) {
		t.Fatalf("convert with the API down = %v, want a terminal error", err)
	}
	if diff := cmp.Diff(map[string]int{"/rates": 5}, faulty.count()); diff != "" {
		t.Errorf("API requests (-want +got):\n%s", diff)
	}
}
