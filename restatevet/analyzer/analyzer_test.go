package analyzer_test

import (
	"path/filepath"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/restatevet/analyzer"
	"golang.org/x/tools/go/analysis/analysistest"
)

// The corpus in testdata is a module of its own (example.com/vettest) whose
// go.mod replaces the SDK with this repository, so the analyzer sees the real
// SDK, not a copy.

// TestCorpus runs the analyzer on testdata/a: every `// want` line is
// flagged with its message and chain, every other line stays silent.
// Findings of testdata/helpers reach a through facts.
func TestCorpus(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), analyzer.Analyzer, "example.com/vettest/a")
}

// TestFacts checks the facts exported for testdata/helpers: a summary for
// each exported function that reaches a finding or a durable operation, and
// none for the deterministic ones (Double, Format).
func TestFacts(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), analyzer.Analyzer, "example.com/vettest/helpers")
}

// TestDotlessModule checks a module named without a dot (module myapp),
// which the analyzer must not mistake for the standard library.
func TestDotlessModule(t *testing.T) {
	analysistest.Run(t, filepath.Join(analysistest.TestData(), "dotless"), analyzer.Analyzer, "myapp/app")
}

// TestSuggestedFixes applies the fixes and compares with fix.go.golden.
func TestSuggestedFixes(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), analyzer.Analyzer, "example.com/vettest/fix")
}

// The analyzer matches these SDK names as strings; this keeps them in step.
var (
	_ = restate.NewHandler[int, int]
	_ = restate.NewObjectHandler[int, int]
	_ = restate.NewSharedHandler[int, int]
	_ = restate.NewWorkflowHandler[int, int]
	_ = restate.NewWorkflowSharedHandler[int, int]
	_ = restate.NoInput[restate.Context, int]
	_ = restate.NoOutput[restate.Context, int]
	_ = restate.NoInputOutput[restate.Context]
	_ = restate.Run[int]
	_ = restate.RunAsync[int]
	_ = restate.RunVoid
	_ = restate.Now
)
