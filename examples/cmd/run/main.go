// Command run is what `make run` runs: it installs restate-server and the
// restate CLI from npm into the git-ignored .cache/restate when they are
// missing, starts the server on loopback with a temporary base directory,
// serves every example of this module on one endpoint, registers it, runs
// a few real invocations through the typed ingress client and prints them,
// and then waits for your own curl commands until Ctrl-C, when it stops
// everything it started.
//
// It uses the standard ports (ingress 8080, admin 9070, endpoint 9080,
// node 5122) when they are free, and free ones otherwise.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/cmd/internal/catalog"
	"github.com/qcodr/restate-sdk-go/examples/counter"
	"github.com/qcodr/restate-sdk-go/examples/cron"
	"github.com/qcodr/restate-sdk-go/examples/failures"
	"github.com/qcodr/restate-sdk-go/examples/fanout"
	"github.com/qcodr/restate-sdk-go/examples/greeter"
	"github.com/qcodr/restate-sdk-go/examples/run"
	"github.com/qcodr/restate-sdk-go/examples/saga"
	"github.com/qcodr/restate-sdk-go/examples/schema"
	"github.com/qcodr/restate-sdk-go/examples/services"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := runAll(ctx, os.Stdout)
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "\nmake run: interrupted; everything it started is stopped")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "\nmake run:", err)
		os.Exit(1)
	}
}

func runAll(ctx context.Context, out io.Writer) error {
	p, notes, err := choosePorts()
	if err != nil {
		return err
	}

	cache, _ := restateserver.CacheDir()
	fmt.Fprintf(out, "Preparing restate-server %s in %s (installed from npm on the first run)...\n", restateserver.Version, cache)
	if _, err := exec.LookPath("npm"); err != nil {
		fmt.Fprintln(out, "  (npm is not on PATH: this only works if restate-server is installed already)")
	}
	bins, err := restateserver.Install(ctx)
	if err != nil {
		return fmt.Errorf("cannot install restate-server: %w", err)
	}

	// The examples' endpoint, with the emails of the signup printed here.
	mail := &services.MemoryOutbox{}
	outbox := func(ctx context.Context, e services.Email) error {
		fmt.Fprintf(out, "    [email to %s] %s: %s\n", e.To, e.Subject, e.Body)
		return mail.Deliver(ctx, e)
	}
	cat, err := catalog.New(outbox)
	if err != nil {
		return err
	}
	defer cat.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p.endpoint))
	if err != nil {
		return fmt.Errorf("cannot serve the examples on port %d: %w", p.endpoint, err)
	}
	sctx, stopServing := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h2c.Serve(sctx, ln, cat.Definitions()) }()
	defer func() {
		stopServing()
		<-served
	}()

	srv, err := startServer(ctx, bins.Server, p)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "\nStopping restate-server and the examples...")
		srv.stop()
	}()

	client := ingress.NewClient(srv.ingressURL())
	admin := ingress.NewAdmin(srv.adminURL())
	endpointURL := "http://127.0.0.1:" + strconv.Itoa(p.endpoint)
	dep, err := admin.Register(ctx, endpointURL)
	if err != nil {
		return fmt.Errorf("cannot register the examples at %s: %w", endpointURL, err)
	}

	fmt.Fprintf(out, "\nrestate-server %s is running:\n", restateserver.Version)
	fmt.Fprintf(out, "  ingress    %s\n  admin API  %s  (UI at %s/ui)\n  examples   %s  (this process)\n",
		srv.ingressURL(), srv.adminURL(), srv.adminURL(), endpointURL)
	for _, n := range notes {
		fmt.Fprintln(out, "  note:", n)
	}
	fmt.Fprintf(out, "  registered deployment %s: %s\n", dep.ID, strings.Join(dep.Services, ", "))

	fmt.Fprintln(out, "\nA few invocations through the typed ingress client:")
	if err := demo(ctx, out, client, cat, mail); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("demo: %w (server log: %s)", err, srv.logPath)
	}

	printTry(out, srv, bins)
	<-ctx.Done()
	return nil
}

// step prints one invocation and its result.
func step[T any](out io.Writer, what string, v T, err error) error {
	fmt.Fprintf(out, "\n  %s\n", what)
	var te *restate.TerminalError
	switch {
	case errors.As(err, &te):
		fmt.Fprintf(out, "    -> terminal error %d: %s\n", te.Code, te.Message)
		return nil
	case err != nil:
		return err
	}
	b, _ := json.Marshal(v)
	fmt.Fprintf(out, "    -> %s\n", b)
	return nil
}

