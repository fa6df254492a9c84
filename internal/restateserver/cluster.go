package restateserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultClusterStartTimeout bounds how long [StartCluster] and
// [Cluster.Restart] wait for the cluster to become ready when
// [ClusterOptions.StartTimeout] is zero.
const DefaultClusterStartTimeout = 90 * time.Second

// ClusterOptions configures [StartCluster].
type ClusterOptions struct {
	// Binaries selects the runtime to run. When Binaries.Server is empty,
	// StartCluster calls [Install].
	Binaries Binaries

	// Nodes is the number of nodes; zero means 3.
	Nodes int

	// Replication is the replication factor of the replicated loglet and of
	// the partitions; zero means 2.
	Replication int

	// KeepBaseDirs keeps the nodes' temporary base directories after Close.
	KeepBaseDirs bool

	// Env holds extra environment variables for every node, as
	// [Options.Env] does for a single server.
	Env map[string]string

	// StartTimeout bounds the wait for the cluster to be ready; zero means
	// [DefaultClusterStartTimeout].
	StartTimeout time.Duration
}

// Cluster is a set of restate-server processes forming one Restate cluster
// on loopback ports: every node runs all roles (ingress, admin, worker, log
// server and a member of the replicated metadata store), the log is the
// replicated loglet and the first node provisions the cluster. Its methods
// are safe for concurrent use.
type Cluster struct {
	nodes        []*Server
	ctl          string
	startTimeout time.Duration
	mu           sync.Mutex // serialises Kill, Restart and Close
}

// clusterSeq numbers the clusters of this process, for their names.
var clusterSeq atomic.Int64

// clusterName returns a name for a new cluster, unique on this machine: a
// node only joins a cluster of its own name, so a node of one test's
// cluster that reaches a port another test's cluster reused after it
// closed is refused instead of joining it.
func clusterName() string {
	return "restateserver-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(clusterSeq.Add(1), 10)
}

// StartCluster launches the nodes, each with its own temporary base
// directory, and waits until the cluster is ready (see [Cluster.WaitReady]).
// The returned Cluster must be closed with [Cluster.Close].
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	bins, err := resolveBinaries(ctx, opts.Binaries)
	if err != nil {
		return nil, err
	}
	if bins.Ctl == "" {
		return nil, errors.New("restateserver: a cluster needs restatectl to check its readiness")
	}
	n := opts.Nodes
	if n <= 0 {
		n = 3
	}
	repl := opts.Replication
	if repl <= 0 {
		repl = 2
	}
	if repl > n {
		return nil, fmt.Errorf("restateserver: replication %d exceeds %d nodes", repl, n)
	}
	c := &Cluster{ctl: bins.Ctl, startTimeout: opts.StartTimeout}
	if c.startTimeout <= 0 {
		c.startTimeout = DefaultClusterStartTimeout
	}
	ports, err := freePorts(3 * n)
	if err != nil {
		return nil, err
	}
	name := clusterName()
	metadata := make([]string, n)
	for i := range n {
		metadata[i] = `"http://127.0.0.1:` + strconv.Itoa(ports[3*i+2]) + `/"`
	}
	for i := range n {
		s, err := newServer(bins, Options{
			Binaries:     bins,
			KeepBaseDir:  opts.KeepBaseDirs,
			Env:          opts.Env,
			StartTimeout: c.startTimeout,
		})
		if err != nil {
			c.Close()
			return nil, err
		}
		s.inCluster = true
		s.ingressPort, s.adminPort, s.nodePort = ports[3*i], ports[3*i+1], ports[3*i+2]
		// The official suite's three-node deployment (restatedev/e2e,
		// RestateContainer) sets the same roles, auto-provisioning on the
		// first node only and the node-to-node HTTP/2 keep-alive below. It
		// points the metadata client at the first node alone; here every
		// node lists all three, so that the nodes still reach the metadata
		// store while the first one is down.
		s.extraEnv = map[string]string{
			"RESTATE_CLUSTER_NAME":               name,
			"RESTATE_NODE_NAME":                  "n" + strconv.Itoa(i+1),
			"RESTATE_FORCE_NODE_ID":              strconv.Itoa(i + 1),
			"RESTATE_AUTO_PROVISION":             strconv.FormatBool(i == 0),
			"RESTATE_DEFAULT_REPLICATION":        strconv.Itoa(repl),
			"RESTATE_BIFROST__DEFAULT_PROVIDER":  "replicated",
			"RESTATE_METADATA_CLIENT__ADDRESSES": "[" + strings.Join(metadata, ",") + "]",
			"RESTATE_ROLES":                      "[http-ingress,admin,worker,log-server,metadata-server]",
			// The official suite relaxes the default (1 s interval, 3 s
			// timeout) to these values: a node whose peer stalls for a few
			// seconds on a loaded machine keeps the connection.
			"RESTATE_NETWORKING__HTTP2_KEEP_ALIVE_INTERVAL": "4s",
			"RESTATE_NETWORKING__HTTP2_KEEP_ALIVE_TIMEOUT":  "20s",
		}
		c.nodes = append(c.nodes, s)
	}
	for _, s := range c.nodes {
		if _, err := s.launch(); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.WaitReady(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Nodes returns the nodes, the first being the one that provisioned the
// cluster.
func (c *Cluster) Nodes() []*Server { return append([]*Server(nil), c.nodes...) }

// Node returns node i (0-based).
func (c *Cluster) Node(i int) *Server { return c.nodes[i] }

// Running returns the nodes whose process is alive.
func (c *Cluster) Running() []*Server {
	var out []*Server
	for _, s := range c.nodes {
		if s.Running() {
			out = append(out, s)
		}
	}
	return out
}

// Register registers the deployment at endpointURL through the admin API of
// the first running node, then waits until every running node serves the
// discovered services. The registration is stored in the replicated
// metadata, but each node learns of it on its own schedule: until then its
// ingress answers 404 "service not found".
func (c *Cluster) Register(ctx context.Context, endpointURL string, opts RegisterOptions) (RegisterResult, error) {
	run := c.Running()
	if len(run) == 0 {
		return RegisterResult{}, errors.New("restateserver: no cluster node is running")
	}
	res, err := run[0].Register(ctx, endpointURL, opts)
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.startTimeout)
	defer cancel()
	for _, s := range run {
		for _, svc := range res.Services {
			for {
				_, err := s.adminJSON(ctx, http.MethodGet, "/services/"+url.PathEscape(svc), nil, nil)
				if err == nil {
					break
				}
				select {
				case <-ctx.Done():
					return res, fmt.Errorf("restateserver: node %s does not know service %s after %s: %w", s.NodeAddress(), svc, c.startTimeout, err)
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}
	return res, nil
}

// Kill sends SIGKILL to node i and waits for it to exit.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[i].Kill()
}

// Restart starts node i again with its base directory and ports (stopping it
// first if it still runs) and waits until the whole cluster is ready.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.nodes[i]
	if err := s.Stop(ctx); err != nil {
		return err
	}
	if _, err := s.launch(); err != nil {
		return err
	}
	return c.WaitReady(ctx)
}

// WaitReady waits until every running node answers on its admin and ingress
// health endpoints, restatectl lists every node in the cluster's node
// configuration, and every partition has an active leader. Killed nodes are left out: with
// one node down, the cluster is ready when the others are.
func (c *Cluster) WaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.startTimeout)
	defer cancel()
	run := c.Running()
	if len(run) == 0 {
		return errors.New("restateserver: no cluster node is running")
	}
	for _, s := range run {
		p := s.current()
		if p == nil {
			return fmt.Errorf("restateserver: node %s exited; last output:\n%s", s.NodeAddress(), lastLines(s.Logs(), 40))
		}
		if err := s.waitHealthy(ctx, p); err != nil {
			return err
		}
	}
	var last string
	for {
		last = c.readiness(ctx, run)
		if last == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restateserver: cluster not ready after %s: %s", c.startTimeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// readiness returns "" when the cluster is ready, else why it is not.
func (c *Cluster) readiness(ctx context.Context, run []*Server) string {
	addr := run[0].NodeAddress()
	out, err := exec.CommandContext(ctx, c.ctl, "--address", addr, "nodes", "list").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("restatectl nodes list: %v: %s", err, bytes.TrimSpace(out))
	}
	if joined := joinedNodes(out); joined < len(c.nodes) {
		return fmt.Sprintf("%d of %d nodes joined the cluster", joined, len(c.nodes))
	}
	out, err = exec.CommandContext(ctx, c.ctl, "--address", addr, "partitions", "list").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("restatectl partitions list: %v: %s", err, bytes.TrimSpace(out))
	}
	if ok, total, missing := partitionsLed(out); !ok {
		return fmt.Sprintf("%d partitions, without an active leader: %v", total, missing)
	}
	return ""
}

