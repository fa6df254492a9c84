package props

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/internal/sim"
	"github.com/qcodr/restate-sdk-go/wire"
	"pgregory.net/rapid"
)

// Handler is a handler value of package restate with input type In, such
// as a *restate.Handler[In, Out] or a *restate.ObjectHandler[In, Out],
// already assembled into a service. Its type ties the input generator of
// [Check] and [Property] to the handler's input at compile time.
type Handler[In any] interface {
	Name() string
	ServiceName() string
	EncodeInput(In) ([]byte, error)
}

// Check checks that handler, a handler of svc, behaves the same however
// Restate runs it, for inputs drawn from input (encoded with the handler's
// input codec unless [WithCodec] says otherwise) and worlds drawn per the
// options. The compiler checks that input draws the handler's input type.
// It runs the rapid property returned by [Property] with [rapid.Check], so
// rapid's flags apply (-rapid.checks, -rapid.seed, -rapid.failfile), and a failure
// saves the shrunk scenario in testdata/rapid/ to replay it.
//
// A failure reports the violated property, the first diverging command in
// the words of the engine's journal mismatch error (code 570), the schedule
// that led there and the journal.
func Check[In any](t testing.TB, svc restate.ServiceDefinition, handler Handler[In], input *rapid.Generator[In], opts ...Option) {
	t.Helper()
	rapid.Check(t, Property(svc, handler, input, opts...))
}

// Property returns the property [Check] checks, for rapid.Check,
// rapid.MakeFuzz or a property of your own. Each call of it is one
// scenario: an input, a protocol version, a world, and a schedule of
// completions, suspensions, crashes and retries. It checks:
//
//  1. Replay determinism: after every suspension, crash or retry the
//     handler re-issues exactly the journaled commands, and a fresh
//     execution issues the same commands as the journal.
//  2. Exactly-once side effects: a run whose result is journaled never
//     executes again (see [Effect] to also see executions during replays).
//  3. Outcome equivalence: the output and the final state equal those of an
//     uninterrupted execution that gets the same answers from the world in
//     the same order.
//  4. Combinator results agree with the journaled notification order: on
//     replay a race is won by the same future, or 1 or 3 fails.
//
// It panics when handler is not a handler of svc.
func Property[In any](svc restate.ServiceDefinition, handler Handler[In], input *rapid.Generator[In], opts ...Option) func(*rapid.T) {
	if svc == nil || handler == nil || input == nil {
		panic("props: Property needs a service, a handler and an input generator")
	}
	def := svc.Definition()
	h := def.Handler(handler.Name())
	if h == nil || handler.ServiceName() != def.Name {
		panic(fmt.Sprintf("props: handler %q is not a handler of %s %q", handler.Name(), def.Kind, def.Name))
	}
	cfg := newConfig(opts)
	target := &target{name: def.Name + "/" + h.Name, handler: h, keyed: def.Kind != endpoint.KindService}
	return func(t *rapid.T) {
		v := input.Draw(t, "input")
		var (
			payload []byte
			err     error
		)
		if cfg.codec != nil {
			payload, err = cfg.codec.Marshal(v)
		} else {
			payload, err = handler.EncodeInput(v)
		}
		if err != nil {
			t.Fatalf("props: cannot encode the input %#v: %v", v, err)
		}
		if f := runScenario(t, cfg, target, payload); f != nil {
			// One call site for every failure: rapid reproduces a failure
			// only with the same message and the same stack.
			f.fail(t)
		}
	}
}

type target struct {
	name    string
	handler *endpoint.Handler
	keyed   bool
}

