package replay

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcodr/restate-sdk-go/wire"
)

func echo(s *script) {
	in := s.input()
	s.finish(wire.ValueResult(in.Value))
}

func TestInputOutput(t *testing.T) {
	t.Parallel()
	metadata := wire.Result{Kind: wire.ResultFailure, Failure: wire.Failure{
		Code: 418, Message: "teapot", Metadata: []wire.FailureMetadata{{Key: "k", Value: "v"}},
	}}
	runJournalCases(t, []journalCase{
		{
			name:    "echo",
			handler: echo,
			want:    []out{output(val("in")), end()},
		},
		{
			name:    "echo in bidi mode",
			open:    true,
			handler: echo,
			want:    []out{output(val("in")), end()},
		},
		{
			name:    "output already journaled: only End is written",
			journal: []wire.Message{&wire.OutputCommand{Result: val("in")}},
			handler: echo,
			want:    []out{end()},
		},
		{
			name:    "end without output",
			handler: func(s *script) { s.input(); s.end() },
			want:    []out{end()},
		},
		{
			name:    "terminal failure",
			handler: func(s *script) { s.input(); s.finish(failure(409, "conflict")) },
			want:    []out{output(failure(409, "conflict")), end()},
		},
		{
			name:     "terminal failure with metadata",
			versions: []wire.Version{wire.V6, wire.V7},
			handler:  func(s *script) { s.input(); s.finish(metadata) },
			want:     []out{output(metadata), end()},
		},
		{
			name:     "terminal failure with metadata on V5 is unsupported",
			versions: []wire.Version{wire.V5},
			handler: func(s *script) {
				s.input()
				s.fails(s.m.Output(metadata), CodeUnsupportedFeature)
			},
			want: []out{errorOut(CodeUnsupportedFeature)},
		},
		{
			name: "the Replaying flag",
			journal: []wire.Message{
				&wire.SleepCommand{ResultCompletionID: 1},
				sleepDone(1),
				&wire.SleepCommand{ResultCompletionID: 2},
			},
			handler: func(s *script) {
				expect := func(want bool, when string) {
					s.t.Helper()
					if s.m.Replaying() != want {
						s.t.Fatalf("%s: Replaying() = %v, want %v", when, !want, want)
					}
				}
				expect(true, "before the input")
				s.input()
				expect(true, "after the input")
				s.get(s.sleep(""))
				expect(true, "after the first sleep")
				h := s.sleep("")
				// G10: replay ends after the last command; its completion is
				// still ahead.
				expect(false, "after the last journaled command")
				s.suspends(Single(h))
			},
			want: []out{suspendedOn(2)},
		},
	})
}

func TestInputFields(t *testing.T) {
	t.Parallel()
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			st := startMsg(1)
			st.Key = "my-key"
			st.RandomSeed = 0x0123456789ABCDEF
			st.RetryCountSinceLastStoredEntry = 3
			st.DurationSinceLastStoredEntry = 1500
			st.Scope = wire.String("tenant-a")
			st.LimitKey = wire.String("user-42")
			st.IdempotencyKey = wire.String("idem-7")
			headers := []wire.HeaderEntry{{Key: "x-my-header", Value: "my-value"}, {Key: "a", Value: "b"}}
			m := New(v, Options{})
			if err := m.FeedBytes(encode(st, &wire.InputCommand{Headers: headers, Value: []byte("data")})); err != nil {
				t.Fatal(err)
			}
			in, err := m.Input()
			if err != nil {
				t.Fatal(err)
			}
			want := Input{
				InvocationID:                   exampleDebugID,
				ID:                             exampleID,
				Key:                            "my-key",
				Headers:                        headers,
				Value:                          []byte("data"),
				RandomSeed:                     0x0123456789ABCDEF,
				RetryCountSinceLastStoredEntry: 3,
				DurationSinceLastStoredEntry:   1500,
			}
			switch v {
			case wire.V5:
				// No random_seed before V6: the seed is derived from the id.
				sum := sha256.Sum256(exampleID)
				want.RandomSeed = binary.BigEndian.Uint64(sum[:8])
			case wire.V7:
				want.Scope, want.LimitKey, want.IdempotencyKey = wire.String("tenant-a"), wire.String("user-42"), wire.String("idem-7")
			}
			if diff := cmp.Diff(want, in, cmpOpts); diff != "" {
				t.Errorf("Input (-want +got):\n%s", diff)
			}
			if m.CommandIndex() != 0 {
				t.Errorf("CommandIndex() = %d after the input, want 0", m.CommandIndex())
			}
			if m.Version() != v {
				t.Errorf("Version() = %v", m.Version())
			}
		})
	}
}

