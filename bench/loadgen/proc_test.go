package loadgen

import (
	"os"
	"testing"
	"time"
)

func TestProcSelf(t *testing.T) {
	pid := os.Getpid()
	c0, err := CPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	c1, err := CPU(pid)
	if err != nil || c1 < c0 {
		t.Fatalf("cpu %v then %v, %v (%d)", c0, c1, err, x)
	}
	rss, err := RSS(pid)
	if err != nil || rss < 1<<20 {
		t.Fatalf("rss %d, %v", rss, err)
	}
}
