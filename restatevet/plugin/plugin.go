// Package plugin registers restatevet as a golangci-lint module plugin.
//
// Build a custom golangci-lint with a .custom-gcl.yml that lists
// github.com/qcodr/restate-sdk-go/restatevet under plugins with
// import path github.com/qcodr/restate-sdk-go/restatevet/plugin, then
// enable the linter "restatevet" with type "module".
package plugin

import (
	"github.com/golangci/plugin-module-register/register"
	"github.com/qcodr/restate-sdk-go/restatevet/analyzer"
	"golang.org/x/tools/go/analysis"
)

func init() {
	register.Plugin("restatevet", New)
}

// New returns the restatevet linter; it takes no settings.
func New(any) (register.LinterPlugin, error) {
	return linter{}, nil
}

type linter struct{}

// BuildAnalyzers returns the restatevet analyzer.
func (linter) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	return []*analysis.Analyzer{analyzer.Analyzer}, nil
}

// GetLoadMode asks for type information.
func (linter) GetLoadMode() string {
	return register.LoadModeTypesInfo
}
