package props_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/props"
	"github.com/qcodr/restate-sdk-go/wire"
	"pgregory.net/rapid"
)

// A complete example: a virtual object that books theater seats, and the
// test that checks it with props. Copy the test next to your own handlers.

// Booking is what book returns.
type Booking struct {
	Seat int    `json:"seat"`
	Who  string `json:"who"`
}

var bookedSeats = restate.NewStateKey[[]int]("seats")

// holdSeat stands for the seat reservation system a real handler calls. In
// a test it reports each execution to props (which checks that no journaled
// run executes again) and lets the world choose the seat.
func holdSeat(ctx context.Context) (int, error) {
	if err := props.Effect(ctx); err != nil {
		return 0, err
	}
	return props.Draw(ctx, rapid.IntRange(1, 40)), nil
}

var book = restate.NewObjectHandler("book", func(ctx restate.ObjectContext, who string) (Booking, error) {
	seats, err := bookedSeats.Get(ctx)
	if err != nil {
		return Booking{}, err
	}
	if len(seats) >= 3 {
		return Booking{}, &restate.TerminalError{Code: restate.CodePreconditionFailed, Message: "sold out"}
	}
	seat, err := restate.Run(ctx, func(rc restate.RunContext) (int, error) { return holdSeat(rc) },
		restate.WithName("hold seat"))
	if err != nil {
		return Booking{}, err
	}
	paid, err := restate.WithTimeout(ctx,
		restate.Remote[int, bool]("Payments", "charge").Call(ctx, 25).Future, time.Minute).Await()
	if err != nil && !restate.IsTerminal(err) {
		return Booking{}, err
	}
	if err != nil || !paid {
		_, releaseErr := restate.Run(ctx, func(rc restate.RunContext) (restate.Void, error) {
			return restate.Void{}, props.Effect(rc)
		}, restate.WithName("release seat"))
		switch {
		case releaseErr != nil:
			return Booking{}, releaseErr
		case errors.Is(err, restate.ErrCancelled):
			return Booking{}, err
		}
		return Booking{}, &restate.TerminalError{Code: 402, Message: "payment failed"}
	}
	if err := bookedSeats.Set(ctx, append(seats, seat)); err != nil {
		return Booking{}, err
	}
	restate.Remote[string, restate.Void]("Mailer", "confirm").Send(ctx, fmt.Sprint(who, " has seat ", seat))
	return Booking{Seat: seat, Who: who}, nil
})

var theater = restate.NewObject("Theater", book)

// TestBookProperties checks book under every schedule props explores:
// completions in any order, suspensions, replays, crashes and retries,
// protocol V6 and V7, eager, lazy and partial state, for inputs, initial
// state and answers from the world drawn by rapid. `go test` runs 100
// scenarios; -rapid.checks=10000 runs more.
func TestBookProperties(t *testing.T) {
	props.Check(t, theater, book, rapid.StringMatching(`[a-z]{1,8}`),
		props.WithState("seats", rapid.SliceOfN(rapid.IntRange(1, 40), 0, 3)),
		props.WithCallResults("Payments", "charge", rapid.Bool()),
		props.WithFailures(),          // calls may fail terminally
		props.WithCancellation(),      // the invocation may be cancelled
		props.WithTransientFailures(), // holdSeat may fail and retry
	)
}

// FuzzBook runs the same property as a fuzz target:
// go test -fuzz FuzzBook ./yourpackage.
func FuzzBook(f *testing.F) {
	f.Add(make([]byte, 1<<10))
	f.Fuzz(rapid.MakeFuzz(props.Property(theater, book, rapid.StringMatching(`[a-z]{1,8}`),
		props.WithState("seats", rapid.SliceOfN(rapid.IntRange(1, 40), 0, 3)),
		props.WithCallResults("Payments", "charge", rapid.Bool()),
	)))
}

// Check goes in an ordinary test function, with the test's *testing.T.
func ExampleCheck() {
	var t *testing.T // the *testing.T of your test function

	greet := restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
		return restate.Run(ctx, func(restate.RunContext) (string, error) { return "hello " + name, nil })
	})
	greeter := restate.NewService("Greeter", greet)

	// V6 and V7 are the default; add V5 for servers before 1.5.
	props.Check(t, greeter, greet, rapid.String(), props.WithVersions(wire.V5, wire.V6, wire.V7), props.WithModes(props.Bidi))
}
