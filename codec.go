package restate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
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
	if b, ok := encodePlainJSON(v); ok {
		return b, nil
	}
	return json.Marshal(v)
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	if decodePlainJSON(data, v) {
		return nil
	}
	if len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, v)
}

// encodePlainJSON encodes, without reflection, the values whose JSON is
// plain (see plainJSONString), as encoding/json would. It does not retain
// v, so a caller's conversion to any need not escape.
func encodePlainJSON(v any) ([]byte, bool) {
	switch x := v.(type) {
	case Void:
		return nil, true
	case string:
		if plainJSONString(x) {
			b := make([]byte, 0, len(x)+2)
			return append(append(append(b, '"'), x...), '"'), true
		}
	case int:
		return strconv.AppendInt(nil, int64(x), 10), true
	case int64:
		return strconv.AppendInt(nil, x, 10), true
	}
	return nil, false
}

// decodePlainJSON decodes, without reflection, the payloads whose JSON is
// plain into *Void, *string, *int and *int64, and reports whether it did.
// It does not retain v, so the caller's variable can stay on its stack.
func decodePlainJSON(data []byte, v any) bool {
	switch p := v.(type) {
	case *Void:
		return true
	case *string:
		if n := len(data); n >= 2 && data[0] == '"' && data[n-1] == '"' && plainJSONString(data[1:n-1]) {
			*p = string(data[1 : n-1])
			return true
		}
	case *int:
		if i, ok := plainJSONInt(data); ok {
			*p = int(i)
			return true
		}
	case *int64:
		if i, ok := plainJSONInt(data); ok {
			*p = i
			return true
		}
	}
	return false
}

// plainJSONString reports whether s is printable ASCII that encoding/json
// writes as is between quotes: no quote, backslash, control character or
// character it escapes for HTML. The JSON codec handles such strings, the
// payloads of most handlers, without reflection; it gives the same bytes
// and values as encoding/json.
func plainJSONString[S string | []byte](s S) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// plainJSONInt parses a JSON integer of at most 18 digits (so it cannot
// overflow an int64, or an int on 64-bit platforms), without white space.
// Anything else, it leaves to encoding/json.
func plainJSONInt(b []byte) (int64, bool) {
	d := b
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 18 || (d[0] == '0' && len(d) > 1) || strconv.IntSize < 64 {
		return 0, false
	}
	var n int64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(d) < len(b) {
		n = -n
	}
	return n, true
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
	if _, ok := c.(jsonCodec); ok {
		if b, ok := encodePlainJSON(v); ok {
			return b, nil
		}
	}
	return c.Marshal(v)
}

// decode decodes data into a T. The JSON codec's plain values decode into
// a variable on the stack; only the general path, through the Codec
// interface, needs one on the heap.
func decode[T any](c Codec, data []byte) (T, error) {
	var v T
	if _, ok := c.(jsonCodec); ok && decodePlainJSON(data, &v) {
		return v, nil
	}
	p := new(T)
	err := c.Unmarshal(data, p)
	return *p, err
}

func isVoid[T any]() bool {
	var zero T
	_, ok := any(zero).(Void)
	return ok
}
