package props_test

import (
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/props"
	"github.com/qcodr/restate-sdk-go/wire"
	"pgregory.net/rapid"
)

// refuse fails with a terminal error that carries metadata, which V6 and V7
// carry and V5 cannot.
var refuse = restate.NewHandler("refuse", func(ctx restate.Context, field string) (string, error) {
	return "", &restate.TerminalError{Code: restate.CodeUnprocessable, Message: "invalid", Metadata: map[string]string{"field": field}}
})

var refuser = restate.NewService("Refuser", refuse)

// TestDefaultVersionsAreWhatRestate17Negotiates checks that props checks by
// default the versions a deployment negotiates with restate-server 1.7 (V6
// by default, V7 when enabled): a correct handler that returns terminal
// error metadata passes without options.
func TestDefaultVersionsAreWhatRestate17Negotiates(t *testing.T) {
	props.Check(t, refuser, refuse, rapid.StringMatching(`[a-z]{1,4}`))
}

// TestV5ExplainsWhatItCannotCarry checks the report when V5 is chosen
// explicitly and the handler does something V5 cannot carry: it names V5
// and the feature, instead of a generic violation.
func TestV5ExplainsWhatItCannotCarry(t *testing.T) {
	out := mustFail(t, props.Property(refuser, refuse, rapid.StringMatching(`[a-z]{1,4}`), props.WithVersions(wire.V5)))
	wantReport(t, out, "protocol", "terminal error metadata needs service protocol V6", "negotiated V5",
		"props.WithVersions chose V5", "restate-server 1.7 negotiates V6")
}
