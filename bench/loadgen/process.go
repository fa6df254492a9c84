package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Endpoint is an endpoint process started by the load generator.
type Endpoint struct {
	Name string // label in reports
	Bin  string
	Args []string // besides -addr

	Addr    string
	cmd     *exec.Cmd
	waitErr chan error
	// Started is when the process was started; Ready when it first served
	// discovery.
	Started, Ready time.Time
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Base returns the endpoint's base URL.
func (e *Endpoint) Base() string { return "http://" + e.Addr }

// Pid returns the endpoint's process id.
func (e *Endpoint) Pid() int { return e.cmd.Process.Pid }

// Start launches the endpoint on a free port and waits until it serves
// GET /discover over HTTP/2 cleartext (every endpoint serves it), recording
// the time that took.
func (e *Endpoint) Start(ctx context.Context) error {
	addr, err := FreeAddr()
	if err != nil {
		return err
	}
	e.Addr = addr
	e.cmd = exec.Command(e.Bin, append([]string{"-addr", addr}, e.Args...)...)
	e.cmd.Stdout = os.Stderr
	e.cmd.Stderr = os.Stderr
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	e.Started = time.Now()
	if err := e.cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", e.Name, err)
	}
	e.waitErr = make(chan error, 1)
	go func() { e.waitErr <- e.cmd.Wait() }()
	c := NewClient(H2, 1)
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Wait for the listener with bare connects, which cost the endpoint
		// nothing, then ask for discovery.
		err := errors.New("not listening")
		if conn, derr := net.Dial("tcp", addr); derr == nil {
			conn.Close()
			err = e.discover(ctx, c)
			if err == nil {
				e.Ready = time.Now()
				return nil
			}
		}
		select {
		case werr := <-e.waitErr:
			return fmt.Errorf("%s exited: %v", e.Name, werr)
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			e.Stop()
			return fmt.Errorf("%s did not serve discovery: %w", e.Name, errors.Join(err, ctx.Err()))
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func (e *Endpoint) discover(ctx context.Context, c *Client) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.Base()+"/discover", nil)
	req.Header.Set("accept", "application/vnd.restate.endpointmanifest.v2+json")
	resp, err := c.client().Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("discovery: status %d", resp.StatusCode)
	}
	return nil
}

// StartupTime returns how long the process took from start to serving
// discovery.
func (e *Endpoint) StartupTime() time.Duration { return e.Ready.Sub(e.Started) }

// Stop terminates the endpoint (SIGTERM, then SIGKILL after 5 seconds).
func (e *Endpoint) Stop() {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.waitErr:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.waitErr
	}
}
