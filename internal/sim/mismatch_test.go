package sim_test

import (
	"strings"
	"testing"

	"github.com/qcodr/restate-sdk-go/internal/sim"
	"github.com/qcodr/restate-sdk-go/wire"
)

func TestMismatch(t *testing.T) {
	t.Parallel()
	input := &wire.InputCommand{Value: []byte("in")}
	runA := &wire.RunCommand{ResultCompletionID: 1, Name: "a"}
	runB := &wire.RunCommand{ResultCompletionID: 1, Name: "b"}
	sleep := &wire.SleepCommand{ResultCompletionID: 1, Name: "nap", WakeUpTime: 10}
	laterSleep := &wire.SleepCommand{ResultCompletionID: 1, Name: "nap", WakeUpTime: 99}
	output := &wire.OutputCommand{Result: wire.ValueResult([]byte("out"))}
	result := &wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(1), Result: wire.ValueResult(nil)}
	tests := []struct {
		name            string
		journal, issued []wire.Message
		want            []string // substrings of the message; none means no mismatch
	}{
		{name: "same commands", journal: []wire.Message{input, runA, result, output}, issued: []wire.Message{input, runA, output}},
		{name: "sleep times are not compared", journal: []wire.Message{input, sleep}, issued: []wire.Message{input, laterSleep}},
		{name: "other name", journal: []wire.Message{input, runA}, issued: []wire.Message{input, runB},
			want: []string{`journal mismatch at index 1: journal has run "a", handler now issued run "b"`, `name: journal "a", now "b"`}},
		{name: "other kind", journal: []wire.Message{input, runA}, issued: []wire.Message{input, sleep},
			want: []string{`journal has run "a", handler now issued sleep "nap"`}},
		{name: "ends early", journal: []wire.Message{input, runA, output}, issued: []wire.Message{input, output},
			want: []string{`journal has run "a", handler now issued handler output`}},
		{name: "issues more", journal: []wire.Message{input, runA}, issued: []wire.Message{input, runA, sleep},
			want: []string{`journal mismatch at index 2: journal has nothing, handler now issued sleep "nap"`}},
		{name: "issues less", journal: []wire.Message{input, runA, output}, issued: []wire.Message{input, runA},
			want: []string{`journal has handler output, but the handler now returned`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := sim.Mismatch(wire.V6, tc.journal, tc.issued)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Mismatch = %v, want none", err)
				}
				return
			}
			if err == nil || err.Code != 570 {
				t.Fatalf("Mismatch = %v, want a 570 error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Message, w) {
					t.Errorf("the message %q does not say %q", err.Message, w)
				}
			}
		})
	}
}
