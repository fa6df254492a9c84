package counter_test

import (
	"fmt"
	"sync"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/counter"
	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/ingress"
)

var env e2e.Env

func TestMain(m *testing.M) { e2e.Main(m, &env, e2e.Options{}, counter.Counter) }

func TestAddGetReset(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	key := "alice"
	for i, want := range []int{5, 12} {
		got, err := ingress.Call(ctx, env.Client, counter.Add.Target(key), []int{5, 7}[i])
		if err != nil || got != want {
			t.Fatalf("add #%d = %d, %v; want %d", i, got, err, want)
		}
	}
	if got, err := ingress.Call(ctx, env.Client, counter.Get.Target(key), restate.Void{}); err != nil || got != 12 {
		t.Fatalf("get = %d, %v; want 12", got, err)
	}
	if got := storedState(t, key); got != "12" {
		t.Errorf("stored state = %q, want 12", got)
	}
	// Keys are independent objects.
	if got, err := ingress.Call(ctx, env.Client, counter.Get.Target("bob"), restate.Void{}); err != nil || got != 0 {
		t.Fatalf("get(bob) = %d, %v; want 0", got, err)
	}
	if _, err := ingress.Call(ctx, env.Client, counter.Reset.Target(key), restate.Void{}); err != nil {
		t.Fatal(err)
	}
	if got, err := ingress.Call(ctx, env.Client, counter.Get.Target(key), restate.Void{}); err != nil || got != 0 {
		t.Fatalf("get after reset = %d, %v; want 0", got, err)
	}
	if got := storedState(t, key); got != "" {
		t.Errorf("stored state after reset = %q, want none", got)
	}
}

// TestConcurrentAdds sends many adds to one key at once: the object runs
// them one at a time, so none is lost.
func TestConcurrentAdds(t *testing.T) {
	t.Parallel()
	ctx := e2e.Context(t)
	key := "concurrent"
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := ingress.Call(ctx, env.Client, counter.Add.Target(key), 1); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, err := ingress.Call(ctx, env.Client, counter.Get.Target(key), restate.Void{}); err != nil || got != n {
		t.Fatalf("get = %d, %v; want %d", got, err, n)
	}
}

// storedState reads the object's state as the runtime stores it.
func storedState(t *testing.T, key string) string {
	t.Helper()
	rows, err := env.Query(e2e.Context(t), fmt.Sprintf(
		"SELECT value_utf8 FROM state WHERE service_name = 'Counter' AND service_key = '%s' AND key = 'count'", key))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return ""
	}
	v, _ := rows[0]["value_utf8"].(string)
	return v
}
