//go:build restate_failover

package restateserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
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

// Sizes of the failover workload: 300 invocations sent through the ingress
// (plus one nested call per worker invocation).
const (
	foCounterKeys   = 20 // FoCounter keys, foAddsPerKey adds each
	foAddsPerKey    = 5
	foWorkers       = 60 // FoWorker.process, each calling FoSquare.square
	foAwakeables    = 60 // FoAwake.wait, each resolved through the ingress
	foWorkflows     = 40 // FoFlow runs, each with a signal call
	foInvocations   = foCounterKeys*foAddsPerKey + foWorkers + foAwakeables + 2*foWorkflows
	foSendWorkers   = 16
	foTestTimeout   = 6 * time.Minute
	foRetryInterval = 250 * time.Millisecond
)

// effects counts the executions of every run by tag, and which runs have
// returned (their result acknowledged by the runtime). An execution of a run
// that had returned before is a duplicate: Restate must replay the stored
// result instead. An execution before that may repeat, when the node
// leading the partition died before storing the result.
type effects struct {
	mu           sync.Mutex
	runs         map[string]int
	journaled    map[string]bool
	afterJournal map[string]int
	count        atomic.Int64 // runs journaled
}

func newEffects() *effects {
	return &effects{runs: map[string]int{}, journaled: map[string]bool{}, afterJournal: map[string]int{}}
}

// ran is called inside the run's closure.
func (e *effects) ran(tag string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.runs[tag]++
	if e.journaled[tag] {
		e.afterJournal[tag]++
	}
}

// returned is called after the run returned to the handler.
func (e *effects) returned(tag string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.journaled[tag] {
		e.journaled[tag] = true
		e.count.Add(1)
	}
}

// run is restate.Run of fn, counted under tag.
func run[T any](ctx restate.Context, e *effects, tag string, fn func() T) (T, error) {
	v, err := restate.Run(ctx, func(restate.RunContext) (T, error) {
		e.ran(tag)
		return fn(), nil
	})
	if err == nil {
		e.returned(tag)
	}
	return v, err
}

