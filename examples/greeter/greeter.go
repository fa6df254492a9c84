// Package greeter is the smallest Restate service: one stateless handler,
// invocable through the ingress as POST /Greeter/greet.
//
//	curl localhost:8080/Greeter/greet --json '"Alice"'
package greeter

import (
	"fmt"

	restate "github.com/qcodr/restate-sdk-go"
)

// Greet says hello. A handler is a plain function of a context and an
// input; its types decide the JSON the handler accepts and returns.
var Greet = restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
	if name == "" {
		// A terminal error is the invocation's result: it is not retried.
		return "", &restate.TerminalError{Code: 400, Message: "greet: a name is required"}
	}
	return fmt.Sprintf("Hello %s!", name), nil
})

// Greeter is the service to serve.
var Greeter = restate.NewService("Greeter", Greet,
	restate.WithDocumentation("Says hello."))