func demo(ctx context.Context, out io.Writer, c *ingress.Client, cat *catalog.Catalog, mail *services.MemoryOutbox) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	greeting, err := ingress.Call(ctx, c, greeter.Greet.Target(), "Alice")
	if err := step(out, `Greeter/greet "Alice"`, greeting, err); err != nil {
		return err
	}

	for _, n := range []int{5, 7} {
		total, err := ingress.Call(ctx, c, counter.Add.Target("alice"), n)
		if err := step(out, fmt.Sprintf("Counter/alice/add %d", n), total, err); err != nil {
			return err
		}
	}
	total, err := ingress.Call(ctx, c, counter.Get.Target("alice"), restate.Void{})
	if err := step(out, "Counter/alice/get", total, err); err != nil {
		return err
	}

	conv, err := ingress.Call(ctx, c, cat.Exchange.Convert.Target(), run.ConvertRequest{Amount: 100, From: "EUR", To: "USD"})
	if err := step(out, `Exchange/convert {"amount":100,"from":"EUR","to":"USD"}   (an HTTP call to `+cat.APIURL+` in restate.Run)`, conv, err); err != nil {
		return err
	}

	_, err = ingress.Call(ctx, c, failures.Reserve.Target(), failures.Reservation{Item: "book", Quantity: 0})
	if err := step(out, `Failures/reserve {"item":"book","quantity":0}   (a terminal error: not retried)`, "", err); err != nil {
		return err
	}
	flaky, err := ingress.Call(ctx, c, failures.Flaky.Target(), 2)
	if err := step(out, "Failures/flaky 2   (fails twice with a transient error, retried by Restate)", flaky, err); err != nil {
		return err
	}

	start := time.Now()
	all, err := ingress.Call(ctx, c, fanout.All.Target(), []fanout.Task{{Name: "a", Millis: 500}, {Name: "b", Millis: 300}, {Name: "c", Millis: 400}})
	if err := step(out, fmt.Sprintf("FanOut/all (three calls of 300-500ms on durable timers, concurrently: took %s)", time.Since(start).Round(100*time.Millisecond)), all, err); err != nil {
		return err
	}

	quote, err := ingress.Call(ctx, c, schema.QuoteParcel.Target(), schema.Parcel{
		From: schema.Address{Country: "DE", City: "Berlin"}, To: schema.Address{Country: "FR", City: "Paris"},
		WeightGrams: 1200, Options: []string{"express"},
	})
	if err := step(out, "Shipping/quote (structured input and output)", quote, err); err != nil {
		return err
	}

	user := fmt.Sprintf("demo-%d", time.Now().Unix())
	wf, err := ingress.Submit(ctx, c, cat.Signup.Run.Target(user), services.SignupRequest{Name: "Dana", Email: user + "@example.com"})
	if err := step(out, "Signup/"+user+"/run (workflow submitted; it emails a code and waits on a durable promise)", wf.Status(), err); err != nil {
		return err
	}
	var code string
	for code == "" && ctx.Err() == nil {
		if sent := mail.Sent(user + "@example.com"); len(sent) > 0 {
			code = services.Code(sent[0])
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	ok, err := ingress.Call(ctx, c, cat.Signup.Verify.Target(user), code)
	if err := step(out, fmt.Sprintf("Signup/%s/verify %q", user, code), ok, err); err != nil {
		return err
	}
	u, err := wf.Attach(ctx)
	if err := step(out, "attach to workflow Signup/"+user, u, err); err != nil {
		return err
	}

	receipt, err := ingress.Call(ctx, c, cat.Booking.Buy.Target(), saga.Order{User: "ann", Seats: []string{"A1", "A2"}, Card: "4242 4242 4242 4242"})
	if err := step(out, `Checkout/checkout {"user":"ann","seats":["A1","A2"]}`, receipt, err); err != nil {
		return err
	}
	_, err = ingress.Call(ctx, c, cat.Booking.Buy.Target(), saga.Order{User: "bob", Seats: []string{"B1", "B2"}, Card: saga.DeclinedCard})
	if err := step(out, `Checkout/checkout {"user":"bob","seats":["B1","B2"],"card":"`+saga.DeclinedCard+`"}   (compensated)`, "", err); err != nil {
		return err
	}
	seat, err := ingress.Call(ctx, c, cat.Booking.Status.Target("B1"), restate.Void{})
	if err := step(out, "Tickets/B1/status   (released by the compensation)", seat, err); err != nil {
		return err
	}

	st, err := ingress.Call(ctx, c, cat.Cron.Start.Target("demo"), cron.Schedule{IntervalMillis: 5000, Times: 12})
	return step(out, `Cron/demo/start {"intervalMillis":5000,"times":12}   (runs every 5s for a minute)`, st, err)
}

func printTry(out io.Writer, srv *server, bins restateserver.Binaries) {
	in := srv.ingressURL()
	j := "-H 'content-type: application/json'"
	fmt.Fprintf(out, `
Ready. Try your own (Ctrl-C stops everything):

  curl %[1]s/Greeter/greet %[2]s -d '"Bob"'
  curl %[1]s/Counter/bob/add %[2]s -d 3
  curl -X POST %[1]s/Counter/bob/get
  curl %[1]s/Exchange/convert %[2]s -d '{"amount": 50, "from": "GBP", "to": "EUR"}'
  curl %[1]s/Exchange/convert %[2]s -d '{"amount": 50, "from": "GBP", "to": "XYZ"}'
  curl %[1]s/FanOut/deadline %[2]s -d '{"millis": 1000, "tasks": [{"name": "fast", "millis": 100}, {"name": "slow", "millis": 3000}]}'
  curl %[1]s/Greeter/greet/send?delay=10s %[2]s -d '"later"'
  curl %[1]s/Signup/u2/run/send %[2]s -d '{"name": "Bo", "email": "bo@example.com"}'
  curl %[1]s/Signup/u2/verify %[2]s -d '"<the code printed above>"'
  curl %[1]s/restate/workflow/Signup/u2/attach
  curl %[1]s/Checkout/checkout %[2]s -d '{"user": "cy", "seats": ["A1", "C1"], "card": "4242"}'
  curl -X POST %[1]s/Cron/demo/status

  curl %[3]s/services          # the admin API: services, handlers, JSON schemas
  RESTATE_ADMIN_URL=%[3]s %[4]s invocations list
`, in, j, srv.adminURL(), relative(bins.CLI))
}

// relative shortens path to one relative to the working directory when
// that is shorter.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && len(rel) < len(path) && !strings.HasPrefix(rel, "..") {
		return "./" + rel
	}
	return path
}
