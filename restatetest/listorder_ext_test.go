package restatetest_test

import (
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/ingress"
	"github.com/qcodr/restate-sdk-go/restatetest"
)

// TestListInvocationsNewestFirst checks that invocations created in the same
// millisecond are listed newest first, as restate-server lists them.
func TestListInvocationsNewestFirst(t *testing.T) {
	env := restatetest.New(t, all)
	ctx := testContext(t)
	var ids []string
	for range 3 {
		inv, err := restatetest.Send(ctx, env, counterSlowAdd.Target("tie"), 1, restatetest.WithDelay(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inv.ID())
	}
	invs, err := env.AdminClient().ListInvocations(ctx, ingress.InvocationFilter{Service: "Counter"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, inv := range invs {
		got = append(got, inv.ID)
	}
	want := []string{ids[2], ids[1], ids[0]}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("listed %v, want newest first %v", got, want)
	}
}
