// Package freemem lets the load generator ask a benchmark endpoint to
// collect garbage and return free memory to the operating system (SIGUSR1
// runs runtime/debug.FreeOSMemory, twice, so that pooled objects go too), so that the memory measurement can
// tell memory an endpoint still holds from memory the Go runtime has not
// handed back yet. Every endpoint installs it, so it treats them alike.
package freemem

import (
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// OnSignal frees memory each time the process gets SIGUSR1.
func OnSignal() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	go func() {
		for range c {
			// Twice: objects in a sync.Pool survive one collection.
			debug.FreeOSMemory()
			debug.FreeOSMemory()
		}
	}()
}
