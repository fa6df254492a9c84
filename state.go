package restate

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// StateKey names one state value of a virtual object or workflow and carries
// its type: the compiler checks what is stored and read under it. Make one
// with [NewStateKey]; it is a small value, cheap to create per call.
type StateKey[T any] struct {
	name  string
	codec Codec
}

// NewStateKey returns the state key name for values of type T, encoded with
// JSON, or with codec when one is given.
func NewStateKey[T any](name string, codec ...Codec) StateKey[T] {
	k := StateKey[T]{name: name, codec: JSON}
	if len(codec) > 0 && codec[0] != nil {
		k.codec = codec[0]
		checkCodec[T](k.codec, "state key "+name)
	}
	return k
}

// Name returns the key's name.
func (k StateKey[T]) Name() string { return k.name }

// check fails on the zero StateKey, which has no codec: declared with var
// instead of made with NewStateKey.
func (k StateKey[T]) check() error {
	if k.codec == nil {
		return fmt.Errorf("restate: zero StateKey[%s] (name %q): make state keys with NewStateKey", reflect.TypeFor[T](), k.name)
	}
	return nil
}

// Get returns the value stored under the key, or T's zero value when there
// is none. A stored value that does not decode into T is a terminal error
// naming the key and the type.
func (k StateKey[T]) Get(ctx ObjectSharedContext) (T, error) {
	v, _, err := k.Lookup(ctx)
	return v, err
}

// Lookup returns the value stored under the key and whether there is one.
// Get, Lookup, Set and Clear of the zero StateKey fail with an error
// saying so.
func (k StateKey[T]) Lookup(ctx ObjectSharedContext) (T, bool, error) {
	if err := k.check(); err != nil {
		var zero T
		return zero, false, err
	}
	hc := ctx.base()
	var (
		h     replay.Handle
		r     wire.Result
		ready bool
	)
	err := hc.inv.Do(func(m *replay.Machine) error {
		var err error
		h, err = m.GetState(k.name)
		if err == nil {
			// Served from the eager state: no need to wait.
			r, ready = m.Take(h)
		}
		return err
	})
	var zero T
	if err != nil {
		return zero, false, err
	}
	if !ready {
		r, err = newLeaf(hc.inv, h, func(r wire.Result) (wire.Result, error) { return r, nil }).Await()
		if err != nil {
			return zero, false, err
		}
	}
	switch r.Kind {
	case wire.ResultValue:
		v, err := decode[T](k.codec, r.Value)
		if err != nil {
			return zero, false, &TerminalError{Code: 500, Err: err,
				Message: fmt.Sprintf("restate: state %q does not decode into %s: %v", k.name, reflect.TypeFor[T](), err)}
		}
		return v, true, nil
	case wire.ResultFailure:
		return zero, false, terminalFromFailure(r.Failure)
	}
	return zero, false, nil
}

// Set stores value under the key.
func (k StateKey[T]) Set(ctx ObjectContext, value T) error {
	if err := k.check(); err != nil {
		return err
	}
	b, err := encode(k.codec, value)
	if err != nil {
		return fmt.Errorf("restate: cannot encode state %q: %w", k.name, err)
	}
	return ctx.base().inv.Do(func(m *replay.Machine) error {
		return m.SetState(k.name, nonNil(b))
	})
}

// Clear removes the value stored under the key.
func (k StateKey[T]) Clear(ctx ObjectContext) error {
	if err := k.check(); err != nil {
		return err
	}
	return ctx.base().inv.Do(func(m *replay.Machine) error {
		return m.ClearState(k.name)
	})
}

// ClearAll removes every state value of the object or workflow.
func ClearAll(ctx ObjectContext) error {
	return ctx.base().inv.Do(func(m *replay.Machine) error {
		return m.ClearAllState()
	})
}

// Keys returns the names of the stored state values, sorted.
func Keys(ctx ObjectSharedContext) ([]string, error) {
	hc := ctx.base()
	var h replay.Handle
	err := hc.inv.Do(func(m *replay.Machine) error {
		var err error
		h, err = m.GetStateKeys()
		return err
	})
	if err != nil {
		return nil, err
	}
	return newLeaf(hc.inv, h, func(r wire.Result) ([]string, error) {
		if r.Kind == wire.ResultFailure {
			return nil, terminalFromFailure(r.Failure)
		}
		keys := make([]string, len(r.StateKeys))
		for i, k := range r.StateKeys {
			keys[i] = string(k)
		}
		slices.Sort(keys)
		return keys, nil
	}).Await()
}
