package restateserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultStartTimeout bounds how long [Start] and [Server.Restart] wait for
// the server to become healthy when [Options.StartTimeout] is zero.
const DefaultStartTimeout = 30 * time.Second

// logTailSize is how many bytes of server output a [Server] keeps in memory.
const logTailSize = 256 << 10

// logFileName is the name of the log file written in the base directory when
// no [Options.LogWriter] is given.
const logFileName = "restate-server.log"

// Options configures [Start].
type Options struct {
	// Binaries selects the runtime to run. When Binaries.Server is empty,
	// Start calls [Install].
	Binaries Binaries

	// BaseDir is the server's base directory (its data lives there). When
	// empty, a fresh temporary directory is created and removed by
	// [Server.Close] unless KeepBaseDir is set. A given BaseDir is created if
	// missing and never removed.
	BaseDir string

	// KeepBaseDir keeps a temporary base directory after Close, e.g. to
	// inspect the log of a failed test.
	KeepBaseDir bool

	// Env holds extra environment variables for the server, for example
	// RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT=0s,
	// RESTATE_WORKER__INVOKER__DISABLE_EAGER_STATE=true,
	// RESTATE_DEFAULT_NUM_PARTITIONS=1 or
	// RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7=true. They take precedence over
	// the variables Start sets itself (bind addresses, listen mode,
	// telemetry, compact log format without colours), so overriding the
	// bind addresses breaks the URLs the Server reports. RESTATE_* variables
	// of the calling process are not inherited.
	Env map[string]string

	// LogWriter receives the server's stdout and stderr. When nil, the
	// output goes to restate-server.log in the base directory. In both cases
	// the last part of it is available from [Server.Logs].
	LogWriter io.Writer

	// StartTimeout bounds the wait for health; zero means
	// [DefaultStartTimeout].
	StartTimeout time.Duration
}

// Server is a running (or stopped) restate-server process started by
// [Start]. Its methods are safe for concurrent use.
type Server struct {
	bin          string
	ctl          string
	baseDir      string
	removeDir    bool
	userEnv      map[string]string
	startTimeout time.Duration
	logs         *tailBuffer
	logFile      *os.File
	logPath      string
	client       *http.Client

	mu          sync.Mutex
	ingressPort int
	adminPort   int
	nodePort    int
	proc        *process
	closed      bool

	// inCluster is set for the nodes of a [Cluster]: their readiness is
	// checked cluster-wide, not by waitPartitionsReady, which expects one
	// node to lead every partition.
	inCluster bool
	// extraEnv holds variables a [Cluster] computes for its node; the
	// user's Env still takes precedence.
	extraEnv map[string]string
}

// process is one run of the server binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been waited for
	err  error         // exit error, valid after done is closed
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Start launches restate-server on free loopback ports and waits until both
// its admin and ingress endpoints report healthy. The returned Server must be
// closed with [Server.Close].
func Start(ctx context.Context, opts Options) (*Server, error) {
	bins, err := resolveBinaries(ctx, opts.Binaries)
	if err != nil {
		return nil, err
	}
	s, err := newServer(bins, opts)
	if err != nil {
		return nil, err
	}

	// Ports are picked by binding to port 0 and closing the listener, which
	// leaves a small window for another process to take them: retry with
	// fresh ports when the server cannot bind.
	const attempts = 3
	var lastErr error
	for attempt := 1; attempt <= attempts; attempt++ {
		ports, err := freePorts(3)
		if err != nil {
			s.cleanup()
			return nil, err
		}
		s.mu.Lock()
		s.ingressPort, s.adminPort, s.nodePort = ports[0], ports[1], ports[2]
		s.mu.Unlock()
		mark := len(s.logs.String())
		err = s.launchAndWait(ctx)
		if err == nil {
			return s, nil
		}
		lastErr = err
		s.Kill()
		if ctx.Err() != nil || !bindFailure(s.logs.String()[min(mark, len(s.logs.String())):]) {
			break
		}
	}
	s.cleanup()
	return nil, lastErr
}

