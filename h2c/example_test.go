package h2c_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
)

func greeter() *restate.Service {
	return restate.NewService("Greeter",
		restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
			return "Hello " + name + "!", nil
		}),
	)
}

// ListenAndServe is the one-line server: HTTP/2 cleartext and HTTP/1.1 on
// one port, until SIGINT or SIGTERM, then a graceful shutdown. Register the
// endpoint with `restate deployments register http://localhost:9080`.
func ExampleListenAndServe() {
	if err := h2c.ListenAndServe(context.Background(), ":9080", []restate.ServiceDefinition{greeter()}); err != nil {
		log.Fatal(err)
	}
}

// NewHandler returns an http.Handler to mount in any mux, here under a
// prefix next to other routes. Register http://host:9080/restate with the
// runtime; the handler needs no prefix stripping.
func ExampleNewHandler() {
	h, err := h2c.NewHandler([]restate.ServiceDefinition{greeter()},
		// Verify that requests come from our Restate server.
		h2c.WithIdentityKeys(os.Getenv("RESTATE_IDENTITY_KEY")),
	)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/restate/", h)
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {})
	srv := h2c.NewServer(":9080", mux)
	go func() {
		if err := srv.ListenAndServe(); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	// Later: let invocations finish or suspend, then close the server.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)
	_ = srv.Shutdown(ctx)
}

// Serve runs until its context ends, here in request/response mode, for
// proxies that cannot stream both ways.
func ExampleServe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	if err := h2c.Serve(ctx, ln, []restate.ServiceDefinition{greeter()}, h2c.WithRequestResponse()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("stopped")
	// Output: stopped
}
