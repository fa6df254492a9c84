// Package saga books concert tickets across three services and undoes the
// completed steps when a later one fails for good: the saga pattern, with
// Restate's durability making the compensations themselves reliable.
//
// Checkout/checkout reserves each seat (Tickets, a virtual object per
// seat), charges the card (Payments, in front of a payment gateway) and
// issues the tickets (an external ticketing system). Each step that
// succeeds pushes its compensation; a terminal error runs them in reverse
// order: refund the payment, release the seats. Transient errors are not
// compensated: Restate retries them.
//
//	curl localhost:8080/Checkout/checkout --json '{"user": "ann", "seats": ["A1", "A2"], "card": "4242 4242 4242 4242"}'
//	curl localhost:8080/Tickets/A1/status
package saga

import (
	"context"
	"fmt"
	"strings"
	"sync"

	restate "github.com/qcodr/restate-sdk-go"
)

// PriceCents is the price of one seat.
const PriceCents = 4500

// DeclinedCard is a card number the example gateway declines.
const DeclinedCard = "4000 0000 0000 0002"

// Order is the input of checkout.
type Order struct {
	User  string   `json:"user"`
	Seats []string `json:"seats"`
	Card  string   `json:"card"`
}

// Receipt is the output of checkout.
type Receipt struct {
	PaymentID  string   `json:"paymentId"`
	TotalCents int64    `json:"totalCents"`
	Tickets    []string `json:"tickets"`
}

// Seat is the state of a seat, as Tickets/status reports it.
type Seat struct {
	Holder string `json:"holder,omitempty"`
	Sold   bool   `json:"sold"`
}

// Charge is the input of Payments/charge.
type Charge struct {
	PaymentID   string `json:"paymentId"`
	Card        string `json:"card"`
	AmountCents int64  `json:"amountCents"`
}

// Gateway is the payment provider: its calls must be idempotent by payment
// id, since a step may be executed again after a failure.
type Gateway interface {
	Charge(ctx context.Context, c Charge) error
	Refund(ctx context.Context, paymentID string) error
}

// Issuer issues the tickets of a paid order in the external ticketing
// system and returns their codes.
type Issuer func(ctx context.Context, o Order) ([]string, error)

// Saga holds the example's services and handlers.
type Saga struct {
	Tickets  *restate.Object
	Reserve  *restate.ObjectHandler[string, restate.Void]
	Release  *restate.ObjectHandler[string, restate.Void]
	MarkSold *restate.ObjectHandler[string, restate.Void]
	Status   *restate.SharedHandler[restate.Void, Seat]

	Payments   *restate.Service
	ChargeCard *restate.Handler[Charge, restate.Void]
	Refund     *restate.Handler[string, restate.Void]

	Checkout *restate.Service
	Buy      *restate.Handler[Order, Receipt]
}

// Definitions returns the services, to serve together.
func (s *Saga) Definitions() []restate.ServiceDefinition {
	return []restate.ServiceDefinition{s.Tickets, s.Payments, s.Checkout}
}

var seat = restate.NewStateKey[Seat]("seat")

// New returns the services, using gw for payments and issue for tickets.
func New(gw Gateway, issue Issuer) *Saga {
	s := &Saga{}
	s.Reserve = restate.NewObjectHandler("reserve", restate.NoOutput(func(ctx restate.ObjectContext, user string) error {
		st, err := seat.Get(ctx)
		if err != nil {
			return err
		}
		if st.Holder != "" && st.Holder != user {
			return &restate.TerminalError{Code: restate.CodePreconditionFailed, Message: "seat " + ctx.Key() + " is taken"}
		}
		return seat.Set(ctx, Seat{Holder: user})
	}))
	s.Release = restate.NewObjectHandler("release", restate.NoOutput(func(ctx restate.ObjectContext, user string) error {
		// A compensation must be safe to run for a step that never
		// happened, and to run twice.
		st, err := seat.Get(ctx)
		if err != nil || st.Holder != user || st.Sold {
			return err
		}
		return seat.Clear(ctx)
	}))
	s.MarkSold = restate.NewObjectHandler("markSold", restate.NoOutput(func(ctx restate.ObjectContext, user string) error {
		return seat.Set(ctx, Seat{Holder: user, Sold: true})
	}))
	s.Status = restate.NewSharedHandler("status", restate.NoInput(func(ctx restate.ObjectSharedContext) (Seat, error) {
		return seat.Get(ctx)
	}))
	s.Tickets = restate.NewObject("Tickets", s.Reserve, s.Release, s.MarkSold, s.Status)

	s.ChargeCard = restate.NewHandler("charge", restate.NoOutput(func(ctx restate.Context, c Charge) error {
		return restate.RunVoid(ctx, func(rc restate.RunContext) error { return gw.Charge(rc, c) }, restate.WithName("charge"))
	}))
	s.Refund = restate.NewHandler("refund", restate.NoOutput(func(ctx restate.Context, paymentID string) error {
		return restate.RunVoid(ctx, func(rc restate.RunContext) error { return gw.Refund(rc, paymentID) }, restate.WithName("refund"))
	}))
	s.Payments = restate.NewService("Payments", s.ChargeCard, s.Refund)

	s.Buy = restate.NewHandler("checkout", func(ctx restate.Context, o Order) (Receipt, error) {
		return s.checkout(ctx, o, issue)
	})
	s.Checkout = restate.NewService("Checkout", s.Buy,
		restate.WithDocumentation("Books tickets; undoes the booking when a step fails."))
	return s
}