func TestInputWithoutValue(t *testing.T) {
	t.Parallel()
	m := New(wire.V6, Options{})
	if err := m.FeedBytes(encode(startMsg(1), &wire.InputCommand{})); err != nil {
		t.Fatal(err)
	}
	in, err := m.Input()
	if err != nil || len(in.Value) != 0 {
		t.Fatalf("Input() = %q, %v; want empty input", in.Value, err)
	}
}

// TestGreeterBytes replays the worked example of PROTOCOL.md §12 byte for
// byte: the request body of testdata/greeter_v6_request.hex must produce
// exactly the response body of testdata/greeter_v6_response.hex, on V5, V6
// and V7 alike.
func TestGreeterBytes(t *testing.T) {
	t.Parallel()
	request := readHex(t, "greeter_v6_request.hex")
	response := readHex(t, "greeter_v6_response.hex")
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			m := New(v, Options{})
			// Feed the body in awkward chunks: frames split across writes.
			for i := 0; i < len(request); i += 5 {
				if err := m.FeedBytes(request[i:min(i+5, len(request))]); err != nil {
					t.Fatal(err)
				}
			}
			if err := m.CloseInput(); err != nil {
				t.Fatal(err)
			}
			in, err := m.Input()
			if err != nil {
				t.Fatal(err)
			}
			if string(in.Value) != `"Alice"` {
				t.Fatalf("input %q", in.Value)
			}
			if err := m.Output(wire.ValueResult([]byte(`"Hello Alice!"`))); err != nil {
				t.Fatal(err)
			}
			if err := m.End(); err != nil {
				t.Fatal(err)
			}
			if got := m.TakeOutput(); !bytes.Equal(got, response) {
				t.Errorf("response body\n got %x\nwant %x", got, response)
			}
		})
	}
}

// readHex reads a testdata file of hex digits; lines starting with # are
// comments.
func readHex(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var digits strings.Builder
	for line := range strings.Lines(string(raw)) {
		if !strings.HasPrefix(line, "#") {
			digits.WriteString(line)
		}
	}
	return mustHex(digits.String())
}

// TestFeedBytesReusedBuffer feeds the request body through one small buffer
// that the caller overwrites after every call, as a transport reading the
// body does: what the engine decoded must not change.
func TestFeedBytesReusedBuffer(t *testing.T) {
	t.Parallel()
	for _, size := range []int{7, 64, 1 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) { testFeedBytesReusedBuffer(t, size) })
	}
}

func testFeedBytesReusedBuffer(t *testing.T, size int) {
	st := withState(true, "STATE", "Francesco")
	st.KnownEntries = 6
	body := encode(st, inputCmd("my-input"), eagerGet("STATE", val("Francesco")),
		lazyGet("OTHER", 2), lazyStateDone(2, val("lazy value")), runCmd(3, "step"), runDone(3, val("run value")))
	later := encode(signalDone(17, val("awakeable value")), namedSignalDone("go", val("named value")))
	m := New(wire.V7, Options{})
	buf := make([]byte, size)
	feed := func(b []byte) {
		for len(b) > 0 {
			n := copy(buf, b)
			if err := m.FeedBytes(buf[:n]); err != nil {
				t.Fatal(err)
			}
			for i := range buf {
				buf[i] = 0xFF
			}
			b = b[n:]
		}
	}
	feed(body)
	feed(later)
	s := &script{t: t, m: m, v: wire.V7}
	in := s.input()
	if string(in.Value) != "my-input" || string(in.ID) != string(exampleID) {
		t.Fatalf("input %q, id %x", in.Value, in.ID)
	}
	h1 := s.getState("STATE")
	h2 := s.getState("OTHER")
	s.expectValue(s.get(h1), "Francesco")
	s.expectValue(s.get(h2), "lazy value")
	r, exec, err := m.Run("step")
	s.ok(err)
	if exec {
		t.Fatal("the journaled run executes again")
	}
	s.expectValue(s.get(r), "run value")
	a, _ := s.awakeable()
	named, err := m.Signal("go")
	s.ok(err)
	s.expectValue(s.get(a), "awakeable value")
	s.expectValue(s.get(named), "named value")
	s.finish(val("done"))
}
