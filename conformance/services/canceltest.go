package services

import (
	"errors"
	"fmt"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// BlockingOperation is what CancelTestBlockingService.block blocks on
// after its awakeable was resolved.
type BlockingOperation string

// The blocking operations.
const (
	BlockOnCall      BlockingOperation = "CALL"
	BlockOnSleep     BlockingOperation = "SLEEP"
	BlockOnAwakeable BlockingOperation = "AWAKEABLE"
)

var canceledState = restate.NewStateKey[bool]("canceled")

// blockSelf is CancelTestBlockingService.block's typed reference to
// itself: the handler's own variable would be an initialization cycle.
var blockSelf restate.Ref[*restate.ObjectHandler[BlockingOperation, restate.Void]]

var blockingBlock = blockSelf.Set(restate.NewObjectHandler("block", restate.NoOutput(
	func(ctx restate.ObjectContext, op BlockingOperation) error {
		awk := restate.NewAwakeable[string](ctx)
		if _, err := holderHold.Call(ctx, ctx.Key(), awk.ID()).Await(); err != nil {
			return err
		}
		if _, err := awk.Await(); err != nil {
			return err
		}
		switch op {
		case BlockOnCall:
			_, err := blockSelf.Get().Call(ctx, ctx.Key(), BlockOnCall).Await()
			return err
		case BlockOnSleep:
			return restate.Sleep(ctx, 1000*24*time.Hour)
		case BlockOnAwakeable:
			_, err := restate.NewAwakeable[string](ctx).Await()
			return err
		}
		return restate.TerminalErrorf("unknown blocking operation %q", op)
	})))

// CancelTestBlockingService is a virtual object whose block handler parks
// an awakeable in AwakeableHolder, waits for it, and then blocks forever on
// a call to itself, a very long sleep or another awakeable, until it is
// cancelled. isUnlocked is a no-op telling that the key is free again.
var CancelTestBlockingService = restate.NewObject("CancelTestBlockingService",
	blockingBlock,
	restate.NewObjectHandler("isUnlocked", restate.NoInputOutput(func(restate.ObjectContext) error { return nil })),
)

// CancelTestRunner is a virtual object whose startTest calls
// CancelTestBlockingService.block on the same key and records, once that
// call fails with the cancellation (409), that it was cancelled;
// verifyTest returns the record.
var CancelTestRunner = restate.NewObject("CancelTestRunner",
	restate.NewObjectHandler("startTest", restate.NoOutput(func(ctx restate.ObjectContext, op BlockingOperation) error {
		_, err := blockingBlock.Call(ctx, ctx.Key(), op).Await()
		switch {
		case errors.Is(err, restate.ErrCancelled):
			return canceledState.Set(ctx, true)
		case err != nil:
			return err
		}
		return restate.Terminal(fmt.Errorf("block(%s) returned without being cancelled", op))
	})),
	restate.NewObjectHandler("verifyTest", restate.NoInput(func(ctx restate.ObjectContext) (bool, error) {
		return canceledState.Get(ctx)
	})),
)
