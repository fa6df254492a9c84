package replay_test

import (
	"fmt"

	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// printFrames decodes the engine's output and prints one line per frame.
func printFrames(out []byte) {
	d := wire.NewDecoder(0)
	d.Write(out)
	for {
		f, ok, err := d.Next()
		if err != nil || !ok {
			return
		}
		msg, err := f.Decode()
		if err != nil {
			fmt.Println("undecodable frame:", err)
			return
		}
		switch msg := msg.(type) {
		case *wire.OutputCommand:
			fmt.Printf("-> %s %q\n", f.Header.Type, msg.Result.Value)
		case *wire.SleepCommand:
			fmt.Printf("-> %s completion %d\n", f.Header.Type, msg.ResultCompletionID)
		case *wire.SuspensionMessage:
			fmt.Printf("-> %s completions %v signals %v\n", f.Header.Type, msg.WaitingCompletions, msg.WaitingSignals)
		default:
			fmt.Printf("-> %s\n", f.Header.Type)
		}
	}
}

// A second attempt of an invocation whose first attempt ran a side effect
// and stored its result: the handler re-issues the run, which is not
// executed again, then finishes.
func Example() {
	// The request body: StartMessage, the input, the journaled run and its
	// completion (known_entries counts both).
	var body []byte
	for _, msg := range []wire.Message{
		&wire.StartMessage{ID: []byte("id"), DebugID: "inv_1example", KnownEntries: 3, PartialState: true},
		&wire.InputCommand{Value: []byte("Alice")},
		&wire.RunCommand{ResultCompletionID: 1, Name: "greet"},
		&wire.Notification{MessageType: wire.TypeRunCompletion, ID: wire.CompletionID(1), Result: wire.ValueResult([]byte("Hello Alice!"))},
	} {
		body = wire.AppendFrame(body, msg, 0)
	}

	m := replay.New(wire.V6, replay.Options{})
	if err := m.FeedBytes(body); err != nil {
		panic(err)
	}
	_ = m.CloseInput() // request/response: the body is complete

	// The handler.
	in, _ := m.Input()
	fmt.Printf("input %q, replaying: %v\n", in.Value, m.Replaying())

	h, execute, _ := m.Run("greet")
	fmt.Printf("run executes again: %v, replaying: %v\n", execute, m.Replaying())

	res, _ := m.Await(replay.Single(h))
	greeting, _ := m.Take(h)
	fmt.Printf("await: %v, result %q\n", res.Status, greeting.Value)

	_ = m.Output(greeting)
	_ = m.End()
	printFrames(m.TakeOutput())
	fmt.Println("attempt:", m.Err())

	// Output:
	// input "Alice", replaying: true
	// run executes again: false, replaying: false
	// await: ready, result "Hello Alice!"
	// -> OutputCommandMessage "Hello Alice!"
	// -> EndMessage
	// attempt: replay: attempt ended
}

// Awaiting a timer that has not fired, with the request body complete,
// suspends the invocation: the engine writes a SuspensionMessage listing
// the awaited completion and the cancel signal.
func Example_suspension() {
	var body []byte
	body = wire.AppendFrame(body, &wire.StartMessage{ID: []byte("id"), DebugID: "inv_1example", KnownEntries: 1, PartialState: true}, 0)
	body = wire.AppendFrame(body, &wire.InputCommand{}, 0)

	m := replay.New(wire.V6, replay.Options{})
	_ = m.FeedBytes(body)
	_ = m.CloseInput()

	_, _ = m.Input()
	timer, _ := m.Sleep(1_767_225_600_000, "") // absolute wake-up time, ms since the epoch
	_, err := m.Await(replay.Single(timer))
	fmt.Println("await:", err)
	printFrames(m.TakeOutput())

	// Output:
	// await: replay: suspended
	// -> SleepCommandMessage completion 1
	// -> SuspensionMessage completions [1] signals [1]
}
