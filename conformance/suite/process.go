package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serviceStartTimeout bounds the wait for the services process to listen.
const serviceStartTimeout = 20 * time.Second

// terminateGrace is how long a SIGTERM'ed services process may take to exit
// before it is killed (docker's default stop timeout in the Kotlin suite).
const terminateGrace = 10 * time.Second

// ServiceProcess runs the test-services program on a fixed loopback port and
// can kill, terminate and restart it on that same port.
type ServiceProcess struct {
	bin  string
	port int
	env  []string
	logs *tailBuffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartServiceProcess starts bin with the given extra environment (PORT is
// set by this function) on a free loopback port and waits until the port
// accepts connections. The output goes to sink (may be nil) and is retained
// for [ServiceProcess.Logs].
func StartServiceProcess(ctx context.Context, bin string, env map[string]string, sink io.Writer) (*ServiceProcess, error) {
	p := &ServiceProcess{bin: bin, logs: newTailBuffer(256<<10, sink)}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p.port = port
		p.env = serviceEnviron(env, port)
		err = p.start(ctx)
		if err == nil {
			return p, nil
		}
		lastErr = err
		p.Kill()
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// serviceEnviron is the parent's environment plus extra plus PORT.
func serviceEnviron(extra map[string]string, port int) []string {
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	vars["PORT"] = strconv.Itoa(port)
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// freePort returns a currently free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL returns the deployment URL, http://127.0.0.1:PORT.
func (p *ServiceProcess) URL() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// Logs returns the tail of the process output across restarts.
func (p *ServiceProcess) Logs() string { return p.logs.String() }

// start launches the process and waits until it listens.
func (p *ServiceProcess) start(ctx context.Context) error {
	cmd := exec.Command(p.bin)
	cmd.Env = p.env
	cmd.Stdout = p.logs
	cmd.Stderr = p.logs
	cmd.SysProcAttr = sysProcAttr()
	fmt.Fprintf(p.logs, "--- conformance: starting %s on port %d at %s ---\n", p.bin, p.port, time.Now().Format(time.RFC3339Nano))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start services %s: %w", p.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, serviceStartTimeout)
	defer cancel()
	addr := "127.0.0.1:" + strconv.Itoa(p.port)
	for {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("services process exited before listening on %s (%v); output:\n%s",
				addr, cmd.ProcessState, LastLines(p.Logs(), 30))
		case <-ctx.Done():
			return fmt.Errorf("services process not listening on %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// current returns the running command and its done channel, if any.
func (p *ServiceProcess) current() (*exec.Cmd, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil, nil
	}
	select {
	case <-p.done:
		return nil, nil
	default:
		return p.cmd, p.done
	}
}

// signal sends sig to the process group of cmd.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
		_ = cmd.Process.Signal(sig)
	}
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *ServiceProcess) Kill() {
	cmd, done := p.current()
	if cmd == nil {
		return
	}
	signalGroup(cmd, syscall.SIGKILL)
	<-done
}

// Terminate sends SIGTERM and waits up to 10 s for the exit, then kills.
func (p *ServiceProcess) Terminate() {
	cmd, done := p.current()
	if cmd == nil {
		return
	}
	signalGroup(cmd, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(terminateGrace):
		signalGroup(cmd, syscall.SIGKILL)
		<-done
	}
}

// Restart starts the process again on the same port; it must be stopped.
func (p *ServiceProcess) Restart(ctx context.Context) error {
	if cmd, _ := p.current(); cmd != nil {
		return errors.New("services process is still running")
	}
	return p.start(ctx)
}

// KillAndRestart is the port of ContainerHandle.killAndRestart: SIGKILL,
// then start again on the same port.
func (p *ServiceProcess) KillAndRestart(ctx context.Context) error {
	p.Kill()
	return p.Restart(ctx)
}

// TerminateAndRestart is the port of ContainerHandle.terminateAndRestart:
// SIGTERM (SIGKILL after 10 s), then start again on the same port.
func (p *ServiceProcess) TerminateAndRestart(ctx context.Context) error {
	p.Terminate()
	return p.Restart(ctx)
}
