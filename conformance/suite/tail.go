package suite

import (
	"io"
	"strings"
	"sync"
)

// tailBuffer is an io.Writer keeping the last max bytes written and
// forwarding every write to an optional sink.
type tailBuffer struct {
	mu   sync.Mutex
	max  int
	buf  []byte
	sink io.Writer
}

func newTailBuffer(max int, sink io.Writer) *tailBuffer {
	return &tailBuffer{max: max, sink: sink}
}

// Write implements io.Writer; sink errors are ignored.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sink != nil {
		_, _ = t.sink.Write(p)
	}
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the retained bytes.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// LastLines returns at most the last n lines of s.
func LastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
