// Package app is in a module whose path has no dot, like the standard
// library's packages: the analyzer still follows it.
package app

import (
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// Stamp is a handler that reads the clock.
var Stamp = restate.NewHandler("stamp", func(ctx restate.Context, in int) (int64, error) {
	return time.Now().Unix(), nil // want `time.Now reads the clock outside a run: use restate.Now\(ctx\) \(chain: stamp\)`
})
