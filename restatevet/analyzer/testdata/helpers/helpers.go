// Package helpers is called from handlers in another package: its findings
// reach them through facts.
package helpers

import (
	"os"
	"strconv"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// Stamp reads the clock.
func Stamp() int64 { return time.Now().Unix() } // want Stamp:`restatevet\(1 findings, durable=false\)`

// Region reads the environment one call deeper.
func Region() string { return lookup("REGION") } // want Region:`restatevet\(1 findings, durable=false\)`

func lookup(k string) string { return os.Getenv(k) }

// Double is deterministic.
func Double(n int) int { return n * 2 }

// Save issues a durable operation.
func Save(ctx restate.ObjectContext, v int) { // want Save:`restatevet\(0 findings, durable=true\)`
	restate.NewStateKey[int]("v").Set(ctx, v)
}

// Hits is package-level state that handlers must not write.
var Hits int

// Format is deterministic.
func Format(n int) string { return strconv.Itoa(n) }

// Clock reads the wall clock.
type Clock struct{}

// Read reads the clock through a method.
func (Clock) Read() int64 { return time.Now().Unix() } // want Read:`restatevet\(1 findings, durable=false\)`