// resolveBinaries returns bins, or the installed binaries ([Install]) when
// bins names no server.
func resolveBinaries(ctx context.Context, bins Binaries) (Binaries, error) {
	if bins.Server != "" {
		return bins, nil
	}
	return Install(ctx)
}

// newServer prepares a Server (base directory, log sink) without starting
// it or choosing its ports.
func newServer(bins Binaries, opts Options) (*Server, error) {
	s := &Server{
		bin:          bins.Server,
		ctl:          bins.Ctl,
		userEnv:      make(map[string]string, len(opts.Env)),
		startTimeout: opts.StartTimeout,
		client:       &http.Client{},
	}
	for k, v := range opts.Env {
		s.userEnv[k] = v
	}
	if s.startTimeout <= 0 {
		s.startTimeout = DefaultStartTimeout
	}
	if opts.BaseDir != "" {
		dir, err := filepath.Abs(opts.BaseDir)
		if err != nil {
			return nil, fmt.Errorf("restateserver: base dir: %w", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("restateserver: create base dir: %w", err)
		}
		s.baseDir = dir
	} else {
		dir, err := os.MkdirTemp("", "restate-server-")
		if err != nil {
			return nil, fmt.Errorf("restateserver: create base dir: %w", err)
		}
		s.baseDir = dir
		s.removeDir = !opts.KeepBaseDir
	}
	sink := opts.LogWriter
	if sink == nil {
		s.logPath = filepath.Join(s.baseDir, logFileName)
		f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			s.cleanup()
			return nil, fmt.Errorf("restateserver: open log file: %w", err)
		}
		s.logFile = f
		sink = f
	}
	s.logs = newTailBuffer(logTailSize, sink)
	return s, nil
}

// bindFailure reports whether the server output says a port was taken.
func bindFailure(out string) bool {
	return strings.Contains(out, "Address already in use") || strings.Contains(out, "os error 98")
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("restateserver: pick a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// environ builds the server's environment.
func (s *Server) environ() []string {
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "RESTATE_") {
			continue
		}
		vars[k] = v
	}
	vars["RESTATE_INGRESS__BIND_ADDRESS"] = "127.0.0.1:" + strconv.Itoa(s.ingressPort)
	vars["RESTATE_ADMIN__BIND_ADDRESS"] = "127.0.0.1:" + strconv.Itoa(s.adminPort)
	vars["RESTATE_BIND_ADDRESS"] = "127.0.0.1:" + strconv.Itoa(s.nodePort)
	vars["RESTATE_ADVERTISED_ADDRESS"] = "http://127.0.0.1:" + strconv.Itoa(s.nodePort) + "/"
	vars["RESTATE_LISTEN_MODE"] = "tcp"
	vars["RESTATE_DISABLE_TELEMETRY"] = "true"
	vars["RESTATE_LOG_DISABLE_ANSI_CODES"] = "true"
	// One line per event keeps log tails readable.
	vars["RESTATE_LOG_FORMAT"] = "compact"
	for k, v := range s.extraEnv {
		vars[k] = v
	}
	for k, v := range s.userEnv {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// launchAndWait starts the process with the current ports and waits for
// health. The caller must not hold s.mu.
func (s *Server) launchAndWait(ctx context.Context) error {
	p, err := s.launch()
	if err != nil {
		return err
	}
	if err := s.waitHealthy(ctx, p); err != nil {
		return err
	}
	if s.inCluster {
		return nil
	}
	return s.waitPartitionsReady(ctx)
}

// launch starts the process with the current ports without waiting for it.
// The caller must not hold s.mu.
func (s *Server) launch() (*process, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("restateserver: server is closed")
	}
	if s.proc != nil && !s.proc.exited() {
		s.mu.Unlock()
		return nil, errors.New("restateserver: server is already running")
	}
	cmd := exec.Command(s.bin, "--base-dir", s.baseDir, "--no-logo")
	cmd.Env = s.environ()
	cmd.Dir = s.baseDir
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	cmd.SysProcAttr = sysProcAttr()
	fmt.Fprintf(s.logs, "--- restateserver: starting %s (ingress %d, admin %d, node %d) at %s ---\n",
		s.bin, s.ingressPort, s.adminPort, s.nodePort, time.Now().Format(time.RFC3339Nano))
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("restateserver: start %s: %w", s.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.proc = p
	s.mu.Unlock()
	return p, nil
}

// waitHealthy polls the health endpoints until both answer 200, the process
// exits, the start timeout elapses or ctx is done.
func (s *Server) waitHealthy(ctx context.Context, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, s.startTimeout)
	defer cancel()
	urls := []string{s.AdminURL() + "/health", s.IngressURL() + "/restate/health"}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		healthy := true
		for _, u := range urls {
			if !s.ok(ctx, u) {
				healthy = false
				break
			}
		}
		if healthy {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("restateserver: restate-server exited before becoming healthy (%v); last output:\n%s",
				p.err, lastLines(s.Logs(), 40))
		case <-ctx.Done():
			return fmt.Errorf("restateserver: restate-server not healthy after %s: %w; last output:\n%s",
				s.startTimeout, ctx.Err(), lastLines(s.Logs(), 40))
		case <-tick.C:
		}
	}
}