func (s *Saga) checkout(ctx restate.Context, o Order, issue Issuer) (_ Receipt, err error) {
	if o.User == "" || len(o.Seats) == 0 {
		return Receipt{}, &restate.TerminalError{Code: 400, Message: "an order needs a user and seats"}
	}
	var compensations []func() error
	defer func() {
		if !restate.IsTerminal(err) {
			return // success, or a transient error Restate will retry
		}
		// Undo in reverse order. Each compensation is a durable call:
		// if one fails transiently, returning its error makes Restate retry
		// the handler, which replays the finished compensations and carries
		// on. (Compensations must not fail terminally.)
		for i := len(compensations) - 1; i >= 0; i-- {
			if cerr := compensations[i](); cerr != nil {
				err = cerr
				return
			}
		}
	}()

	for _, id := range o.Seats {
		compensations = append(compensations, func() error {
			_, err := s.Release.Call(ctx, id, o.User).Await()
			return err
		})
		if _, err := s.Reserve.Call(ctx, id, o.User).Await(); err != nil {
			return Receipt{}, err
		}
	}

	// The payment id is chosen before charging (deterministically, so a
	// retry uses the same one): the refund is registered before the charge
	// and works even if the charge failed halfway.
	paymentID := restate.UUID(ctx)
	total := int64(len(o.Seats)) * PriceCents
	compensations = append(compensations, func() error {
		_, err := s.Refund.Call(ctx, paymentID).Await()
		return err
	})
	if _, err := s.ChargeCard.Call(ctx, Charge{PaymentID: paymentID, Card: o.Card, AmountCents: total}).Await(); err != nil {
		return Receipt{}, err
	}

	tickets, err := restate.Run(ctx, func(rc restate.RunContext) ([]string, error) { return issue(rc, o) },
		restate.WithName("issue tickets"))
	if err != nil {
		return Receipt{}, err
	}
	for _, id := range o.Seats {
		if _, err := s.MarkSold.Call(ctx, id, o.User).Await(); err != nil {
			return Receipt{}, err
		}
	}
	return Receipt{PaymentID: paymentID, TotalCents: total, Tickets: tickets}, nil
}

// MemoryGateway is an in-memory payment provider: it declines
// [DeclinedCard] and keeps a balance per payment id. It is safe for
// concurrent use.
type MemoryGateway struct {
	mu            sync.Mutex
	balances      map[string]int64
	refunds       map[string]bool
	refundedCents int64
}

// Charge charges c.Card once per payment id.
func (g *MemoryGateway) Charge(_ context.Context, c Charge) error {
	if c.Card == DeclinedCard {
		return &restate.TerminalError{Code: 402, Message: "card declined"}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.balances == nil {
		g.balances, g.refunds = map[string]int64{}, map[string]bool{}
	}
	if _, done := g.balances[c.PaymentID]; !done && !g.refunds[c.PaymentID] {
		g.balances[c.PaymentID] = c.AmountCents
	}
	return nil
}

// Refund refunds the payment id, if it was charged.
func (g *MemoryGateway) Refund(_ context.Context, paymentID string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.balances == nil {
		g.balances, g.refunds = map[string]int64{}, map[string]bool{}
	}
	g.refunds[paymentID] = true
	g.refundedCents += g.balances[paymentID]
	delete(g.balances, paymentID)
	return nil
}

// Balance returns what payment id holds now, and whether it was refunded.
func (g *MemoryGateway) Balance(paymentID string) (int64, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.balances[paymentID], g.refunds[paymentID]
}

// RefundedCents returns the money refunded so far.
func (g *MemoryGateway) RefundedCents() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.refundedCents
}

// IssueTickets is an [Issuer] that makes a ticket code per seat.
func IssueTickets(_ context.Context, o Order) ([]string, error) {
	out := make([]string, len(o.Seats))
	for i, s := range o.Seats {
		out[i] = fmt.Sprintf("TICKET-%s-%s", strings.ToUpper(o.User), s)
	}
	return out, nil
}
