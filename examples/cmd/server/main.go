// Command server serves every example of the main module on one Restate
// endpoint, for a restate-server you run yourself:
//
//	go run ./examples/cmd/server -addr :9080
//	restate deployments register http://localhost:9080
//
// (make run does all of this for you, server included.)
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/qcodr/restate-sdk-go/examples/cmd/internal/catalog"
	"github.com/qcodr/restate-sdk-go/examples/services"
	"github.com/qcodr/restate-sdk-go/h2c"
)

func main() {
	addr := flag.String("addr", ":9080", "address to serve the Restate endpoint on")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	outbox := func(_ context.Context, e services.Email) error {
		logger.Info("email sent", "to", e.To, "subject", e.Subject, "body", e.Body)
		return nil
	}
	c, err := catalog.New(outbox)
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
	defer c.Close()
	logger.Info("serving the examples", "addr", *addr, "rates API", c.APIURL)
	if err := h2c.ListenAndServe(context.Background(), *addr, c.Definitions(), h2c.WithLogger(logger)); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}