// ok reports whether GET url answers 200 within a second.
func (s *Server) ok(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// IngressURL returns the ingress base URL, e.g. http://127.0.0.1:41234,
// without a trailing slash.
func (s *Server) IngressURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://127.0.0.1:" + strconv.Itoa(s.ingressPort)
}

// AdminURL returns the admin API base URL without a trailing slash.
func (s *Server) AdminURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://127.0.0.1:" + strconv.Itoa(s.adminPort)
}

// NodeAddress returns the node-to-node (fabric) address, the one restatectl
// connects to, e.g. http://127.0.0.1:41236.
func (s *Server) NodeAddress() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://127.0.0.1:" + strconv.Itoa(s.nodePort)
}

// BaseDir returns the server's base directory.
func (s *Server) BaseDir() string { return s.baseDir }

// LogPath returns the file receiving the server output, or "" when
// [Options.LogWriter] was given.
func (s *Server) LogPath() string { return s.logPath }

// Logs returns the last part (up to 256 KiB) of the server's output across
// all its runs, including restarts.
func (s *Server) Logs() string { return s.logs.String() }

// Running reports whether the server process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.exited()
}

// current returns the live process, if any.
func (s *Server) current() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.exited() {
		return nil
	}
	return s.proc
}

// signal sends sig to the server's process group.
func (p *process) signal(sig syscall.Signal) {
	// The server leads its own process group; signal the whole group so
	// that any helper it may spawn goes too.
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// Stop sends SIGTERM and waits for the server to exit. If ctx ends first the
// server is killed with SIGKILL. Stopping a stopped server is a no-op.
func (s *Server) Stop(ctx context.Context) error {
	p := s.current()
	if p == nil {
		return nil
	}
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		p.signal(syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("restateserver: graceful stop interrupted, killed the server: %w", ctx.Err())
	}
}

// Kill sends SIGKILL and waits for the server to exit. Killing a stopped
// server is a no-op.
func (s *Server) Kill() {
	p := s.current()
	if p == nil {
		return
	}
	p.signal(syscall.SIGKILL)
	<-p.done
}

// Restart starts the server again with the same base directory, ports and
// environment, stopping it first (SIGTERM) if it is still running, and waits
// until it is healthy.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(ctx); err != nil {
		return err
	}
	if err := s.launchAndWait(ctx); err != nil {
		s.Kill()
		return err
	}
	return nil
}

// Close kills the server and, if the base directory was created by Start
// and KeepBaseDir was not set, removes it. Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.Kill()
	return s.cleanup()
}

// cleanup releases the log file and the temporary base directory.
func (s *Server) cleanup() error {
	var errs []error
	if s.logFile != nil {
		errs = append(errs, s.logFile.Close())
		s.logFile = nil
	}
	if s.removeDir {
		errs = append(errs, os.RemoveAll(s.baseDir))
	}
	return errors.Join(errs...)
}
