package loadgen

import (
	"encoding/hex"
	"strconv"

	"github.com/qcodr/restate-sdk-go/bench/frames"
	"github.com/qcodr/restate-sdk-go/bench/workload"
)

// Version is the service protocol version the load generator speaks (the
// default of restate-server 1.7).
const Version = 6

// The invocation id and debug id of every invocation: endpoints treat them
// as opaque (values from the worked example of the protocol specification).
var (
	invocationID, _ = hex.DecodeString("000000000000002a0196f1c2a3b4c5d6e7f8091a2b3c4d5e")
	debugID         = "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"
)

// Request is a prebuilt invocation: where it goes, its request body, what
// its output must be, how to answer what the endpoint writes meanwhile and,
// for an awakeable, the notification that completes it.
type Request struct {
	Path    string
	Body    []byte
	Want    []byte
	Respond Responder
	Later   []byte
}

func start(known uint32, key string, state []frames.StateEntry) frames.Start {
	return frames.Start{
		ID: invocationID, DebugID: debugID, KnownEntries: known,
		State: state, PartialState: key == "", Key: key, RandomSeed: 0x0123456789ABCDEF,
	}
}

func path(prefix, svc, handler string) string {
	return "/invoke/" + workload.Name(prefix, svc) + "/" + handler
}

// Greet is Greeter/greet("Alice").
func Greet(prefix string) Request {
	b := frames.AppendStart(nil, start(1, "", nil))
	b = frames.AppendInput(b, []byte(`"Alice"`))
	return Request{Path: path(prefix, workload.Greeter, workload.GreeterGreet), Body: b,
		Want: []byte(`"` + workload.GreetText("Alice") + `"`)}
}

// CounterAdd is Counter/add(1) on key "k" whose count is 41, with the whole
// state sent eagerly.
func CounterAdd(prefix string) Request {
	b := frames.AppendStart(nil, start(1, "k", []frames.StateEntry{{Key: workload.CountKey, Value: "41"}}))
	b = frames.AppendInput(b, []byte("1"))
	return Request{Path: path(prefix, workload.Counter, workload.CounterAdd), Body: b, Want: []byte("42")}
}

// Gets is Reader/gets(n) on key "k" whose "s" is 1, sent eagerly: n state
// reads without a round trip.
func Gets(prefix string, n int) Request {
	b := frames.AppendStart(nil, start(1, "k", []frames.StateEntry{{Key: workload.ReadKey, Value: "1"}}))
	b = frames.AppendInput(b, []byte(strconv.Itoa(n)))
	return Request{Path: path(prefix, workload.Reader, workload.ReaderGets), Body: b, Want: []byte(strconv.Itoa(n))}
}

// RunsLive is Runner/runs(n) on a fresh journal: every run's proposal is
// answered with its completion over the open stream.
func RunsLive(prefix string, n int) Request {
	b := frames.AppendStart(nil, start(1, "", nil))
	b = frames.AppendInput(b, []byte(strconv.Itoa(n)))
	return Request{Path: path(prefix, workload.Runner, workload.RunnerRuns), Body: b,
		Want: []byte(strconv.Itoa(n)), Respond: AnswerRuns}
}

// RunsReplay is Runner/runs(n) with a journal of n completed runs (a run
// command and its completion each): the endpoint replays them and only
// writes the output.
func RunsReplay(prefix string, n int) Request {
	b := frames.AppendStart(nil, start(uint32(1+2*n), "", nil))
	b = frames.AppendInput(b, []byte(strconv.Itoa(n)))
	for i := 1; i <= n; i++ {
		b = frames.AppendRunCommand(b, uint32(i))
		b = frames.AppendRunCompletion(b, uint32(i), []byte("1"))
	}
	return Request{Path: path(prefix, workload.Runner, workload.RunnerRuns), Body: b, Want: []byte(strconv.Itoa(n))}
}

// Wait is Waiter/wait: the handler waits on its first awakeable (signal 17)
// until Later completes it with "done".
func Wait(prefix string) Request {
	b := frames.AppendStart(nil, start(1, "", nil))
	b = frames.AppendInput(b, []byte(`"x"`))
	return Request{Path: path(prefix, workload.Waiter, workload.WaiterWait), Body: b,
		Want: []byte(`"done"`), Later: frames.AppendSignal(nil, 17, []byte(`"done"`))}
}