// TestClusterFailover sends a few hundred invocations of mixed kinds (object
// state updates with counted runs and timers, calls between services,
// awakeables resolved through the ingress, workflows waiting on a durable
// promise) to an endpoint of this SDK behind a three-node cluster, and
// SIGKILLs the node leading most partitions while they are in flight,
// restarts it, then kills the node leading most partitions among the
// others. Every invocation must complete exactly once with its result, no
// run may execute again after it returned, and the objects' state must end
// as expected. It prints the counts: completed, retried by the client, lost,
// duplicated.
//
// It takes a few minutes, so it runs only with the build tag
// restate_failover (make failover).
func TestClusterFailover(t *testing.T) {
	begin := time.Now()
	since := func() time.Duration { return time.Since(begin).Round(time.Millisecond) }
	ctx, cancel := context.WithTimeout(context.Background(), foTestTimeout)
	defer cancel()
	c, err := restateserver.StartCluster(ctx, restateserver.ClusterOptions{
		// As the official suite's three-node configurations.
		Env: map[string]string{"RESTATE_DEFAULT_NUM_PARTITIONS": "4"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("cluster ready after %s", since())

	fx := newEffects()
	awakeableIDs := sync.Map{} // i -> awakeable id

	count := restate.NewStateKey[int]("count")
	add := restate.NewObjectHandler("add", func(ctx restate.ObjectContext, n int) (int, error) {
		v, err := count.Get(ctx)
		if err != nil {
			return 0, err
		}
		v, err = run(ctx, fx, "c:"+ctx.Key()+":"+strconv.Itoa(v), func() int { return v + n })
		if err != nil {
			return 0, err
		}
		// Suspended on a timer while the node dies.
		if err := restate.Sleep(ctx, 4*time.Second); err != nil {
			return 0, err
		}
		return v, count.Set(ctx, v)
	})
	get := restate.NewSharedHandler("get", restate.NoInput(func(ctx restate.ObjectSharedContext) (int, error) {
		return count.Get(ctx)
	}))
	square := restate.NewHandler("square", func(ctx restate.Context, i int) (int, error) {
		return run(ctx, fx, "s:"+strconv.Itoa(i), func() int { return i * i })
	})
	process := restate.NewHandler("process", func(ctx restate.Context, i int) (int, error) {
		v, err := run(ctx, fx, "w:"+strconv.Itoa(i), func() int { return 3 * i })
		if err != nil {
			return 0, err
		}
		if err := restate.Sleep(ctx, 8*time.Second); err != nil {
			return 0, err
		}
		sq, err := square.Call(ctx, i).Await()
		if err != nil {
			return 0, err
		}
		return v + sq, nil
	})
	wait := restate.NewHandler("wait", func(ctx restate.Context, i int) (int, error) {
		awk := restate.NewAwakeable[int](ctx)
		if _, err := run(ctx, fx, "a:"+strconv.Itoa(i), func() bool {
			awakeableIDs.Store(i, awk.ID())
			return true
		}); err != nil {
			return 0, err
		}
		v, err := awk.Await()
		return v + 1, err
	})
	const promise = "signal"
	flow := restate.NewWorkflowHandler("run", func(ctx restate.WorkflowContext, i int) (int, error) {
		base, err := run(ctx, fx, "f:"+ctx.Key(), func() int { return 1000 * i })
		if err != nil {
			return 0, err
		}
		v, err := restate.Promise[int](ctx, promise).Result().Await()
		return base + v, err
	})
	signal := restate.NewWorkflowSharedHandler("signal", func(ctx restate.WorkflowSharedContext, v int) (restate.Void, error) {
		return restate.Void{}, restate.Promise[int](ctx, promise).Resolve(v)
	})
	services := []restate.ServiceDefinition{
		restate.NewObject("FoCounter", add, get),
		restate.NewService("FoSquare", square),
		restate.NewService("FoWorker", process),
		restate.NewService("FoAwake", wait),
		restate.NewWorkflow("FoFlow", flow, signal),
	}

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

	// The invocations and their expected results (want < 0: checked per
	// key afterwards, the adds of one key completing in any order).
	type inv struct {
		name, path, body, key string
		want                  int
		id                    string
		got                   int
		done                  bool
	}
	var invs []*inv
	for k := range foCounterKeys {
		for j := range foAddsPerKey {
			key := "k" + strconv.Itoa(k)
			invs = append(invs, &inv{name: fmt.Sprintf("add %s #%d", key, j), path: "/FoCounter/" + key + "/add", body: "1", key: key, want: -1})
		}
	}
	for i := range foWorkers {
		invs = append(invs, &inv{name: "process " + strconv.Itoa(i), path: "/FoWorker/process", body: strconv.Itoa(i), want: 3*i + i*i})
	}
	for i := range foAwakeables {
		invs = append(invs, &inv{name: "wait " + strconv.Itoa(i), path: "/FoAwake/wait", body: strconv.Itoa(i), want: 10*i + 1})
	}
	for i := range foWorkflows {
		invs = append(invs, &inv{name: "flow " + strconv.Itoa(i), path: "/FoFlow/wf" + strconv.Itoa(i) + "/run", body: strconv.Itoa(i), want: 1000*i + 7*i})
	}

	var retries atomic.Int64
	client := &anyNode{c: c, retries: &retries}
	var senders sync.WaitGroup
	senders.Go(func() {
		parallel(foSendWorkers, len(invs), func(i int) {
			in := invs[i]
			// A workflow's key is its idempotency key already: sending its run
			// again answers with the same invocation.
			idem := "fo-" + strconv.Itoa(i)
			if strings.HasPrefix(in.path, "/FoFlow/") {
				idem = ""
			}
			status, body := client.do(ctx, http.MethodPost, in.path+"/send", in.body, idem)
			var resp struct {
				InvocationID string `json:"invocationId"`
			}
			if status/100 != 2 || json.Unmarshal([]byte(body), &resp) != nil || resp.InvocationID == "" {
				t.Errorf("send %s: %d %q", in.name, status, body)
				return
			}
			in.id = resp.InvocationID
		})
	})

	// kill SIGKILLs the node leading most partitions, among those not in
	// skip, once the leaders are known.
	kill := func(skip ...int) int {
		leaders, err := c.Leaders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		victim, most := -1, -1
		for _, i := range slices.Sorted(maps.Keys(leaders)) {
			if !slices.Contains(skip, i) && c.Node(i).Running() && leaders[i] > most {
				victim, most = i, leaders[i]
			}
		}
		if victim < 0 {
			t.Fatalf("no node to kill: leaders %v", leaders)
		}
		c.Kill(victim)
		t.Logf("killed node n%d (SIGKILL), leader of %d partitions (leaders %v), after %s; %d runs journaled",
			victim+1, most, leaders, since(), fx.count.Load())
		return victim
	}
	waitRuns := func(n int64) {
		for fx.count.Load() < n && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Runs journaled: one per add, worker, square, awakeable and flow.
	totalRuns := int64(foCounterKeys*foAddsPerKey + 2*foWorkers + foAwakeables + foWorkflows)
	// The first kill comes while the invocations are still being sent.
	waitRuns(totalRuns / 8)
	first := kill()
	senders.Wait()
	t.Logf("%d invocations sent after %s (%d client retries)", len(invs), since(), retries.Load())

	// The awakeables are resolved from now on, with the first node down,
	// while the leaders move; the workflows' promises only after the
	// second kill.
	var resolvers sync.WaitGroup
	secondKilled := make(chan struct{})
	resolvers.Go(func() {
		parallel(foSendWorkers/2, foAwakeables, func(i int) {
			var id any
			for ctx.Err() == nil {
				var ok bool
				if id, ok = awakeableIDs.Load(i); ok {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			status, body := client.do(ctx, http.MethodPost, "/restate/awakeables/"+id.(string)+"/resolve", strconv.Itoa(10*i), "")
			if status/100 != 2 {
				t.Errorf("resolve awakeable of wait %d: %d %q", i, status, body)
			}
		})
	})
	resolvers.Go(func() {
		select {
		case <-secondKilled:
		case <-ctx.Done():
		}
		parallel(foSendWorkers/2, foWorkflows, func(i int) {
			path := "/FoFlow/wf" + strconv.Itoa(i) + "/signal"
			status, body := client.do(ctx, http.MethodPost, path, strconv.Itoa(7*i), "fo-signal-"+strconv.Itoa(i))
			if status != http.StatusOK {
				t.Errorf("signal wf%d: %d %q", i, status, body)
			}
		})
	})

	waitRuns(totalRuns / 4)
	if err := c.Restart(ctx, first); err != nil {
		t.Fatal(err)
	}
	t.Logf("node n%d restarted, cluster ready after %s", first+1, since())
	waitRuns(totalRuns / 2)
	kill(first)
	close(secondKilled)

	parallel(foSendWorkers, len(invs), func(i int) {
		in := invs[i]
		if in.id == "" {
			return
		}
		status, body := client.do(ctx, http.MethodGet, "/restate/invocation/"+in.id+"/attach", "", "")
		v, err := strconv.Atoi(strings.TrimSpace(body))
		if status != http.StatusOK || err != nil {
			t.Errorf("%s (%s): %d %q", in.name, in.id, status, body)
			return
		}
		in.got, in.done = v, true
		if in.want >= 0 && v != in.want {
			t.Errorf("%s (%s) = %d, want %d", in.name, in.id, v, in.want)
		}
	})
	resolvers.Wait()
	t.Logf("attached to every invocation after %s", since())

	completed, lost := 0, 0
	perKey := map[string][]int{}
	for _, in := range invs {
		if !in.done {
			lost++
			continue
		}
		completed++
		if in.want < 0 {
			perKey[in.key] = append(perKey[in.key], in.got)
		}
	}
	// Signals complete too: count them with the invocations.
	completed += foWorkflows
	wantAdds := make([]int, foAddsPerKey)
	for j := range wantAdds {
		wantAdds[j] = j + 1
	}
	stateWrong := 0
	for k := range foCounterKeys {
		key := "k" + strconv.Itoa(k)
		got := slices.Sorted(slices.Values(perKey[key]))
		if len(perKey[key]) == foAddsPerKey && !slices.Equal(got, wantAdds) {
			t.Errorf("adds of %s returned %v, want each of %v once", key, got, wantAdds)
		}
		status, body := client.do(ctx, http.MethodGet, "/FoCounter/"+key+"/get", "", "")
		if status != http.StatusOK || strings.TrimSpace(body) != strconv.Itoa(foAddsPerKey) {
			stateWrong++
			t.Errorf("state of %s: %d %q, want %d", key, status, body, foAddsPerKey)
		}
	}

	fx.mu.Lock()
	defer fx.mu.Unlock()
	duplicated, reexecuted := 0, 0
	for tag, n := range fx.afterJournal {
		duplicated += n
		t.Errorf("run %s executed %d more times after it returned", tag, n)
	}
	for _, n := range fx.runs {
		reexecuted += n - 1
	}
	if int64(len(fx.journaled)) != totalRuns {
		t.Errorf("%d runs journaled, want %d", len(fx.journaled), totalRuns)
	}
	if lost > 0 || stateWrong > 0 {
		t.Errorf("%d invocations lost, %d keys with wrong state", lost, stateWrong)
	}
	t.Logf("%d invocations: %d completed, %d retried by the client, %d lost, %d duplicated; "+
		"%d runs journaled, %d run executions repeated before their result was stored; %s in all",
		foInvocations, completed, retries.Load(), lost, duplicated, len(fx.journaled), reexecuted, since())
}

// anyNode sends ingress requests to a running node of the cluster, moving
// to the next one on connection errors and 5xx answers (a partition whose
// leader moves, a dead node), and counts those retries. Requests carry an
// idempotency key when they start invocations, so a retry never starts a
// second one.
type anyNode struct {
	c       *restateserver.Cluster
	retries *atomic.Int64
	next    atomic.Int64
}

func (a *anyNode) do(ctx context.Context, method, path, body, idempotencyKey string) (int, string) {
	for {
		run := a.c.Running()
		if len(run) > 0 {
			n := run[int(a.next.Add(1))%len(run)]
			status, out, err := doCall(ctx, n.IngressURL()+path, method, body, idempotencyKey)
			if err == nil && status < 500 {
				return status, out
			}
			if ctx.Err() != nil {
				return status, fmt.Sprintf("%s (%v)", out, err)
			}
		} else if ctx.Err() != nil {
			return 0, "no node running"
		}
		a.retries.Add(1)
		time.Sleep(foRetryInterval)
	}
}

// parallel calls fn(i) for i in [0, n) on workers goroutines and waits.
func parallel(workers, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}
