package greeter_test

import (
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/greeter"
	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/ingress"
)

var env e2e.Env

func TestMain(m *testing.M) { e2e.Main(m, &env, e2e.Options{}, greeter.Greeter) }

func TestGreet(t *testing.T) {
	t.Parallel()
	got, err := ingress.Call(e2e.Context(t), env.Client, greeter.Greet.Target(), "Alice")
	if err != nil || got != "Hello Alice!" {
		t.Fatalf("greet(Alice) = %q, %v; want %q", got, err, "Hello Alice!")
	}
}

func TestGreetWithoutName(t *testing.T) {
	t.Parallel()
	_, err := ingress.Call(e2e.Context(t), env.Client, greeter.Greet.Target(), "")
	if restate.ErrorCode(err) != 400 {
		t.Fatalf("greet(\"\") = %v, want a terminal error with code 400", err)
	}
}
