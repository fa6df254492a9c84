// Package catalog puts every example of the main module into one
// deployment, for the programs under examples/cmd.
package catalog

import (
	"context"
	"net"
	"net/http"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/counter"
	"github.com/qcodr/restate-sdk-go/examples/cron"
	"github.com/qcodr/restate-sdk-go/examples/failures"
	"github.com/qcodr/restate-sdk-go/examples/fanout"
	"github.com/qcodr/restate-sdk-go/examples/greeter"
	"github.com/qcodr/restate-sdk-go/examples/run"
	"github.com/qcodr/restate-sdk-go/examples/saga"
	"github.com/qcodr/restate-sdk-go/examples/schema"
	"github.com/qcodr/restate-sdk-go/examples/services"
)

// Catalog holds the examples that need configuration, and what they talk
// to.
type Catalog struct {
	// API is the exchange-rate and ledger HTTP API of the run example,
	// served on APIURL.
	API      *run.API
	APIURL   string
	Exchange *run.Exchange
	Cron     *cron.Cron
	Signup   *services.App
	Booking  *saga.Saga
	Gateway  *saga.MemoryGateway

	apiServer *http.Server
}

// Rates are the exchange rates the local API serves.
var Rates = map[string]float64{"EUR/USD": 1.08, "USD/EUR": 0.93, "GBP/EUR": 1.17, "EUR/GBP": 0.85, "EUR/CHF": 0.94}

// New starts the run example's HTTP API on a free loopback port and makes
// the examples; outbox receives the emails of the services example. Close
// stops the API.
func New(outbox services.Outbox) (*Catalog, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &Catalog{API: run.NewAPI(Rates), APIURL: "http://" + ln.Addr().String(), Gateway: &saga.MemoryGateway{}}
	c.apiServer = &http.Server{Handler: c.API, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = c.apiServer.Serve(ln) }()
	c.Exchange = run.New(c.APIURL, nil)
	c.Cron = cron.New()
	c.Signup = services.New(outbox)
	c.Booking = saga.New(c.Gateway, saga.IssueTickets)
	return c, nil
}

// Definitions returns every service, virtual object and workflow.
func (c *Catalog) Definitions() []restate.ServiceDefinition {
	defs := []restate.ServiceDefinition{
		greeter.Greeter,
		counter.Counter,
		c.Exchange.Service,
		failures.Failures,
		fanout.FanOut, fanout.Worker,
		schema.Shipping,
		c.Cron.Object,
	}
	defs = append(defs, c.Signup.Definitions()...)
	return append(defs, c.Booking.Definitions()...)
}

// Close stops the HTTP API.
func (c *Catalog) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.apiServer.Shutdown(ctx)
}
