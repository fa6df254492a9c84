package restate

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestJSONFastPaths checks that the JSON codec's paths for strings and
// integers give exactly what encoding/json gives, for values and payloads
// on both sides of the fast paths' limits.
func TestJSONFastPaths(t *testing.T) {
	strs := []string{"", "Alice", "Hello Alice!", "a b", "~", "<", ">", "&", `"`, `\`, "\x00", "\x1f", "\x7f", "é", "\u2028", "\xff", "a\nb"}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("az09 ~!\"\\<>&\x01\x7f\xc3\xa9")
	for range 2000 {
		b := make([]byte, r.IntN(8))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		strs = append(strs, string(b))
	}
	for _, s := range strs {
		want, werr := json.Marshal(s)
		got, gerr := JSON.Marshal(s)
		if !bytes.Equal(got, want) || (gerr == nil) != (werr == nil) {
			t.Fatalf("Marshal(%q) = %q, %v; encoding/json %q, %v", s, got, gerr, want, werr)
		}
		checkUnmarshal[string](t, want)
		checkUnmarshal[string](t, []byte(`"`+s+`"`))
	}
	ints := []int64{0, 1, -1, 42, math.MaxInt64, math.MinInt64, 999999999999999999, -999999999999999999, 1e18, -1e18}
	for range 2000 {
		ints = append(ints, r.Int64()>>r.IntN(64))
	}
	for _, i := range ints {
		for _, v := range []any{i, int(i)} {
			want, _ := json.Marshal(v)
			got, err := JSON.Marshal(v)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Marshal(%T %d) = %q, %v; encoding/json %q", v, v, got, err, want)
			}
		}
		p := []byte(strconv.FormatInt(i, 10))
		checkUnmarshal[int64](t, p)
		checkUnmarshal[int](t, p)
	}
	for _, p := range []string{"", "-", "-0", "00", "01", "1.0", "1e3", " 1", "1 ", "+1", "null", `"1"`, "9223372036854775808", "-9223372036854775809", "1234567890123456789"} {
		checkUnmarshal[int64](t, []byte(p))
		checkUnmarshal[int](t, []byte(p))
		checkUnmarshal[string](t, []byte(p))
	}
}

// checkUnmarshal compares JSON.Unmarshal into a T that holds a value
// already with encoding/json (an empty payload keeps the value, as
// documented).
func checkUnmarshal[T comparable](t *testing.T, p []byte) {
	t.Helper()
	var seed T
	switch s := any(&seed).(type) {
	case *string:
		*s = "seed"
	case *int64:
		*s = 7
	case *int:
		*s = 7
	}
	got, want := seed, seed
	gerr := JSON.Unmarshal(p, &got)
	var werr error
	if len(p) > 0 {
		werr = json.Unmarshal(p, &want)
	}
	if got != want || (gerr == nil) != (werr == nil) {
		t.Fatalf("Unmarshal(%q) into %T = %v, %v; encoding/json %v, %v", p, got, got, gerr, want, werr)
	}
}
