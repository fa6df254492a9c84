// Package profile lets the benchmark endpoints write a CPU profile of the
// load they served, for finding where an endpoint spends its time.
package profile

import (
	"log"
	"os"
	"runtime"
	"runtime/pprof"
)

// Start starts a CPU profile written to path, when path is not empty, and
// returns the function that stops it. With memPath set, the function also
// writes the allocation profile (every allocation since the start) there.
func Start(path, memPath string) (stop func()) {
	if memPath != "" {
		runtime.MemProfileRate = 4096
	}
	if path == "" {
		return func() { writeAllocs(memPath) }
	}
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
		writeAllocs(memPath)
	}
}

func writeAllocs(path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		log.Fatal(err)
	}
}