// joinedNodes counts the rows of `restatectl nodes list`, the nodes in the
// cluster's node configuration: a node appears there once it has joined.
func joinedNodes(out []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(out))
	n := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || len(fields[0]) < 2 || fields[0][0] != 'N' {
			continue
		}
		if _, err := strconv.Atoi(fields[0][1:]); err == nil {
			n++
		}
	}
	return n
}

// partitionsLed parses `restatectl partitions list` of a cluster, which has
// one row per partition replica: the partitions are led when at least one is
// listed and each has a row in mode Leader with status Active. It returns
// the ids of those that do not.
func partitionsLed(out []byte) (ok bool, total int, missing []string) {
	led := map[string]bool{}
	var order []string
	for _, r := range partitionRows(out) {
		if _, seen := led[r.id]; !seen {
			led[r.id] = false
			order = append(order, r.id)
		}
		if r.active() {
			led[r.id] = true
		}
	}
	for _, id := range order {
		if !led[id] {
			missing = append(missing, id)
		}
	}
	return len(order) > 0 && len(missing) == 0, len(order), missing
}

// Close kills every node and removes their temporary base directories.
// Close is idempotent.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, s := range c.nodes {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Leaders returns how many partitions each node leads, by node index
// (0-based), as `restatectl partitions list` on a running node shows them.
// Only active leaders count; nodes leading nothing are absent.
func (c *Cluster) Leaders(ctx context.Context) (map[int]int, error) {
	run := c.Running()
	if len(run) == 0 {
		return nil, errors.New("restateserver: no cluster node is running")
	}
	out, err := exec.CommandContext(ctx, c.ctl, "--address", run[0].NodeAddress(), "partitions", "list").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("restateserver: restatectl partitions list: %w: %s", err, bytes.TrimSpace(out))
	}
	return leaderCounts(out), nil
}

// leaderCounts counts the active Leader rows of `restatectl partitions
// list` per node, reading node index i from the NODE column's
// "N<i+1>:<generation>".
func leaderCounts(out []byte) map[int]int {
	counts := map[int]int{}
	for _, r := range partitionRows(out) {
		if !r.active() {
			continue
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(r.node, "N"), ":")
		if n, err := strconv.Atoi(id); err == nil && n > 0 {
			counts[n-1]++
		}
	}
	return counts
}

// Logs returns the output tails of every node ([Server.Logs]), each under a
// header naming the node.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for i, s := range c.nodes {
		fmt.Fprintf(&b, "=== node n%d (%s) ===\n%s", i+1, s.NodeAddress(), s.Logs())
	}
	return b.String()
}
