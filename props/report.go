package props

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/qcodr/restate-sdk-go/internal/sim"
	"github.com/qcodr/restate-sdk-go/replay"
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

// failure is a violated property with what the report shows.
type failure struct {
	info     scenarioInfo
	property string
	message  string
	// culprit is the index of the command where executions diverge, or -1;
	// a violation the engine reported brings its own.
	culprit int
	v       *sim.Violation
	res     *sim.Result
	ref     *sim.Result // the uninterrupted execution, if it ran
}

// fail logs the full report and fails the check with a one-line summary.
// The summary leaves out where the violation showed and the values a
// mismatch shows, so that it stays the same when rapid runs the scenario
// again to shrink it, even for a handler that reads the clock.
func (f *failure) fail(t *rapid.T) {
	t.Helper()
	var b strings.Builder
	info := f.info
	where := ""
	if f.v != nil {
		where = fmt.Sprintf(" in attempt %d", f.v.Attempt)
	}
	fmt.Fprintf(&b, "props: %s violates %s%s:\n", info.name, f.property, where)
	writeIndented(&b, "    ", f.message)
	if f.v != nil && f.v.EngineError != nil && uint16(f.v.EngineError.Code) == replay.CodeUnsupportedFeature && info.version < wire.V6 {
		// V5 is explored only when the user chose it: the defaults are
		// what restate-server 1.7 negotiates.
		fmt.Fprintf(&b, "hint: props.WithVersions chose %s, which cannot carry this; restate-server 1.7 negotiates V6 by default (V7 with RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7=true), and only servers before 1.5 run V5\n", info.version)
	}
	fmt.Fprintf(&b, "scenario: protocol %s, input %s", info.version, quote(info.input))
	if info.key != "" {
		fmt.Fprintf(&b, ", key %q, initial state %s", info.key, describeState(info.state))
	}
	if info.cancel {
		b.WriteString(", the world cancels the invocation")
	}
	b.WriteString("\n")
	culprit := f.culprit
	if f.v != nil && f.v.EngineError != nil && f.v.EngineError.RelatedCommandIndex != nil {
		culprit = int(*f.v.EngineError.RelatedCommandIndex)
	}
	writeRun(&b, "", f.res, culprit)
	if f.ref != nil {
		writeRun(&b, "uninterrupted execution: ", f.ref, culprit)
	}
	t.Logf("%s", b.String())
	t.Fatalf("props: %s violates %s: %s", info.name, f.property, headline(f.message))
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
// line, without the field values of a journal mismatch, and with the quoted
// names that differ between the journal and what the handler issued now
// elided. rapid shrinks a failure only while it reproduces with the same
// message, and for a handler that names a command after the clock every
// run has other names; the full report keeps the engine's words.
func headline(message string) string {
	line, _, _ := strings.Cut(message, "\n")
	line = strings.TrimSuffix(line, ":")
	if i := strings.Index(line, ". The handler code"); i >= 0 {
		line = line[:i]
	}
	if i := strings.Index(line, " ("); i >= 0 {
		line = line[:i]
	}
	line = mismatchIndex.ReplaceAllString(line, "journal mismatch:")
	journal, now, ok := strings.Cut(line, ", handler now issued ")
	if !ok {
		return line
	}
	jq, nq := quoted.FindAllString(journal, -1), quoted.FindAllString(now, -1)
	for i := range min(len(jq), len(nq)) {
		if jq[i] != nq[i] {
			common := `"` + commonWords(jq[i][1:], nq[i][1:]) + `…"`
			journal = strings.Replace(journal, jq[i], common, 1)
			now = strings.Replace(now, nq[i], common, 1)
		}
	}
	return journal + ", handler now issued " + now
}

// commonWords returns the common prefix of a and b, cut after its last
// character that is neither a letter nor a digit, so that "partition 495"
// and "partition 520" share "partition ".
func commonWords(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	p := a[:n]
	i := strings.LastIndexFunc(p, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	return p[:i+1]
}

// mismatchIndex matches the index in the engine's mismatch message, which
// a handler that iterates over a map changes from run to run.
var mismatchIndex = regexp.MustCompile(`journal mismatch (at|after) index \d+:`)

// quoted matches a Go-quoted string.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

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
