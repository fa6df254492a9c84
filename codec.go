package restate

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// Codec turns values into payload bytes and back: handler inputs and
// outputs, state values, run results, call parameters.
type Codec interface {
	// ContentType is advertised in the manifest for handler inputs and
	// outputs, for example "application/json".
	ContentType() string
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into the value v points to.
	Unmarshal(data []byte, v any) error
}

// JSON is the default codec: encoding/json. An empty payload decodes into
// the zero value, so handlers whose input is optional accept an empty body.
var JSON Codec = jsonCodec{}

// Raw passes bytes through unchanged. It works only with []byte values (and
// Void); use it for binary handlers and opaque payloads.
var Raw Codec = rawCodec{}

type jsonCodec struct{}

func (jsonCodec) ContentType() string { return "application/json" }

func (jsonCodec) Marshal(v any) ([]byte, error) {
	if _, ok := v.(Void); ok {
		return nil, nil
	}
	return json.Marshal(v)
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	if _, ok := v.(*Void); ok {
		return nil
	}
	if len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, v)
}

type rawCodec struct{}

func (rawCodec) ContentType() string { return "application/octet-stream" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case Void:
		return nil, nil
	}
	return nil, fmt.Errorf("restate: the Raw codec encodes []byte, not %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	switch p := v.(type) {
	case *[]byte:
		*p = append([]byte(nil), data...)
		return nil
	case *Void:
		return nil
	}
	return fmt.Errorf("restate: the Raw codec decodes into *[]byte, not %T", v)
}

// Void is the type of "no value": the input of handlers that take none, the
// output of handlers and futures that return none. It encodes as an empty
// payload with every codec of this package.
type Void struct{}

// checkCodec panics at construction time when c cannot handle T.
func checkCodec[T any](c Codec, what string) {
	if _, ok := c.(rawCodec); !ok {
		return
	}
	var zero T
	switch any(zero).(type) {
	case []byte, Void:
		return
	}
	panic(fmt.Sprintf("restate: %s: the Raw codec needs []byte values, not %s", what, reflect.TypeFor[T]()))
}

func encode[T any](c Codec, v T) ([]byte, error) {
	return c.Marshal(v)
}

func decode[T any](c Codec, data []byte) (T, error) {
	var v T
	err := c.Unmarshal(data, &v)
	return v, err
}

func isVoid[T any]() bool {
	var zero T
	_, ok := any(zero).(Void)
	return ok
}