// runScenario draws the rest of one scenario, runs it and checks the
// properties. It returns the first violation.
func runScenario(t *rapid.T, cfg *config, tg *target, input []byte) *failure {
	version := cfg.versions[0]
	if len(cfg.versions) > 1 {
		version = cfg.versions[rapid.IntRange(0, len(cfg.versions)-1).Draw(t, "protocol")]
	}
	seed := rapid.Uint64().Draw(t, "random seed")
	state := map[string][]byte{}
	if tg.keyed {
		for _, sg := range cfg.state {
			if rapid.Bool().Draw(t, "state "+sg.key+" present") {
				state[sg.key] = sg.gen(t, "state "+sg.key)
			}
		}
	}
	sc := &scenario{t: t, transient: cfg.transient}
	w := newWorld(t, cfg)
	var signals []wire.NotificationID
	for _, name := range sortedNames(cfg.signals) {
		signals = append(signals, wire.NamedSignalID(name))
	}
	if cfg.awakeables != nil {
		for i := range rapid.IntRange(0, 2).Draw(t, "awakeables resolved early") {
			signals = append(signals, wire.SignalID(17+uint32(i)))
		}
	}
	id := make([]byte, 24)
	binary.BigEndian.PutUint64(id, seed)
	copy(id[8:], "props-invocation")
	key := ""
	if tg.keyed {
		key = cfg.key
	}
	simCfg := sim.Config{
		Handler:       tg.handler.Invoke,
		Name:          tg.name,
		Version:       version,
		Keyed:         tg.keyed,
		Key:           key,
		ID:            id,
		DebugID:       fmt.Sprintf("inv_1props%016x", seed),
		Seed:          seed,
		Input:         input,
		State:         state,
		MaxAttempts:   cfg.maxAttempts,
		Context:       context.WithValue(context.Background(), scenarioKey{}, sc),
		Signals:       signals,
		BeforeAttempt: cfg.beforeAttempt,
		Executions:    sc.executions,
		World:         w,
	}
	sched := &scheduler{cfg: cfg, sc: sc, c: &choices{t: t}}
	simCfg.Scheduler = sched
	info := scenarioInfo{name: tg.name, version: version, input: input, key: key, state: state, cancel: w.cancel}

	res := sim.Run(simCfg)
	sc.check()
	if v := res.Violation; v != nil {
		return &failure{info: info, property: string(v.Property), message: v.Message, culprit: -1, v: v, res: res}
	}
	if res.Output == nil {
		return &failure{info: info, property: string(sim.Progress), message: "the invocation ended without an output", culprit: -1, res: res}
	}
	if r := res.Output.Result; r.Kind == wire.ResultFailure && r.Failure.Code == 400 && onlyInputAndOutput(res.Journal) {
		t.Fatalf("props: %s rejected the generated input %s: %s; does WithCodec match the handler's input codec?",
			tg.name, quote(input), r.Failure.Message)
	}

	var statePlan sim.Plan
	if tg.keyed {
		statePlan = sched.statePlan()
	}
	sc.mu.Lock()
	sc.transient = false // the reference execution is uninterrupted
	sc.mu.Unlock()
	ref := sim.Uninterrupted(simCfg, res.Journal, statePlan)
	sc.check()
	if e := sim.Mismatch(version, res.Journal, ref.Journal); e != nil {
		culprit := -1
		if e.RelatedIndex != nil {
			culprit = int(*e.RelatedIndex)
		}
		return &failure{info: info, property: string(sim.Determinism), message: e.Message + " (an uninterrupted execution, compared with the journal)", culprit: culprit, res: res, ref: ref}
	}
	if v := ref.Violation; v != nil {
		return &failure{info: info, property: "outcome equivalence", message: "the uninterrupted execution: " + v.Message, culprit: -1, res: res, ref: ref}
	}
	if d := outcomeDiff(res, ref); d != "" {
		return &failure{info: info, property: "outcome equivalence", message: "the output or the final state differs from an uninterrupted execution's (-uninterrupted +interrupted):\n" + d, culprit: -1, res: res, ref: ref}
	}
	// A handler that diverges only sometimes (map order, a goroutine race)
	// gets more chances to show it, so that rapid can reproduce a failure
	// it found and shrink it.
	for range verifyReplays {
		rep := sim.Replay(simCfg, res.Journal, statePlan)
		if v := rep.Violation; v != nil {
			return &failure{info: info, property: string(v.Property), message: v.Message + " (a replay of the final journal)", culprit: -1, v: v, res: rep}
		}
	}
	return nil
}

// verifyReplays is how many times a scenario replays its final journal.
// Each replay is one request/response attempt: together with the
// uninterrupted execution they let a handler that diverges half of the
// time go unnoticed in one scenario out of 32 or fewer.
const verifyReplays = 4

func onlyInputAndOutput(journal []wire.Message) bool {
	return len(sim.Commands(journal)) == 2
}
