package suite

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeServiceEnv makes the test binary act as a services process.
const fakeServiceEnv = "CONFORMANCE_FAKE_SERVICE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeServiceEnv) == "1" {
		fakeService()
		return
	}
	os.Exit(m.Run())
}

// fakeService listens on PORT and answers every request with its pid and
// the SERVICES variable; SIGTERM makes it exit cleanly.
func fakeService() {
	l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Println("got SIGTERM")
		os.Exit(0)
	}()
	fmt.Println("fake service listening")
	_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%d %s", os.Getpid(), os.Getenv("SERVICES"))
	}))
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestServiceProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := StartServiceProcess(ctx, os.Args[0], map[string]string{fakeServiceEnv: "1", "SERVICES": "A,B"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	first := get(t, p.URL())
	if !strings.HasSuffix(first, " A,B") {
		t.Fatalf("first answer %q", first)
	}
	if err := p.Restart(ctx); err == nil {
		t.Fatal("Restart of a running process succeeded")
	}

	if err := p.KillAndRestart(ctx); err != nil {
		t.Fatal(err)
	}
	second := get(t, p.URL())
	if second == first {
		t.Fatalf("same pid after KillAndRestart: %q", second)
	}

	if err := p.TerminateAndRestart(ctx); err != nil {
		t.Fatal(err)
	}
	third := get(t, p.URL())
	if third == second {
		t.Fatalf("same pid after TerminateAndRestart: %q", third)
	}
	logs := p.Logs()
	if strings.Count(logs, "fake service listening") != 3 || !strings.Contains(logs, "got SIGTERM") {
		t.Errorf("logs:\n%s", logs)
	}
	p.Kill()
	if _, err := http.Get(p.URL()); err == nil {
		t.Error("service still answers after Kill")
	}
}

func TestServiceProcessExitsEarly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := StartServiceProcess(ctx, "/bin/false", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Fatalf("err = %v", err)
	}
}
