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
func Stamp() int64 { return time.Now().Unix() }

// Region reads the environment one call deeper.
func Region() string { return lookup("REGION") }

func lookup(k string) string { return os.Getenv(k) }

// Double is deterministic.
func Double(n int) int { return n * 2 }

// Save issues a durable operation.
func Save(ctx restate.ObjectContext, v int) {
	restate.NewStateKey[int]("v").Set(ctx, v)
}

// Hits is package-level state that handlers must not write.
var Hits int

// Format is deterministic.
func Format(n int) string { return strconv.Itoa(n) }

// Clock reads the wall clock.
type Clock struct{}

// Read reads the clock through a method.
func (Clock) Read() int64 { return time.Now().Unix() }
