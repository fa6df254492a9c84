package endpoint

import (
	"testing"
	"time"
)

func TestRateLog(t *testing.T) {
	t.Parallel()
	var l RateLog
	t0 := time.Unix(1000, 0)
	if ok, n := l.Allow(t0); !ok || n != 0 {
		t.Fatalf("first message: %v, %d; want it through", ok, n)
	}
	for i := range 1000 {
		if ok, _ := l.Allow(t0.Add(time.Duration(i) * time.Millisecond)); ok {
			t.Fatalf("message %d within the interval was let through", i)
		}
	}
	if ok, n := l.Allow(t0.Add(RejectLogInterval)); !ok || n != 1000 {
		t.Fatalf("after the interval: %v, %d; want it through with 1000 held back", ok, n)
	}
}
