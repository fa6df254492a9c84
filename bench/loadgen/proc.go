package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat
// (sysconf(_SC_CLK_TCK), 100 on Linux).
const clockTick = 10 * time.Millisecond

// CPU returns the CPU time (user + system) the process pid has used so far,
// from /proc/<pid>/stat, at the kernel's 10 ms resolution.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is parenthesised and may contain spaces:
	// fields are counted after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadgen: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("loadgen: short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("loadgen: malformed /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * clockTick, nil
}

// RSS returns the resident set size of the process pid in bytes (VmRSS of
// /proc/<pid>/status).
func RSS(pid int) (int64, error) { return statusKB(pid, "VmRSS:") }

func statusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("loadgen: no %s in /proc/%d/status", field, pid)
}

// Settle waits until the process pid has used no CPU for quiet (at least
// one clock tick apart), or until max elapsed, and returns how long it
// waited.
func Settle(pid int, quiet, max time.Duration) time.Duration {
	start := time.Now()
	last, _ := CPU(pid)
	since := time.Now()
	for time.Since(start) < max {
		time.Sleep(quiet / 5)
		c, err := CPU(pid)
		if err != nil {
			break
		}
		if c != last {
			last, since = c, time.Now()
			continue
		}
		if time.Since(since) >= quiet {
			break
		}
	}
	return time.Since(start)
}
