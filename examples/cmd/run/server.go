package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ports are the loopback ports of one run.
type ports struct {
	ingress, admin, node, endpoint int
}

// standardPorts are restate-server's defaults and the usual port of a
// service endpoint.
var standardPorts = ports{ingress: 8080, admin: 9070, node: 5122, endpoint: 9080}

// choosePorts keeps each standard port that is free on 127.0.0.1 and picks
// a free one otherwise; notes say which were replaced.
func choosePorts() (ports, []string, error) {
	p := standardPorts
	var notes []string
	taken := map[int]bool{}
	for _, c := range []struct {
		name string
		port *int
	}{
		{"ingress", &p.ingress}, {"admin API", &p.admin}, {"node", &p.node}, {"service endpoint", &p.endpoint},
	} {
		if portFree(*c.port) {
			taken[*c.port] = true
			continue
		}
		alt, err := freePort(taken)
		if err != nil {
			return p, nil, err
		}
		notes = append(notes, fmt.Sprintf("port %d (%s) is in use; using %d instead", *c.port, c.name, alt))
		*c.port = alt
		taken[alt] = true
	}
	return p, notes, nil
}

func portFree(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func freePort(taken map[int]bool) (int, error) {
	for range 10 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("cannot find a free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !taken[port] {
			return port, nil
		}
	}
	return 0, errors.New("cannot find a free port")
}

// server is a restate-server process started by this program.
type server struct {
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	baseDir string
	logPath string
	ports   ports
}

// startServer runs bin on p with a fresh temporary base directory and
// waits until its admin API and ingress are healthy.
func startServer(ctx context.Context, bin string, p ports) (*server, error) {
	dir, err := os.MkdirTemp("", "restate-make-run-")
	if err != nil {
		return nil, err
	}
	s := &server{baseDir: dir, logPath: filepath.Join(dir, "restate-server.log"), ports: p, done: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd := exec.Command(bin, "--base-dir", dir, "--no-logo")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	cmd.Env = append(os.Environ(),
		"RESTATE_INGRESS__BIND_ADDRESS=127.0.0.1:"+strconv.Itoa(p.ingress),
		"RESTATE_ADMIN__BIND_ADDRESS=127.0.0.1:"+strconv.Itoa(p.admin),
		"RESTATE_BIND_ADDRESS=127.0.0.1:"+strconv.Itoa(p.node),
		"RESTATE_ADVERTISED_ADDRESS=http://127.0.0.1:"+strconv.Itoa(p.node)+"/",
		"RESTATE_LISTEN_MODE=tcp",
		"RESTATE_DISABLE_TELEMETRY=true",
		"RESTATE_LOG_DISABLE_ANSI_CODES=true",
		// Fewer partitions than the default 24: each elects a leader before
		// its first invocation, which takes seconds on a small machine.
		"RESTATE_DEFAULT_NUM_PARTITIONS=4",
	)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cannot start %s: %w", bin, err)
	}
	s.cmd = cmd
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitHealthy(ctx, 60*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	urls := []string{s.adminURL() + "/health", s.ingressURL() + "/restate/health"}
	for {
		if healthy(ctx, urls) {
			return nil
		}
		select {
		case <-s.done:
			logs := s.logTail(30)
			if strings.Contains(logs, "Address already in use") || strings.Contains(logs, "os error 98") {
				return fmt.Errorf("restate-server could not bind its ports (ingress %d, admin %d, node %d): one is in use; stop what uses it and try again. Server log:\n%s",
					s.ports.ingress, s.ports.admin, s.ports.node, logs)
			}
			return fmt.Errorf("restate-server exited (%v) before becoming healthy. Server log:\n%s", s.err, logs)
		case <-ctx.Done():
			return fmt.Errorf("restate-server not healthy after %s (%w). Server log:\n%s", timeout, ctx.Err(), s.logTail(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func healthy(ctx context.Context, urls []string) bool {
	for _, u := range urls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
	}
	return true
}

func (s *server) ingressURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.ports.ingress) }
func (s *server) adminURL() string   { return "http://127.0.0.1:" + strconv.Itoa(s.ports.admin) }

func (s *server) logTail(n int) string {
	b, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// stop asks the server to shut down (SIGTERM to its process group), kills
// it after 10 seconds, and removes its base directory.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		pid := s.cmd.Process.Pid
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-s.done
		}
	}
	os.RemoveAll(s.baseDir)
}
