// Command lambda is a Restate deployment that runs as an AWS Lambda
// function: a Greeter service and a Counter virtual object, served by
// package lambda under the standard Go runtime client of
// github.com/aws/aws-lambda-go.
//
// Build it for the provided.al2023 runtime as a binary named bootstrap, zip
// it, create the function and register one of its published versions with
// Restate by ARN; README.md has the commands.
//
// Environment:
//   - RESTATE_IDENTITY_KEYS: comma-separated request identity public keys
//     (publickeyv1_…); when set, only requests signed by restate-server with
//     a matching private key are served.
package main

import (
	"fmt"
	"log"
	"os"
	"strings"

	awslambda "github.com/aws/aws-lambda-go/lambda"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/lambda"
)

func main() {
	h, err := newHandler()
	if err != nil {
		log.Fatal(err)
	}
	awslambda.Start(h.Invoke)
}

func newHandler() (*lambda.Handler, error) {
	var opts []lambda.Option
	if keys := os.Getenv("RESTATE_IDENTITY_KEYS"); keys != "" {
		opts = append(opts, lambda.WithIdentityKeys(strings.Split(keys, ",")...))
	}
	return lambda.NewHandler(services(), opts...)
}

func services() []restate.ServiceDefinition {
	greet := restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
		return fmt.Sprintf("Hello %s!", name), nil
	})
	// Each Run costs one more Lambda invocation: the runtime must store the
	// result before the handler may use it, and over Lambda the attempt
	// suspends until it has.
	ticket := restate.NewHandler("ticket", func(ctx restate.Context, name string) (string, error) {
		id, err := restate.Run(ctx, func(restate.RunContext) (string, error) {
			return "T-" + strings.ToUpper(name), nil
		}, restate.WithName("issue"))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s holds ticket %s", name, id), nil
	})
	count := restate.NewStateKey[int]("count")
	add := restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
		v, err := count.Get(ctx)
		if err != nil {
			return 0, err
		}
		return v + n, count.Set(ctx, v+n)
	})
	get := restate.NewSharedHandler("get", restate.NoInput(func(ctx restate.ObjectSharedContext) (int, error) {
		return count.Get(ctx)
	}))
	return []restate.ServiceDefinition{
		restate.NewService("Greeter", greet, ticket),
		restate.NewObject("Counter", add, get),
	}
}
