package replay

import (
	"testing"

	"github.com/qcodr/restate-sdk-go/wire"
)

func marker(c uint32, id string) *wire.RunCommand { return runCmd(c, PatchMarkerPrefix+id) }

func (s *script) patch(id string, record bool) bool {
	s.t.Helper()
	ok, err := s.m.Patch(id, record)
	s.ok(err)
	return ok
}

// patchedHandler is a handler that gained a run "fraud" behind patch "p"
// before its run "charge": the old code ran only "charge".
func patchedHandler(record bool) func(s *script) {
	return func(s *script) {
		s.input()
		took := s.patch("p", record)
		if took {
			h, exec := s.run("fraud")
			if exec {
				s.executeRun(h, RunOutcome{Result: val(`"fine"`)})
			}
		}
		h, exec := s.run("charge")
		if exec {
			s.executeRun(h, RunOutcome{Result: val(`1`)})
		}
		if took {
			s.finish(val(`"new"`))
		} else {
			s.finish(val(`"old"`))
		}
	}
}

func TestPatch(t *testing.T) {
	t.Parallel()
	runJournalCases(t, []journalCase{
		{
			name:    "a new execution journals the marker and takes the new path",
			handler: patchedHandler(true),
			want: []out{
				o(marker(1, "p")), propose(1, val("true")),
				o(runCmd(2, "fraud")), propose(2, val(`"fine"`)),
				o(runCmd(3, "charge")), propose(3, val(`1`)),
				output(val(`"new"`)), end(),
			},
		},
		{
			name:    "a journal of the old code replays the old path, consuming nothing",
			journal: []wire.Message{runCmd(1, "charge"), runDone(1, val(`1`))},
			handler: patchedHandler(true),
			want:    []out{output(val(`"old"`)), end()},
		},
		{
			name:    "a journal with the marker replays the new path",
			journal: []wire.Message{marker(1, "p"), runDone(1, val("true")), runCmd(2, "fraud"), runDone(2, val(`"fine"`))},
			handler: patchedHandler(true),
			want:    []out{o(runCmd(3, "charge")), propose(3, val(`1`)), output(val(`"new"`)), end()},
		},
		{
			name:    "resumed before the patch point, an old invocation takes the new path",
			journal: []wire.Message{},
			handler: patchedHandler(true),
			want: []out{
				o(marker(1, "p")), propose(1, val("true")),
				o(runCmd(2, "fraud")), propose(2, val(`"fine"`)),
				o(runCmd(3, "charge")), propose(3, val(`1`)),
				output(val(`"new"`)), end(),
			},
		},
		{
			name:    "deprecated: accepts the marker where present",
			journal: []wire.Message{marker(1, "p"), runDone(1, val("true"))},
			handler: patchedHandler(false),
			want:    []out{o(runCmd(2, "fraud")), propose(2, val(`"fine"`)), o(runCmd(3, "charge")), propose(3, val(`1`)), output(val(`"new"`)), end()},
		},
		{
			name:    "deprecated: a new execution writes no marker",
			handler: patchedHandler(false),
			want:    []out{o(runCmd(1, "fraud")), propose(1, val(`"fine"`)), o(runCmd(2, "charge")), propose(2, val(`1`)), output(val(`"new"`)), end()},
		},
		{
			name: "the same patch twice in one execution fails the attempt",
			handler: func(s *script) {
				s.input()
				s.patch("p", true)
				if _, err := s.m.Patch("p", true); err == nil {
					s.t.Fatal("a patch decided twice was accepted")
				}
			},
			want: []out{o(marker(1, "p")), propose(1, val("true")), errorOut(CodeInternal)},
			end:  &Error{Code: CodeInternal},
		},
		{
			name: "an empty id fails the attempt",
			handler: func(s *script) {
				s.input()
				if _, err := s.m.Patch(" ", true); err == nil {
					s.t.Fatal("an empty patch id was accepted")
				}
			},
			want: []out{errorOut(CodeInternal)},
			end:  &Error{Code: CodeInternal},
		},
	})
}
