// Package profile lets the benchmark endpoints write a CPU profile of the
// load they served, and serve net/http/pprof while they run, for finding
// where an endpoint spends its time and memory.
package profile

import (
	"log"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"runtime"
	"runtime/pprof"
)

// Serve serves net/http/pprof on addr in the background, when addr is not
// empty: for example the heap and goroutine profiles of parked invocations
// (`go tool pprof -sample_index inuse_space http://ADDR/debug/pprof/heap`).
// It samples one allocation per 256 bytes, so that the heap profile
// accounts for every small object a parked invocation holds.
func Serve(addr string) {
	if addr == "" {
		return
	}
	runtime.MemProfileRate = 256
	go func() { log.Fatal(http.ListenAndServe(addr, nil)) }()
}

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
