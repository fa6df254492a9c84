// Package counter is a virtual object: a counter per key, with durable
// state. Restate runs one exclusive handler per key at a time, so add and
// reset never race, while get (a shared handler) runs alongside them.
//
//	curl localhost:8080/Counter/alice/add --json 5
//	curl localhost:8080/Counter/alice/get
//	curl -X POST localhost:8080/Counter/alice/reset
package counter

import (
	restate "github.com/qcodr/restate-sdk-go"
)

// count is the object's state: a typed key, so the compiler checks what
// is stored and read under it.
var count = restate.NewStateKey[int]("count")

// Add adds n to the counter and returns the new value.
var Add = restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
	v, err := count.Get(ctx) // 0 when nothing is stored yet
	if err != nil {
		return 0, err
	}
	v += n
	return v, count.Set(ctx, v)
})

// Get returns the counter's value. It is a shared handler: it can only
// read the state, and it does not wait for exclusive handlers to finish.
var Get = restate.NewSharedHandler("get", restate.NoInput(func(ctx restate.ObjectSharedContext) (int, error) {
	return count.Get(ctx)
}))

// Reset clears the counter.
var Reset = restate.NewObjectHandler("reset", restate.NoInputOutput(func(ctx restate.ObjectContext) error {
	return restate.ClearAll(ctx)
}))

// Counter is the virtual object to serve.
var Counter = restate.NewObject("Counter", Add, Get, Reset,
	restate.WithDocumentation("A durable counter per key."))
