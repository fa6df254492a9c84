package restate

import (
	"context"
	"log/slog"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
)

// replayAwareHandler drops records while the invocation replays journaled
// operations, so that each log line is written once per invocation, not
// once per attempt.
type replayAwareHandler struct {
	next slog.Handler
	inv  *invocation.Invocation
}

func (h replayAwareHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l) && !h.inv.Replaying()
}

func (h replayAwareHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.inv.Replaying() {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h replayAwareHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return replayAwareHandler{next: h.next.WithAttrs(as), inv: h.inv}
}

func (h replayAwareHandler) WithGroup(name string) slog.Handler {
	return replayAwareHandler{next: h.next.WithGroup(name), inv: h.inv}
}

func newReplayAwareLogger(inv *invocation.Invocation, id, service, handler string) *slog.Logger {
	base := inv.Logger()
	if base == nil {
		base = slog.Default()
	}
	return slog.New(replayAwareHandler{next: base.Handler(), inv: inv}).With(
		slog.String("restate.invocation.id", id),
		slog.String("restate.invocation.target", service+"/"+handler),
	)
}
