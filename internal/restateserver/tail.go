package restateserver

import (
	"io"
	"sync"
)

// tailBuffer is an io.Writer that keeps the last max bytes written to it and
// forwards every write to an optional sink.
type tailBuffer struct {
	mu   sync.Mutex
	max  int
	buf  []byte
	sink io.Writer
}

func newTailBuffer(max int, sink io.Writer) *tailBuffer {
	return &tailBuffer{max: max, sink: sink}
}

// Write implements io.Writer. Errors of the sink are ignored so that a broken
// log destination never blocks the server's output pipe.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sink != nil {
		_, _ = t.sink.Write(p)
	}
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		// Compact rather than reslice so the backing array does not grow
		// without bound.
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the retained tail.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
