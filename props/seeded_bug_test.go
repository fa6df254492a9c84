//go:build restate_seeded_bug

package props_test

import (
	"strings"
	"testing"

	"github.com/qcodr/restate-sdk-go/props"
	"pgregory.net/rapid"
)

// Built with -tags restate_seeded_bug, the engine applies two queued
// notifications out of journal order (replay/seededbug_on.go). These tests
// check that the properties catch it; run them alone, as every other
// property of the package fails too:
//
//	go test -race -tags restate_seeded_bug -run '^TestSeededBug' ./props/

// TestSeededBugEngineStateMachine: the model resolves an await from the
// notifications in journal order, the buggy engine does not.
func TestSeededBugEngineStateMachine(t *testing.T) {
	out := mustFail(t, engineProperty)
	if !strings.Contains(out, "in the model, which applies notifications in journal order") {
		t.Fatalf("the state machine failed, but not on a difference with the model:\n%s", out)
	}
	t.Logf("rapid's report:\n%s", out)
}

// TestSeededBugHandler: a handler that consumes futures in completion
// order replays differently from how it ran.
func TestSeededBugHandler(t *testing.T) {
	out := mustFail(t, props.Property(fanoutSvc, fanout, rapid.IntRange(0, 10),
		props.WithCallResults("Worker", "do", rapid.StringMatching(`[a-c]`))))
	wantReport(t, out, "replay determinism", "journal mismatch")
}
