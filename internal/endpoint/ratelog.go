package endpoint

import (
	"sync"
	"time"
)

// RateLog lets one message through per interval and counts the ones it
// held back, so that a flood of bad requests (a scan with forged tokens)
// costs one log line per interval instead of one per request. The zero
// value lets a message through every RejectLogInterval.
type RateLog struct {
	mu         sync.Mutex
	next       time.Time
	suppressed int
	Interval   time.Duration // 0 = RejectLogInterval
}

// RejectLogInterval is the default interval of a RateLog.
const RejectLogInterval = 10 * time.Second

// Allow reports whether a message at now may be logged, and how many were
// held back since the last one that was.
func (l *RateLog) Allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.suppressed++
		return false, 0
	}
	d := l.Interval
	if d <= 0 {
		d = RejectLogInterval
	}
	l.next = now.Add(d)
	n := l.suppressed
	l.suppressed = 0
	return true, n
}
