package props

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/qcodr/restate-sdk-go/internal/sim"
	"github.com/qcodr/restate-sdk-go/wire"
	"pgregory.net/rapid"
)

// scenarioInfo is what a report says about the scenario besides its
// schedule.
type scenarioInfo struct {
	name    string
	version wire.Version
	input   []byte
	key     string
	state   map[string][]byte
	cancel  bool
}

// fail logs the full report and fails the check with a one-line summary.
// The summary leaves out the values a mismatch shows, so that it stays the
// same when rapid runs the scenario again to shrink it, even for a handler
// that reads the clock.
func fail(t *rapid.T, info scenarioInfo, property, message string, v *sim.Violation, res, ref *sim.Result) {
	t.Helper()
	var b strings.Builder
	attempt := ""
	if v != nil {
		attempt = fmt.Sprintf(" in attempt %d", v.Attempt)
	}
	fmt.Fprintf(&b, "props: %s violates %s%s:\n", info.name, property, attempt)
	writeIndented(&b, "    ", message)
	fmt.Fprintf(&b, "scenario: protocol %s, input %s", info.version, quote(info.input))
	if info.key != "" {
		fmt.Fprintf(&b, ", key %q, initial state %s", info.key, describeState(info.state))
	}
	if info.cancel {
		b.WriteString(", the world cancels the invocation")
	}
	b.WriteString("\n")
	culprit := -1
	if v != nil && v.EngineError != nil && v.EngineError.RelatedCommandIndex != nil {
		culprit = int(*v.EngineError.RelatedCommandIndex)
	}
	writeRun(&b, "", res, culprit)
	if ref != nil {
		writeRun(&b, "uninterrupted execution: ", ref, -1)
	}
	t.Logf("%s", b.String())
	t.Fatalf("props: %s violates %s%s: %s", info.name, property, attempt, headline(message))
}

func writeRun(b *strings.Builder, prefix string, res *sim.Result, culprit int) {
	fmt.Fprintf(b, "%sschedule (%d attempts):\n", prefix, res.Attempts)
	const head, tail = 120, 80
	for i, line := range res.Trace {
		if len(res.Trace) > head+tail && i >= head && i < len(res.Trace)-tail {
			if i == head {
				fmt.Fprintf(b, "    … %d lines left out …\n", len(res.Trace)-head-tail)
			}
			continue
		}
		b.WriteString("    ")
		b.WriteString(line)
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "%sjournal (%d entries; commands numbered as the engine numbers them):\n", prefix, len(res.Journal))
	cmd := 0
	for _, e := range res.Journal {
		mark, idx := "    ", "        "
		if e.Type().IsCommand() {
			if cmd == culprit {
				mark = "  → "
			}
			idx = fmt.Sprintf("cmd %-3d ", cmd)
			cmd++
		}
		fmt.Fprintf(b, "%s%s%s\n", mark, idx, sim.Describe(e))
	}
	if culprit >= cmd {
		fmt.Fprintf(b, "  → cmd %-3d (the command the handler issued instead of ending)\n", culprit)
	}
}

func writeIndented(b *strings.Builder, indent, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(indent)
		b.WriteString(line)
		b.WriteString("\n")
	}
}

// headline returns the stable part of a violation's message: its first
// line, without the field values of a journal mismatch.
func headline(message string) string {
	line, _, _ := strings.Cut(message, "\n")
	line = strings.TrimSuffix(line, ":")
	if i := strings.Index(line, ". The handler code"); i >= 0 {
		line = line[:i]
	}
	if i := strings.Index(line, " ("); i >= 0 {
		line = line[:i]
	}
	return line
}

func quote(b []byte) string {
	const limit = 96
	if len(b) > limit {
		return strconv.Quote(string(b[:limit])) + "…"
	}
	return strconv.Quote(string(b))
}

func describeState(state map[string][]byte) string {
	if len(state) == 0 {
		return "{}"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(state)) {
		parts = append(parts, fmt.Sprintf("%q: %s", k, quote(state[k])))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func sortedNames[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// outcome is what outcome equivalence compares, in readable form.
type outcome struct {
	Output string
	State  map[string]string
}

func outcomeOf(res *sim.Result) outcome {
	o := outcome{Output: "none", State: map[string]string{}}
	if res.Output != nil {
		switch r := res.Output.Result; r.Kind {
		case wire.ResultValue:
			o.Output = "value " + strconv.Quote(string(r.Value))
		case wire.ResultFailure:
			o.Output = fmt.Sprintf("terminal failure %d %q", r.Failure.Code, r.Failure.Message)
		}
	}
	for k, v := range res.State {
		o.State[k] = string(v)
	}
	return o
}

// outcomeDiff compares the output and final state of the interrupted
// execution with the uninterrupted one's.
func outcomeDiff(res, ref *sim.Result) string {
	return cmp.Diff(outcomeOf(ref), outcomeOf(res))
}
