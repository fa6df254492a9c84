// Command restatevet reports non-deterministic code in Restate handlers.
//
// Run it directly, restatevet ./..., or through go vet:
//
//	go vet -vettool=$(which restatevet) ./...
package main

import (
	"github.com/qcodr/restate-sdk-go/restatevet/analyzer"
	"golang.org/x/tools/go/analysis/singlechecker"
)

func main() { singlechecker.Main(analyzer.Analyzer) }
