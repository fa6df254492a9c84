package restate

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// TestLoggerMadeOnFirstUse checks that a handler context makes its logger
// only when asked for, once, with the invocation's attributes, also when
// several goroutines ask at once.
func TestLoggerMadeOnFirstUse(t *testing.T) {
	var buf bytes.Buffer
	inv := invocation.New(context.Background(), invocation.Config{Version: wire.V6, Output: invocation.OutputFunc(func([]byte) error { return nil }),
		Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	c := newHandlerContext(inv, &replay.Input{InvocationID: "inv_1"}, "Svc", "h")
	if c.logger.Load() != nil {
		t.Fatal("the logger was made before its first use")
	}
	var (
		wg   sync.WaitGroup
		got  [8]*slog.Logger
		runL *slog.Logger
	)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = c.Log()
		}()
	}
	wg.Wait()
	runL = runContext{Context: context.Background(), hc: c}.Log()
	for i, l := range got {
		if l == nil || l != got[0] {
			t.Fatalf("Log() call %d returned %p, call 0 %p", i, l, got[0])
		}
	}
	if runL != got[0] {
		t.Fatal("the run context's logger differs from the handler's")
	}
	c.Log().Info("hello")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log output %q: %v", buf.String(), err)
	}
	if rec["restate.invocation.id"] != "inv_1" || rec["restate.invocation.target"] != "Svc/h" || rec["msg"] != "hello" {
		t.Fatalf("log record %v", rec)
	}
}
