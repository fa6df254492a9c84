//go:build unix

package replay

import (
	"syscall"
	"time"
)

// processCPUTime returns the user and system CPU time the process used so
// far. Benchmarks report it per operation, next to the wall time, because
// CPU time is not inflated by other processes competing for the CPUs.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
