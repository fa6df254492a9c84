package services

import restate "github.com/qcodr/restate-sdk-go"

// recursiveSelf is KillTestSingleton.recursiveCall's typed reference to
// itself: the handler's own variable would be an initialization cycle.
var recursiveSelf restate.Ref[*restate.ObjectHandler[restate.Void, restate.Void]]

var singletonRecursiveCall = recursiveSelf.Set(restate.NewObjectHandler("recursiveCall", restate.NoInputOutput(
	func(ctx restate.ObjectContext) error {
		awk := restate.NewAwakeable[string](ctx)
		holderHold.Send(ctx, ctx.Key(), awk.ID())
		if _, err := awk.Await(); err != nil {
			return err
		}
		// The key is held by this invocation: the call never starts.
		_, err := recursiveSelf.Get().Call(ctx, ctx.Key(), restate.Void{}).Await()
		return err
	})))

// KillTestSingleton is a virtual object whose recursiveCall parks an
// awakeable in AwakeableHolder, waits for it, then calls itself on the same
// key, which deadlocks until the call tree is killed. isUnlocked is a no-op
// telling that the key is free again.
var KillTestSingleton = restate.NewObject("KillTestSingleton",
	singletonRecursiveCall,
	restate.NewObjectHandler("isUnlocked", restate.NoInputOutput(func(restate.ObjectContext) error { return nil })),
)

// KillTestRunner is a virtual object whose startCallTree calls
// KillTestSingleton.recursiveCall on the same key and waits for it.
var KillTestRunner = restate.NewObject("KillTestRunner",
	restate.NewObjectHandler("startCallTree", restate.NoInputOutput(func(ctx restate.ObjectContext) error {
		_, err := singletonRecursiveCall.Call(ctx, ctx.Key(), restate.Void{}).Await()
		return err
	})),
)
