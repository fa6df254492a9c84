package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/qcodr/restate-sdk-go/conformance/suite"
)

// maxReasonLen bounds the failure reason printed on a result line.
const maxReasonLen = 4000

// formatDuration prints d in seconds with one decimal, e.g. "1.2s".
func formatDuration(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// oneLine flattens s onto a single line and bounds its length.
func oneLine(s string) string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	out := strings.Join(fields, " | ")
	if len(out) > maxReasonLen {
		out = out[:maxReasonLen] + "…"
	}
	return out
}

// formatResult is the single output line of a test, e.g.
// "PASS  default/bidi  State/add (1.2s)" or
// "FAIL  default/bidi  State/add (1.2s): reason".
func formatResult(config, mode string, r suite.Result) string {
	status := "PASS"
	if r.Err != nil {
		status = "FAIL"
	}
	line := fmt.Sprintf("%s  %s/%s  %s (%s)", status, config, mode, r.FullName(), formatDuration(r.Duration))
	if r.Err != nil {
		line += ": " + oneLine(r.Err.Error())
	}
	return line
}

// formatSummary is the final output line.
func formatSummary(passed, failed int) string {
	return fmt.Sprintf("%d passed, %d failed", passed, failed)
}

// formatLogTails renders the runtime and service log tails of a failed
// class.
func formatLogTails(config, mode string, rep suite.ClassReport, lines int) string {
	var b strings.Builder
	section := func(what, logs string) {
		fmt.Fprintf(&b, "--- %s log tail: %s/%s %s ---\n", what, config, mode, rep.Class)
		if tail := suite.LastLines(logs, lines); tail != "" {
			b.WriteString(tail)
			b.WriteString("\n")
		} else {
			b.WriteString("(empty)\n")
		}
	}
	section("restate-server", rep.RuntimeLogs)
	section("test-services", rep.ServiceLogs)
	fmt.Fprintf(&b, "--- end of logs: %s/%s %s ---\n", config, mode, rep.Class)
	return b.String()
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
