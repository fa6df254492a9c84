package replay

import (
	"testing"

	"github.com/qcodr/restate-sdk-go/wire"
)

// stateOutput turns a state get result into the handler's output.
func stateOutput(r wire.Result) wire.Result {
	if r.Kind == wire.ResultVoid {
		return val("absent")
	}
	return r
}

// getStateHandler reads key and outputs its value, or "absent"; it stops
// when the engine suspends.
func getStateHandler(key string) func(s *script) {
	return func(s *script) {
		s.input()
		h := s.getState(key)
		res, err := s.m.Await(Single(h))
		if err != nil {
			return
		}
		if res.Status != StatusReady {
			s.t.Fatalf("Await: %v", res.Status)
		}
		s.finish(stateOutput(s.take(h)))
	}
}

func withState(partial bool, kv ...string) *wire.StartMessage {
	st := startMsg(0)
	st.PartialState = partial
	st.Key = "my-object"
	for i := 0; i < len(kv); i += 2 {
		st.StateMap = append(st.StateMap, wire.StateEntry{Key: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return st
}

func eagerGet(key string, r wire.Result) *wire.GetEagerStateCommand {
	return &wire.GetEagerStateCommand{Key: []byte(key), Result: r}
}

func lazyGet(key string, c uint32) *wire.GetLazyStateCommand {
	return &wire.GetLazyStateCommand{Key: []byte(key), ResultCompletionID: c}
}

func TestState(t *testing.T) {
	t.Parallel()
	runJournalCases(t, []journalCase{
		{
			name:    "eager complete state, key absent",
			start:   withState(false),
			handler: getStateHandler("STATE"),
			want:    []out{o(eagerGet("STATE", void())), output(val("absent")), end()},
		},
		{
			name:    "eager complete state, key present",
			start:   withState(false, "STATE", "Francesco"),
			handler: getStateHandler("STATE"),
			want:    []out{o(eagerGet("STATE", val("Francesco"))), output(val("Francesco")), end()},
		},
		{
			name:    "eager complete state, present but empty value",
			start:   withState(false, "STATE", ""),
			handler: getStateHandler("STATE"),
			want:    []out{o(eagerGet("STATE", val(""))), output(val("")), end()},
		},
		{
			name:    "partial state hit",
			start:   withState(true, "STATE", "Francesco"),
			handler: getStateHandler("STATE"),
			want:    []out{o(eagerGet("STATE", val("Francesco"))), output(val("Francesco")), end()},
		},
		{
			name:    "partial state miss: lazy get suspends",
			start:   withState(true, "OTHER", "x"),
			handler: getStateHandler("STATE"),
			want:    []out{o(lazyGet("STATE", 1)), suspendedOn(1)},
		},
		{
			name:    "partial state miss: lazy get completed later",
			start:   withState(true),
			later:   []wire.Message{lazyStateDone(1, val("Francesco"))},
			handler: getStateHandler("STATE"),
			want:    []out{o(lazyGet("STATE", 1)), output(val("Francesco")), end()},
		},
		{
			name:    "partial state miss: lazy get completed later with absent",
			start:   withState(true),
			later:   []wire.Message{lazyStateDone(1, void())},
			handler: getStateHandler("STATE"),
			want:    []out{o(lazyGet("STATE", 1)), output(val("absent")), end()},
		},
		{
			name:    "replayed lazy get with its completion",
			journal: []wire.Message{lazyGet("STATE", 1), lazyStateDone(1, val("Francesco"))},
			handler: getStateHandler("STATE"),
			want:    []out{output(val("Francesco")), end()},
		},
		{
			name:    "replayed lazy get with an empty completion",
			journal: []wire.Message{lazyGet("STATE", 1), lazyStateDone(1, void())},
			handler: getStateHandler("STATE"),
			want:    []out{output(val("absent")), end()},
		},
		{
			name:    "replayed lazy get not completed yet",
			journal: []wire.Message{lazyGet("STATE", 1)},
			handler: getStateHandler("STATE"),
			want:    []out{suspendedOn(1)},
		},
		{
			name:    "replayed lazy get completed after the replay",
			journal: []wire.Message{lazyGet("STATE", 1)},
			later:   []wire.Message{lazyStateDone(1, val("Francesco"))},
			handler: getStateHandler("STATE"),
			want:    []out{output(val("Francesco")), end()},
		},
		{
			// The journal decides: an eager get replays even though the
			// state map of this attempt is partial and lacks the key.
			name:    "replayed eager get with partial state",
			start:   withState(true),
			journal: []wire.Message{eagerGet("STATE", void())},
			handler: getStateHandler("STATE"),
			want:    []out{output(val("absent")), end()},
		},
		{
			name:    "replayed eager get ignores this attempt's state map",
			start:   withState(false, "STATE", "new"),
			journal: []wire.Message{eagerGet("STATE", val("old"))},
			handler: getStateHandler("STATE"),
			want:    []out{output(val("old")), end()},
		},
		{
			// The lazy command replays although the state map now has the key.
			name:    "replayed lazy get with the key now in the state map",
			start:   withState(false, "STATE", "eager"),
			journal: []wire.Message{lazyGet("STATE", 1), lazyStateDone(1, val("lazy"))},
			handler: getStateHandler("STATE"),
			want:    []out{output(val("lazy")), end()},
		},
		{
			name:  "set then get reads the new value",
			start: withState(true, "STATE", "one"),
			handler: func(s *script) {
				s.input()
				s.expectValue(s.get(s.getState("STATE")), "one")
				s.ok(s.m.SetState("STATE", []byte("one-two")))
				s.expectValue(s.get(s.getState("STATE")), "one-two")
				s.finish(val("done"))
			},
			want: []out{
				o(eagerGet("STATE", val("one"))),
				o(&wire.SetStateCommand{Key: []byte("STATE"), Value: []byte("one-two")}),
				o(eagerGet("STATE", val("one-two"))),
				output(val("done")), end(),
			},
		},
		{
			name:  "lazy get, set, then eager get",
			start: withState(true),
			later: []wire.Message{lazyStateDone(1, val("one"))},
			handler: func(s *script) {
				s.input()
				s.expectValue(s.get(s.getState("STATE")), "one")
				s.ok(s.m.SetState("STATE", []byte("two")))
				s.expectValue(s.get(s.getState("STATE")), "two")
				s.finish(val("done"))
			},
			want: []out{
				o(lazyGet("STATE", 1)),
				o(&wire.SetStateCommand{Key: []byte("STATE"), Value: []byte("two")}),
				o(eagerGet("STATE", val("two"))),
				output(val("done")), end(),
			},
		},
		{
			name:  "set with nil value writes a present empty value",
			start: withState(true),
			handler: func(s *script) {
				s.input()
				s.ok(s.m.SetState("STATE", nil))
				s.expectValue(s.get(s.getState("STATE")), "")
				s.end()
			},
			want: []out{
				o(&wire.SetStateCommand{Key: []byte("STATE"), Value: []byte{}}),
				o(eagerGet("STATE", val(""))),
				end(),
			},
		},
		{
			name:  "clear makes the key known-absent",
			start: withState(true, "STATE", "one"),
			handler: func(s *script) {
				s.input()
				s.expectValue(s.get(s.getState("STATE")), "one")
				s.ok(s.m.ClearState("STATE"))
				s.expectResult(s.get(s.getState("STATE")), void())
				s.end()
			},
			want: []out{
				o(eagerGet("STATE", val("one"))),
				o(&wire.ClearStateCommand{Key: []byte("STATE")}),
				o(eagerGet("STATE", void())),
				end(),
			},
		},
		{
			name:  "clear after a lazy get",
			start: withState(true),
			later: []wire.Message{lazyStateDone(1, val("one"))},
			handler: func(s *script) {
				s.input()
				s.expectValue(s.get(s.getState("STATE")), "one")
				s.ok(s.m.ClearState("STATE"))
				s.expectResult(s.get(s.getState("STATE")), void())
				s.end()
			},
			want: []out{
				o(lazyGet("STATE", 1)),
				o(&wire.ClearStateCommand{Key: []byte("STATE")}),
				o(eagerGet("STATE", void())),
				end(),
			},
		},
		{
			name:  "clear all makes the whole state known",
			start: withState(true, "STATE", "one", "ANOTHER", "two"),
			handler: func(s *script) {
				s.input()
				s.expectValue(s.get(s.getState("STATE")), "one")
				s.ok(s.m.ClearAllState())
				s.expectResult(s.get(s.getState("STATE")), void())
				s.expectResult(s.get(s.getState("ANOTHER")), void())
				s.expectResult(s.get(s.getState("NEVER_SEEN")), void())
				s.expectResult(s.get(s.stateKeys()), stateKeys())
				s.end()
			},
			want: []out{
				o(eagerGet("STATE", val("one"))),
				o(&wire.ClearAllStateCommand{}),
				o(eagerGet("STATE", void())),
				o(eagerGet("ANOTHER", void())),
				o(eagerGet("NEVER_SEEN", void())),
				o(&wire.GetEagerStateKeysCommand{}),
				end(),
			},
		},
		{
			name:  "clear all after a lazy get",
			start: withState(true),
			later: []wire.Message{lazyStateDone(1, val("one"))},
			handler: func(s *script) {
				s.input()
				s.expectValue(s.get(s.getState("STATE")), "one")
				s.ok(s.m.ClearAllState())
				s.expectResult(s.get(s.getState("STATE")), void())
				s.end()
			},
			want: []out{
				o(lazyGet("STATE", 1)),
				o(&wire.ClearAllStateCommand{}),
				o(eagerGet("STATE", void())),
				end(),
			},
		},
		{
			// Set, clear and clear all update the eager state in replay too,
			// so the reads after them are served the same way.
			name:  "state effects replayed, then eager reads in processing",
			start: withState(true, "A", "stale", "B", "stale"),
			journal: []wire.Message{
				&wire.SetStateCommand{Key: []byte("A"), Value: []byte("fresh")},
				&wire.ClearStateCommand{Key: []byte("B")},
			},
			handler: func(s *script) {
				s.input()
				s.ok(s.m.SetState("A", []byte("fresh")))
				s.ok(s.m.ClearState("B"))
				s.expectValue(s.get(s.getState("A")), "fresh")
				s.expectResult(s.get(s.getState("B")), void())
				s.end()
			},
			want: []out{o(eagerGet("A", val("fresh"))), o(eagerGet("B", void())), end()},
		},
		{
			name:    "clear all replayed, then eager reads in processing",
			start:   withState(true, "A", "stale"),
			journal: []wire.Message{&wire.ClearAllStateCommand{}},
			handler: func(s *script) {
				s.input()
				s.ok(s.m.ClearAllState())
				s.expectResult(s.get(s.getState("A")), void())
				s.expectResult(s.get(s.getState("Z")), void())
				s.end()
			},
			want: []out{o(eagerGet("A", void())), o(eagerGet("Z", void())), end()},
		},
		{
			name:  "consecutive gets of an absent key",
			start: withState(false),
			handler: func(s *script) {
				s.input()
				s.expectResult(s.get(s.getState("key-0")), void())
				s.expectResult(s.get(s.getState("key-0")), void())
				s.finish(val(""))
			},
			want: []out{o(eagerGet("key-0", void())), o(eagerGet("key-0", void())), output(val("")), end()},
		},
		{
			name:    "consecutive gets, the first one replayed",
			start:   withState(false),
			journal: []wire.Message{eagerGet("key-0", void())},
			handler: func(s *script) {
				s.input()
				s.expectResult(s.get(s.getState("key-0")), void())
				if s.m.Replaying() {
					s.t.Fatal("still replaying after the last journaled command")
				}
				s.expectResult(s.get(s.getState("key-0")), void())
				s.finish(val(""))
			},
			want: []out{o(eagerGet("key-0", void())), output(val("")), end()},
		},
		{
			// G2: an eager get takes a completion id although its command
			// carries none, so the lazy get after it gets id 2 and the
			// sleep after that id 3.
			name:  "eager gets allocate completion ids",
			start: withState(true, "A", "a"),
			handler: func(s *script) {
				s.input()
				s.getState("A")
				s.getState("B")
				s.sleep("")
				s.end()
			},
			want: []out{
				o(eagerGet("A", val("a"))),
				o(lazyGet("B", 2)),
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 3}),
				end(),
			},
		},
		{
			// G2 on replay: the journal has an eager get (no id) followed by
			// a lazy one with id 2.
			name:    "eager get replayed allocates its completion id",
			start:   withState(true),
			journal: []wire.Message{eagerGet("A", val("a")), lazyGet("B", 2), lazyStateDone(2, val("b"))},
			handler: func(s *script) {
				s.input()
				s.expectValue(s.get(s.getState("A")), "a")
				s.expectValue(s.get(s.getState("B")), "b")
				s.end()
			},
			want: []out{end()},
		},
	})
}

func TestStateKeys(t *testing.T) {
	t.Parallel()
	keysHandler := func(s *script) {
		s.input()
		h := s.stateKeys()
		if _, err := s.m.Await(Single(h)); err != nil {
			return
		}
		r := s.take(h)
		if r.Kind != wire.ResultStateKeys {
			s.t.Fatalf("keys result kind %v", r.Kind)
		}
		var joined []byte
		for i, k := range r.StateKeys {
			if i > 0 {
				joined = append(joined, ',')
			}
			joined = append(joined, k...)
		}
		s.finish(wire.ValueResult(joined))
	}
	runJournalCases(t, []journalCase{
		{
			name:    "eager keys are sorted",
			start:   withState(false, "MY-STATE", "Francesco", "ANOTHER-STATE", "Till"),
			handler: keysHandler,
			want: []out{
				o(&wire.GetEagerStateKeysCommand{Keys: [][]byte{[]byte("ANOTHER-STATE"), []byte("MY-STATE")}}),
				output(val("ANOTHER-STATE,MY-STATE")), end(),
			},
		},
		{
			name:    "lazy keys suspend",
			start:   withState(true, "MY-STATE", "Francesco"),
			handler: keysHandler,
			want:    []out{o(&wire.GetLazyStateKeysCommand{ResultCompletionID: 1}), suspendedOn(1)},
		},
		{
			name:    "lazy keys completed later keep the runtime's order",
			start:   withState(true),
			later:   []wire.Message{completion(wire.TypeGetLazyStateKeysCompletion, 1, stateKeys("MY-STATE", "ANOTHER-STATE"))},
			handler: keysHandler,
			want: []out{
				o(&wire.GetLazyStateKeysCommand{ResultCompletionID: 1}),
				output(val("MY-STATE,ANOTHER-STATE")), end(),
			},
		},
		{
			name:    "replayed eager keys",
			start:   withState(true),
			journal: []wire.Message{&wire.GetEagerStateKeysCommand{Keys: [][]byte{[]byte("A"), []byte("B")}}},
			handler: keysHandler,
			want:    []out{output(val("A,B")), end()},
		},
		{
			name: "replayed lazy keys with their completion",
			journal: []wire.Message{
				&wire.GetLazyStateKeysCommand{ResultCompletionID: 1},
				completion(wire.TypeGetLazyStateKeysCompletion, 1, stateKeys("B", "A")),
			},
			handler: keysHandler,
			want:    []out{output(val("B,A")), end()},
		},
		{
			// Deliberate choice (PROTOCOL.md §6.1): the eager key list holds
			// only keys that have a value, not the cleared ones.
			name:  "eager keys leave out cleared keys and include set ones",
			start: withState(false, "A", "1", "B", "2"),
			handler: func(s *script) {
				s.input()
				s.ok(s.m.ClearState("A"))
				s.ok(s.m.SetState("C", []byte("3")))
				s.expectResult(s.get(s.stateKeys()), stateKeys("B", "C"))
				s.end()
			},
			want: []out{
				o(&wire.ClearStateCommand{Key: []byte("A")}),
				o(&wire.SetStateCommand{Key: []byte("C"), Value: []byte("3")}),
				o(&wire.GetEagerStateKeysCommand{Keys: [][]byte{[]byte("B"), []byte("C")}}),
				end(),
			},
		},
		{
			name:  "keys take a completion id",
			start: withState(false),
			handler: func(s *script) {
				s.input()
				s.stateKeys()
				s.getState("X")
				s.sleep("")
				s.end()
			},
			want: []out{
				o(&wire.GetEagerStateKeysCommand{}),
				o(eagerGet("X", void())),
				o(&wire.SleepCommand{WakeUpTime: 1_000, ResultCompletionID: 3}),
				end(),
			},
		},
	})
}
