package saga_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/examples/saga"
	"github.com/qcodr/restate-sdk-go/ingress"
)

var (
	env     e2e.Env
	gateway saga.MemoryGateway
	// The ticketing system refuses to issue tickets to mallory, after she
	// has paid.
	booking = saga.New(&gateway, func(ctx context.Context, o saga.Order) ([]string, error) {
		if o.User == "mallory" {
			return nil, &restate.TerminalError{Code: 403, Message: "mallory is banned"}
		}
		return saga.IssueTickets(ctx, o)
	})
)

func TestMain(m *testing.M) { e2e.Main(m, &env, e2e.Options{}, booking.Definitions()...) }

const card = "4242 4242 4242 4242"

func seats(t *testing.T, ids ...string) map[string]saga.Seat {
	t.Helper()
	out := map[string]saga.Seat{}
	for _, id := range ids {
		s, err := ingress.Call(e2e.Context(t), env.Client, booking.Status.Target(id), restate.Void{})
		if err != nil {
			t.Fatal(err)
		}
		out[id] = s
	}
	return out
}

func TestCheckout(t *testing.T) {
	t.Parallel()
	r, err := ingress.Call(e2e.Context(t), env.Client, booking.Buy.Target(),
		saga.Order{User: "ann", Seats: []string{"A1", "A2"}, Card: card})
	if err != nil {
		t.Fatal(err)
	}
	want := saga.Receipt{PaymentID: r.PaymentID, TotalCents: 2 * saga.PriceCents, Tickets: []string{"TICKET-ANN-A1", "TICKET-ANN-A2"}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("receipt (-want +got):\n%s", diff)
	}
	if bal, refunded := gateway.Balance(r.PaymentID); bal != 2*saga.PriceCents || refunded {
		t.Errorf("payment %s: balance %d, refunded %v", r.PaymentID, bal, refunded)
	}
	if diff := cmp.Diff(map[string]saga.Seat{"A1": {Holder: "ann", Sold: true}, "A2": {Holder: "ann", Sold: true}}, seats(t, "A1", "A2")); diff != "" {
		t.Errorf("seats (-want +got):\n%s", diff)
	}
}

// TestSeatTaken: the second reservation fails, so the first is released;
// nothing is charged.
func TestSeatTaken(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	if _, err := ingress.Call(ctx, env.Client, booking.Reserve.Target("B2"), "bob"); err != nil {
		t.Fatal(err)
	}
	_, err := ingress.Call(ctx, env.Client, booking.Buy.Target(), saga.Order{User: "cem", Seats: []string{"B1", "B2"}, Card: card})
	if restate.ErrorCode(err) != restate.CodePreconditionFailed {
		t.Fatalf("checkout of a taken seat = %v, want code 412", err)
	}
	if diff := cmp.Diff(map[string]saga.Seat{"B1": {}, "B2": {Holder: "bob"}}, seats(t, "B1", "B2")); diff != "" {
		t.Errorf("seats (-want +got):\n%s", diff)
	}
}

// TestCardDeclined: the payment fails, so the refund (a no-op) runs and
// the seats are released.
func TestCardDeclined(t *testing.T) {
	t.Parallel()
	_, err := ingress.Call(e2e.Context(t), env.Client, booking.Buy.Target(),
		saga.Order{User: "dan", Seats: []string{"C1", "C2"}, Card: saga.DeclinedCard})
	var te *restate.TerminalError
	if !errors.As(err, &te) || te.Code != 402 || te.Message != "card declined" {
		t.Fatalf("checkout with a declined card = %v, want code 402", err)
	}
	if diff := cmp.Diff(map[string]saga.Seat{"C1": {}, "C2": {}}, seats(t, "C1", "C2")); diff != "" {
		t.Errorf("seats (-want +got):\n%s", diff)
	}
}

// TestIssuingFails: the last step fails after the payment went through, so
// the payment is refunded and the seats released.
func TestIssuingFails(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	refundedBefore := gateway.RefundedCents()
	inv, err := ingress.Send(ctx, env.Client, booking.Buy.Target(), saga.Order{User: "mallory", Seats: []string{"D1"}, Card: card})
	if err != nil {
		t.Fatal(err)
	}
	_, err = inv.Attach(ctx)
	if restate.ErrorCode(err) != 403 {
		t.Fatalf("checkout = %v, want code 403", err)
	}
	if got := gateway.RefundedCents() - refundedBefore; got != saga.PriceCents {
		t.Errorf("refunded %d cents after the paid order failed, want %d", got, saga.PriceCents)
	}
	if diff := cmp.Diff(map[string]saga.Seat{"D1": {}}, seats(t, "D1")); diff != "" {
		t.Errorf("seats (-want +got):\n%s", diff)
	}
	// The seat is free for someone else.
	if _, err := ingress.Call(ctx, env.Client, booking.Buy.Target(), saga.Order{User: "eve", Seats: []string{"D1"}, Card: card}); err != nil {
		t.Fatalf("checkout of the released seat: %v", err)
	}
}
