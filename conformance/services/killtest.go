package services

import restate "github.com/qcodr/restate-sdk-go"

// recursiveSelf calls KillTestSingleton.recursiveCall by name, from inside
// that handler.
var recursiveSelf = restate.RemoteObject[restate.Void, restate.Void]("KillTestSingleton", "recursiveCall")

var singletonRecursiveCall = restate.NewObjectHandler("recursiveCall", restate.NoInputOutput(
	func(ctx restate.ObjectContext) error {
		awk := restate.NewAwakeable[string](ctx)
		holderHold.Send(ctx, ctx.Key(), awk.ID())
		if _, err := awk.Await(); err != nil {
			return err
		}
		// The key is held by this invocation: the call never starts.
		_, err := recursiveSelf.Call(ctx, ctx.Key(), restate.Void{}).Await()
		return err
	}))

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
