package restatetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestQueryState checks the state table's WHERE, ORDER BY and LIMIT: the
// conditions and the order apply before the limit, and a query without a
// limit returns every matching row.
func TestQueryState(t *testing.T) {
	env := New(t, nil)
	for _, kv := range []struct{ svc, key, name, v string }{
		{"A", "k1", "x", `1`}, {"A", "k1", "y", `22`}, {"A", "k2", "x", `333`}, {"B", "k1", "x", `4444`},
	} {
		env.SetState(kv.svc, kv.key, kv.name, []byte(kv.v))
	}
	type row = map[string]any
	cases := []struct {
		name, q string
		want    []row
	}{
		{"all", "SELECT key, service_key FROM state WHERE service_name = 'A'",
			[]row{{"key": "x", "service_key": "k1"}, {"key": "y", "service_key": "k1"}, {"key": "x", "service_key": "k2"}}},
		{"where-then-limit", "SELECT value_utf8 FROM state WHERE service_name = 'A' AND key = 'x' LIMIT 1",
			[]row{{"value_utf8": "1"}}},
		{"order-then-limit", "SELECT value_utf8 FROM state ORDER BY value_length DESC LIMIT 2",
			[]row{{"value_utf8": "4444"}, {"value_utf8": "333"}}},
		{"where-order", "SELECT value_length FROM state WHERE key = 'x' ORDER BY value_length",
			[]row{{"value_length": 1}, {"value_length": 3}, {"value_length": 4}}},
		{"semicolon", "SELECT key FROM state WHERE service_name = 'B';", []row{{"key": "x"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := env.query(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.q, diff)
			}
		})
	}
}
