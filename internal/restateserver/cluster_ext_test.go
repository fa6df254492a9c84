package restateserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

// TestClusterSmoke runs an endpoint of this SDK behind a three-node cluster
// (replicated loglet, replication 2, replicated metadata store), sends
// invocations that journal a counted side effect and then wait on a timer,
// kills the node that provisioned the cluster with SIGKILL while they wait,
// and checks that each invocation completes once with its result, that no
// side effect ran again once its Run had returned (the runtime acknowledged
// its result; an execution whose result was not stored yet may run again,
// which Restate allows) and that the state survives the node's restart.
func TestClusterSmoke(t *testing.T) {
	const keys = 8
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := restateserver.StartCluster(ctx, restateserver.ClusterOptions{
		// Fewer partitions than the default 24 elect their leaders sooner
		// on a loaded machine; they are still spread over the three nodes.
		Env: map[string]string{"RESTATE_DEFAULT_NUM_PARTITIONS": "6"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("cluster ready after %s", time.Since(begin).Round(time.Millisecond))

	var mu sync.Mutex
	sideEffects := map[string]int{}  // executions per run
	journaled := map[string]bool{}   // runs whose Run returned
	afterJournal := map[string]int{} // executions of a journaled run
	var ran atomic.Int64             // runs journaled
	count := restate.NewStateKey[int]("count")
	add := restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
		v, err := count.Get(ctx)
		if err != nil {
			return 0, err
		}
		tag := ctx.Key() + ":" + strconv.Itoa(v)
		v, err = restate.Run(ctx, func(restate.RunContext) (int, error) {
			mu.Lock()
			sideEffects[tag]++
			if journaled[tag] {
				afterJournal[tag]++
			}
			mu.Unlock()
			return v + n, nil
		})
		if err != nil {
			return 0, err
		}
		// Run returns once the runtime has acknowledged the result; a
		// replay returns it here too, hence the check.
		mu.Lock()
		if !journaled[tag] {
			journaled[tag] = true
			ran.Add(1)
		}
		mu.Unlock()
		if n > 1 {
			// The first round waits long enough for the node to be killed
			// while its invocations are suspended on the timer.
			if err := restate.Sleep(ctx, 3*time.Second); err != nil {
				return 0, err
			}
		}
		return v, count.Set(ctx, v)
	})
	get := restate.NewSharedHandler("get", restate.NoInput(func(ctx restate.ObjectSharedContext) (int, error) {
		return count.Get(ctx)
	}))
	services := []restate.ServiceDefinition{restate.NewObject("ClusterCounter", add, get)}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { errc <- h2c.Serve(sctx, ln, services, h2c.WithLogger(quiet)) }()
	defer func() {
		scancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	if _, err := c.Register(ctx, "http://"+ln.Addr().String(), restateserver.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	// Register returns once every node serves the services: each node's
	// ingress answers at once, without a 404 "service not found" (which
	// the retrying call would not retry).
	var probes sync.WaitGroup
	for i := range c.Nodes() {
		probes.Go(func() {
			status, body, _ := call(ctx, c, i, http.MethodPost, "/ClusterCounter/probe/get", "", "")
			if status != http.StatusOK || strings.TrimSpace(body) != "0" {
				t.Errorf("node n%d right after Register: %d %q, want 200 0", i+1, status, body)
			}
		})
	}
	probes.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Round one: key k adds k+2 (always more than one, so it sleeps).
	ids := make([]string, keys)
	for k := range keys {
		path := fmt.Sprintf("/ClusterCounter/k%d/add/send", k)
		status, body, _ := call(ctx, c, 0, http.MethodPost, path, strconv.Itoa(k+2), "round1-"+strconv.Itoa(k))
		if status != http.StatusAccepted && status != http.StatusOK {
			t.Fatalf("send %s: %d %s", path, status, body)
		}
		var resp struct {
			InvocationID string `json:"invocationId"`
		}
		if err := json.Unmarshal([]byte(body), &resp); err != nil || resp.InvocationID == "" {
			t.Fatalf("send %s: %q: %v", path, body, err)
		}
		ids[k] = resp.InvocationID
	}
	// Kill once every side effect is journaled and the invocations wait on
	// their timers.
	for ran.Load() < keys {
		if ctx.Err() != nil {
			t.Fatalf("only %d of %d side effects journaled", ran.Load(), keys)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Kill(0)
	t.Logf("killed node 1 (SIGKILL) after %s", time.Since(begin).Round(time.Millisecond))

	retries := 0
	for k, id := range ids {
		status, body, r := call(ctx, c, 1, http.MethodGet, "/restate/invocation/"+id+"/attach", "", "")
		retries += r
		if status != http.StatusOK || strings.TrimSpace(body) != strconv.Itoa(k+2) {
			t.Errorf("invocation %s of k%d: %d %q, want 200 %d", id, k, status, body, k+2)
		}
	}
	t.Logf("round one completed after %s, %d client retries", time.Since(begin).Round(time.Millisecond), retries)

	if err := c.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("node 1 restarted, cluster ready after %s", time.Since(begin).Round(time.Millisecond))
	// Round two through the restarted node: state kept, one more add each.
	for k := range keys {
		status, body, _ := call(ctx, c, 0, http.MethodPost, fmt.Sprintf("/ClusterCounter/k%d/add", k), "1", "round2-"+strconv.Itoa(k))
		if status != http.StatusOK || strings.TrimSpace(body) != strconv.Itoa(k+3) {
			t.Errorf("round two k%d: %d %q, want 200 %d", k, status, body, k+3)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sideEffects) != 2*keys {
		t.Errorf("side effects of %d runs, want %d: %v", len(sideEffects), 2*keys, sideEffects)
	}
	for tag, n := range afterJournal {
		t.Errorf("side effect %s ran %d more times after its Run returned", tag, n)
	}
	for tag, n := range sideEffects {
		if n > 1 {
			t.Logf("side effect %s ran %d times, before its result was stored", tag, n)
		}
	}
	t.Logf("done after %s", time.Since(begin).Round(time.Millisecond))
}

// call sends a request to the ingress of node i, retrying on connection
// errors and 5xx answers (a partition whose leader moves) with the same
// idempotency key, so a retry never starts a second invocation. It returns
// the last status and body and the number of retries.
func call(ctx context.Context, c *restateserver.Cluster, node int, method, path, body, idempotencyKey string) (int, string, int) {
	retries := 0
	for {
		status, out, err := doCall(ctx, c.Node(node).IngressURL()+path, method, body, idempotencyKey)
		if err == nil && status < 500 {
			return status, out, retries
		}
		if ctx.Err() != nil {
			return status, fmt.Sprintf("%s (%v)", out, err), retries
		}
		retries++
		time.Sleep(200 * time.Millisecond)
	}
}

func doCall(ctx context.Context, url, method, body, idempotencyKey string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, "", err
	}
	if body != "" {
		req.Header.Set("content-type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set("idempotency-key", idempotencyKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
