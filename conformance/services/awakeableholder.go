package services

import restate "github.com/qcodr/restate-sdk-go"

var heldAwakeable = restate.NewStateKey[string]("id")

// holderHold is AwakeableHolder.hold, called by the cancellation and kill
// test services.
var holderHold = restate.NewObjectHandler("hold", restate.NoOutput(
	func(ctx restate.ObjectContext, id string) error {
		return heldAwakeable.Set(ctx, id)
	}))

// AwakeableHolder is a virtual object through which the test runner
// resolves an awakeable created by another service: hold stores its id,
// hasAwakeable tells whether one is stored, unlock resolves it with a
// string payload (404 when none is stored) and forgets it.
var AwakeableHolder = restate.NewObject("AwakeableHolder",
	holderHold,
	restate.NewObjectHandler("hasAwakeable", restate.NoInput(func(ctx restate.ObjectContext) (bool, error) {
		_, ok, err := heldAwakeable.Lookup(ctx)
		return ok, err
	})),
	restate.NewObjectHandler("unlock", restate.NoOutput(func(ctx restate.ObjectContext, payload string) error {
		id, ok, err := heldAwakeable.Lookup(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return &restate.TerminalError{Code: 404, Message: "no awakeable is held"}
		}
		if err := restate.ResolveAwakeable(ctx, id, payload); err != nil {
			return err
		}
		return heldAwakeable.Clear(ctx)
	})),
)
