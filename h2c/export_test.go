package h2c

import (
	"context"
	"time"
)

// Idle waits until h has no invocation in flight, or ctx ends.
func Idle(ctx context.Context, h *Handler) error {
	for h.inFlight() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}
