package props

import (
	"fmt"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/wire"
	"pgregory.net/rapid"
)

// Option configures [Check] and [Property]: the world the handler runs in
// (WithCallResults, WithState, WithCancellation, …) and the executions
// explored (WithVersions, WithModes, …). A nil Option is ignored, as
// everywhere in the SDK.
type Option interface {
	apply(*config)
}

type option func(*config)

func (o option) apply(c *config) { o(c) }

// Mode is how the simulated runtime streams an attempt.
type Mode uint8

// The stream modes. Each attempt of a scenario picks one of the allowed
// modes, so one invocation may see both.
const (
	// Bidi keeps the request body open: completions arrive while the
	// handler waits, and the runtime may close the stream at any point to
	// make the handler suspend.
	Bidi Mode = iota
	// RequestResponse sends the journal and closes the request body: every
	// await the journal cannot resolve suspends, and the runtime re-invokes
	// with a full replay.
	RequestResponse
)

// String returns "bidi" or "request/response".
func (m Mode) String() string {
	if m == RequestResponse {
		return "request/response"
	}
	return "bidi"
}

// valueGen draws one encoded value.
type valueGen func(t *rapid.T, label string) []byte

func jsonGen[T any](gen *rapid.Generator[T], what string) valueGen {
	if gen == nil {
		panic("props: " + what + ": nil generator")
	}
	return func(t *rapid.T, label string) []byte {
		v := gen.Draw(t, label)
		b, err := restate.JSON.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("props: %s: cannot encode %T as JSON: %v", what, v, err))
		}
		return b
	}
}

type config struct {
	versions      []wire.Version
	modes         []Mode
	key           string
	state         []stateGen
	calls         map[string]valueGen // "Service/handler"
	awakeables    valueGen
	signals       map[string]valueGen
	promises      map[string]valueGen
	failures      bool
	cancellation  bool
	transient     bool
	maxAttempts   int
	maxCrashes    int
	beforeAttempt func(attempt int)
	codec         restate.Codec // nil: the handler's input codec
}

type stateGen struct {
	key string
	gen valueGen
}

func newConfig(opts []Option) *config {
	c := &config{
		versions:    []wire.Version{wire.V6, wire.V7},
		modes:       []Mode{Bidi, RequestResponse},
		key:         "key",
		calls:       map[string]valueGen{},
		signals:     map[string]valueGen{},
		promises:    map[string]valueGen{},
		maxAttempts: 200,
		maxCrashes:  4,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// WithVersions sets the protocol versions explored; each scenario picks
// one. The default is V6 and V7, what a deployment negotiates with
// restate-server 1.7: V6 by default, V7 when the server enables it
// (RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7). Add wire.V5 for servers
// before 1.5; a handler that uses what V5 cannot carry (terminal error
// metadata) then fails with the engine's code 573, which names V5.
func WithVersions(versions ...wire.Version) Option {
	for _, v := range versions {
		if v < wire.MinVersion || v > wire.MaxVersion {
			panic(fmt.Sprintf("props: WithVersions: unsupported protocol version %d", v))
		}
	}
	if len(versions) == 0 {
		panic("props: WithVersions: no version")
	}
	return option(func(c *config) { c.versions = versions })
}

// WithModes limits the stream modes explored (default both, chosen per
// attempt).
func WithModes(modes ...Mode) Option {
	if len(modes) == 0 {
		panic("props: WithModes: no mode")
	}
	return option(func(c *config) { c.modes = modes })
}

// WithKey sets the object or workflow key of keyed handlers (default "key").
func WithKey(key string) Option {
	return option(func(c *config) { c.key = key })
}

// WithState makes the object's state under key, when the invocation starts,
// a value drawn from gen (encoded with JSON), or absent. Without it the
// state starts empty.
func WithState[T any](key string, gen *rapid.Generator[T]) Option {
	g := jsonGen(gen, "WithState("+key+")")
	return option(func(c *config) { c.state = append(c.state, stateGen{key: key, gen: g}) })
}

// WithCallResults answers the handler's calls to service/handler, and its
// attaches to an invocation of it by idempotency key, with values drawn
// from gen, encoded with JSON. Other calls and attaches get an empty
// payload, which the JSON codec decodes as the zero value.
func WithCallResults[Out any](service, handler string, gen *rapid.Generator[Out]) Option {
	g := jsonGen(gen, "WithCallResults("+service+"/"+handler+")")
	return option(func(c *config) { c.calls[service+"/"+handler] = g })
}

// WithAwakeables resolves the handler's awakeables with values drawn from gen
// (encoded with JSON), sometimes before the handler waits for them. Without
// it awakeables are resolved with an empty payload, once the handler waits.
func WithAwakeables[T any](gen *rapid.Generator[T]) Option {
	g := jsonGen(gen, "WithAwakeables")
	return option(func(c *config) { c.awakeables = g })
}

// WithSignal sends the invocation the named signal with a value drawn from
// gen (encoded with JSON), at a time the schedule chooses, possibly before
// the handler waits for it. Signals without a generator are sent with an
// empty payload once the handler waits for them.
func WithSignal[T any](name string, gen *rapid.Generator[T]) Option {
	g := jsonGen(gen, "WithSignal("+name+")")
	return option(func(c *config) { c.signals[name] = g })
}

// WithPromise resolves the workflow's durable promise name with a value
// drawn from gen (encoded with JSON). Peeking it may find it not resolved
// yet. Promises without a generator resolve with an empty payload.
func WithPromise[T any](name string, gen *rapid.Generator[T]) Option {
	g := jsonGen(gen, "WithPromise("+name+")")
	return option(func(c *config) { c.promises[name] = g })
}

// WithFailures lets the world answer calls, attaches, promises, awakeables
// and signals with terminal failures too.
func WithFailures() Option {
	return option(func(c *config) { c.failures = true })
}

// WithCancellation lets the world cancel the invocation, at a time the
// schedule chooses.
func WithCancellation() Option {
	return option(func(c *config) { c.cancellation = true })
}

// WithTransientFailures makes [Effect] sometimes return a retryable error,
// so that runs fail and retry.
func WithTransientFailures() Option {
	return option(func(c *config) { c.transient = true })
}

// WithMaxAttempts bounds the attempts of one scenario (default 200); an
// invocation that has not completed by then fails the check.
func WithMaxAttempts(n int) Option {
	if n < 1 {
		panic("props: WithMaxAttempts: n must be positive")
	}
	return option(func(c *config) { c.maxAttempts = n })
}

// WithBeforeAttempt runs fn before every attempt of the handler, with the
// attempt's number (from 1) in the scenario. Use it to model what changes
// between attempts in production, such as a redeploy with another
// configuration: a handler that depends on it is not deterministic.
func WithBeforeAttempt(fn func(attempt int)) Option {
	return option(func(c *config) { c.beforeAttempt = fn })
}

// WithCodec encodes the generated input with codec instead of the
// handler's own input codec (the default).
func WithCodec(codec restate.Codec) Option {
	if codec == nil {
		panic("props: WithCodec: nil codec")
	}
	return option(func(c *config) { c.codec = codec })
}
