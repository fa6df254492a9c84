package replay

import (
	"fmt"
	"strings"

	"github.com/qcodr/restate-sdk-go/wire"
)

// PatchMarkerPrefix starts the name of the run command that marks a patch
// in the journal: the marker of patch "fraud-check" is a run named
// "patch:fraud-check" whose result is the JSON value true. The runtime
// journals it as any run, so `restate invocations describe` shows it.
const PatchMarkerPrefix = "patch:"

// patchValue is the marker's result.
var patchValue = []byte("true")

// Patch decides which side of a patch point an attempt takes. While
// replaying, it reports true if the next journaled command is this patch's
// marker (and consumes it), and false if the journal holds another command
// there (and consumes nothing): the code that wrote the journal predates
// the patch. Once the journal is exhausted, the invocation is past
// anything its old code did, so it takes the new path: with record, Patch
// journals the marker (a run whose result it proposes at once, awaited by
// nobody, so it costs no round trip) and reports true; without record (a
// deprecated patch, which never writes markers again) it only reports true.
//
// An empty id, or an id decided twice in one attempt, fails the attempt:
// the second decision could not be told apart from the first on replay.
func (m *Machine) Patch(id string, record bool) (bool, error) {
	if err := m.checkOpen(); err != nil {
		return false, err
	}
	if strings.TrimSpace(id) == "" {
		return false, m.fail(&Error{Code: CodeInternal, Message: "restate: a patch needs a non-empty id"})
	}
	if _, dup := m.patches[id]; dup {
		return false, m.fail(&Error{Code: CodeInternal, Message: fmt.Sprintf("restate: patch %q is decided twice in one execution; each patch id marks one point of the handler", id)})
	}
	if m.patches == nil {
		m.patches = make(map[string]struct{})
	}
	m.patches[id] = struct{}{}
	name := PatchMarkerPrefix + id
	if j := m.peekJournal(); j != nil {
		if !m.isRun(j, m.nextCompletionID, name) {
			return false, nil
		}
		_, _, err := m.Run(name) // consumes the marker and its completion id
		return err == nil, err
	}
	if !record {
		return true, nil
	}
	h, needs, err := m.Run(name)
	if err != nil || !needs {
		return err == nil, err
	}
	err = m.ProposeRun(h, RunOutcome{Result: wire.Result{Kind: wire.ResultValue, Value: patchValue}}, RetryPolicy{})
	return err == nil, err
}
