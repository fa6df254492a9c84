// Package restateserver installs and runs a real restate-server for tests.
//
// The package is the single place where the project obtains and drives the
// Restate runtime outside of production: end-to-end tests, the conformance
// runner and developer tooling all use it.
//
// [Install] fetches restate-server, the restate CLI and restatectl (version
// [Version]) from the npm registry into a git-ignored cache directory (see
// [CacheDir]). It is idempotent, cheap once done, and safe to call from
// several processes at once.
//
// [Start] launches a server bound to free loopback ports with a fresh base
// directory, waits until both the admin and the ingress APIs are healthy and
// returns a [Server] handle. The handle can stop, kill and restart the
// process (keeping its data, ports and environment), register service
// deployments and call a few admin endpoints (cancel, kill, SQL query).
//
// [StartCluster] launches several servers (three by default) that form one
// Restate cluster: each node has its own base directory and runs every role,
// the first provisions the cluster, the log is the replicated loglet with a
// replication factor of two (by default) and the metadata store is the
// replicated one embedded in the nodes. The returned [Cluster] waits until
// every node has joined and every partition has an active leader, registers
// deployments once for the whole cluster (returning when every node serves
// them), tells which node leads how many partitions ([Cluster.Leaders]), and
// kills (SIGKILL) and restarts single nodes. The failover test
// (TestClusterFailover, build tag restate_failover) kills the leading nodes
// under a few hundred invocations in flight.
//
// The server runs in its own process group and, on Linux, is killed when the
// process that started it dies, so crashed tests do not leak runtimes.
//
// The package supports Unix systems only (it relies on flock(2) and process
// groups).
package restateserver
