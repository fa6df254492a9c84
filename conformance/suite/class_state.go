package suite

import (
	"context"
	"fmt"
	"slices"
)

// stateClass ports State: keyed state reads and writes, one-way updates,
// listing and clearing all state.
func stateClass() *Class {
	return &Class{
		Name:     State,
		Services: []string{svcCounter, svcProxy, svcMapObject},
		Tests: []Test{
			{Name: "add", Concurrent: true, Run: stateAdd},
			{Name: "proxyOneWayAdd", Concurrent: true, Run: proxyOneWayAdd},
			{Name: "listStateAndClearAll", Concurrent: true, Run: listStateAndClearAll},
		},
	}
}

func stateAdd(ctx context.Context, e *Env) error {
	counter := ObjectTarget(svcCounter, NewUUID(), "add")
	res1, err := Call[counterUpdate](ctx, e.Ingress, counter, 1, Idempotent())
	if err != nil {
		return err
	}
	if err := expectEqual("first add", res1, counterUpdate{OldValue: 0, NewValue: 1}); err != nil {
		return err
	}
	res2, err := Call[counterUpdate](ctx, e.Ingress, counter, 2, Idempotent())
	if err != nil {
		return err
	}
	return expectEqual("second add", res2, counterUpdate{OldValue: 1, NewValue: 3})
}

func proxyOneWayAdd(ctx context.Context, e *Env) error {
	counterID := NewUUID()
	for range 3 {
		if _, err := e.Ingress.Call(ctx, ServiceTarget(svcProxy, "oneWayCall"), proxyRequest{
			ServiceName:      svcCounter,
			VirtualObjectKey: counterID,
			HandlerName:      "add",
			Message:          JSONBytes(1),
		}, Idempotent()); err != nil {
			return err
		}
	}
	return awaitCounter(ctx, e, counterID, 3)
}

func listStateAndClearAll(ctx context.Context, e *Env) error {
	mapName := NewUUID()
	set := func(name, key, value string) error {
		_, err := e.Ingress.Call(ctx, ObjectTarget(svcMapObject, name, "set"), mapEntry{Key: key, Value: value}, Idempotent())
		return err
	}
	get := func(name, key string) (string, error) {
		return Call[string](ctx, e.Ingress, ObjectTarget(svcMapObject, name, "get"), key, Idempotent())
	}
	if err := set(mapName, "my-key-0", "my-value-0"); err != nil {
		return err
	}
	if err := set(mapName, "my-key-1", "my-value-1"); err != nil {
		return err
	}
	// State of another object.
	if err := set(mapName+"1", "my-key-2", "my-value-2"); err != nil {
		return err
	}
	entries, err := Call[[]mapEntry](ctx, e.Ingress, ObjectTarget(svcMapObject, mapName, "clearAll"), nil, Idempotent())
	if err != nil {
		return err
	}
	var keys []string
	for _, en := range entries {
		keys = append(keys, en.Key)
	}
	slices.Sort(keys)
	if err := expectEqual("cleared keys", keys, []string{"my-key-0", "my-key-1"}); err != nil {
		return err
	}
	for _, k := range []string{"my-key-0", "my-key-1"} {
		v, err := get(mapName, k)
		if err != nil {
			return err
		}
		if v != "" {
			return fmt.Errorf("get(%s) after clearAll = %q, want empty", k, v)
		}
	}
	// The other object was left untouched.
	v, err := get(mapName+"1", "my-key-2")
	if err != nil {
		return err
	}
	return expectEqual("other object's my-key-2", v, "my-value-2")
}
