package a

import (
	crand "crypto/rand"
	"maps"
	"math/rand"
	randv2 "math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	restate "github.com/qcodr/restate-sdk-go"

	"example.com/vettest/helpers"
)

var counter int
var saved restate.Context
var cache = map[string]int{}
var global holder
var outside = &holder{}

type clock struct{}

func (clock) now() int64 {
	return time.Now().UnixNano() // want `time.Now reads the clock.*\(chain: MethodChain -> now\)`
}

func even(n int) int {
	if n == 0 {
		return 0
	}
	return odd(n - 1)
}

func odd(n int) int {
	if n == 0 {
		return int(time.Now().Unix()) // want `time.Now reads the clock.*\(chain: MutualRecursion -> even -> odd\)`
	}
	return even(n - 1)
}

type holder struct{ ctx restate.Context }

var count = restate.NewStateKey[int]("count")

func handlers() {
	// Flagged.
	restate.NewHandler("Clock", func(ctx restate.Context, in int) (int, error) {
		_ = time.Now() // want `time.Now reads the clock outside a run: use restate.Now\(ctx\) \(chain: Clock\)`
		return in, nil
	})
	restate.NewHandler("Since", func(ctx restate.Context, in time.Time) (int, error) {
		return int(time.Since(in)), nil // want `time.Since reads the clock outside a run.*\(chain: Since\)`
	})
	restate.NewHandler("Until", func(ctx restate.Context, in time.Time) (int, error) {
		return int(time.Until(in)), nil // want `time.Until reads the clock.*\(chain: Until\)`
	})
	restate.NewHandler("SleepH", func(ctx restate.Context, in int) (int, error) {
		time.Sleep(time.Second) // want `time.Sleep outside a run: use restate.Sleep\(ctx, d\) \(chain: SleepH\)`
		return in, nil
	})
	restate.NewHandler("AfterH", func(ctx restate.Context, in int) (int, error) {
		_ = time.After(time.Second) // want `time.After outside a run: use restate.After\(ctx, d\) \(chain: AfterH\)`
		return in, nil
	})
	restate.NewHandler("TickH", func(ctx restate.Context, in int) (int, error) {
		_ = time.Tick(time.Second) // want `time.Tick reads the clock.*\(chain: TickH\)`
		return in, nil
	})
	restate.NewHandler("TimerH", func(ctx restate.Context, in int) (int, error) {
		_ = time.NewTimer(time.Second) // want `time.NewTimer.*\(chain: TimerH\)`
		return in, nil
	})
	restate.NewHandler("TickerH", func(ctx restate.Context, in int) (int, error) {
		_ = time.NewTicker(time.Second) // want `time.NewTicker.*\(chain: TickerH\)`
		return in, nil
	})
	restate.NewHandler("RandV1", func(ctx restate.Context, in int) (int, error) {
		return rand.Intn(in), nil // want `math/rand.Intn uses global randomness: use ctx.Rand\(\) \(chain: RandV1\)`
	})
	restate.NewHandler("RandV1Float", func(ctx restate.Context, in int) (float64, error) {
		return rand.Float64(), nil // want `math/rand.Float64 uses global randomness.*\(chain: RandV1Float\)`
	})
	restate.NewHandler("RandV2", func(ctx restate.Context, in int) (int, error) {
		return randv2.IntN(in), nil // want `math/rand/v2.IntN uses global randomness: use ctx.Rand\(\) \(chain: RandV2\)`
	})
	restate.NewHandler("RandV2Shuffle", func(ctx restate.Context, in []int) ([]int, error) {
		randv2.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] }) // want `math/rand/v2.Shuffle uses global randomness.*\(chain: RandV2Shuffle\)`
		return in, nil
	})
	restate.NewHandler("CryptoRand", func(ctx restate.Context, in int) (string, error) {
		return crand.Text(), nil // want `crypto/rand.Text is random on every replay: call it inside a run \(chain: CryptoRand\)`
	})
	restate.NewHandler("CryptoRead", func(ctx restate.Context, in []byte) ([]byte, error) {
		_, _ = crand.Read(in) // want `crypto/rand.Read is random on every replay.*\(chain: CryptoRead\)`
		return in, nil
	})
	restate.NewHandler("Getenv", func(ctx restate.Context, in string) (string, error) {
		return os.Getenv(in), nil // want `os.Getenv reads the environment or files outside a run: call it inside a run \(chain: Getenv\)`
	})
	restate.NewHandler("LookupEnv", func(ctx restate.Context, in string) (string, error) {
		v, _ := os.LookupEnv(in) // want `os.LookupEnv reads the environment.*\(chain: LookupEnv\)`
		return v, nil
	})
	restate.NewHandler("Environ", func(ctx restate.Context, in string) (int, error) {
		return len(os.Environ()), nil // want `os.Environ reads the environment.*\(chain: Environ\)`
	})
	restate.NewHandler("ReadFile", func(ctx restate.Context, in string) ([]byte, error) {
		return os.ReadFile(in) // want `os.ReadFile reads the environment or files outside a run.*\(chain: ReadFile\)`
	})
	restate.NewHandler("FileRead", func(ctx restate.Context, in string) (int, error) {
		f, _ := os.Open(in) // want `os.Open reads.*\(chain: FileRead\)`
		return f.Read(nil)  // want `os.File.Read does file I/O outside a run: call it inside a run \(chain: FileRead\)`
	})
	restate.NewHandler("HTTPGet", func(ctx restate.Context, in string) (int, error) {
		r, err := http.Get(in) // want `net/http.Get does network I/O outside a run: call it inside a run \(chain: HTTPGet\)`
		if err != nil {
			return 0, err
		}
		return r.StatusCode, nil
	})
	restate.NewHandler("HTTPDo", func(ctx restate.Context, in *http.Request) (int, error) {
		_, err := http.DefaultClient.Do(in) // want `net/http.Client.Do does network I/O.*\(chain: HTTPDo\)`
		return 0, err
	})
	restate.NewHandler("Dial", func(ctx restate.Context, in string) (int, error) {
		_, err := net.Dial("tcp", in) // want `net.Dial does network I/O.*\(chain: Dial\)`
		return 0, err
	})
	restate.NewHandler("MapRange", func(ctx restate.Context, in map[string]int) (int, error) {
		for k := range in { // want `range over a map issues durable operations in random order: sort the keys first \(chain: MapRange\)`
			_ = restate.Sleep(ctx, time.Duration(len(k)))
		}
		return 0, nil
	})
	restate.NewObjectHandler("MapRangeHelper", func(ctx restate.ObjectContext, in map[string]int) (int, error) {
		for _, v := range in { // want `range over a map issues durable operations.*\(chain: MapRangeHelper\)`
			store(ctx, v)
		}
		return 0, nil
	})
	restate.NewObjectHandler("MapRangeFact", func(ctx restate.ObjectContext, in map[string]int) (int, error) {
		for _, v := range in { // want `range over a map issues durable operations.*\(chain: MapRangeFact\)`
			helpers.Save(ctx, v)
		}
		return 0, nil
	})
	restate.NewHandler("GoCtx", func(ctx restate.Context, in int) (int, error) {
		go func() { // want `go statement uses the handler's context ctx from another goroutine \(chain: GoCtx\)`
			_ = restate.Sleep(ctx, 1)
		}()
		return in, nil
	})
	restate.NewHandler("GoCtxArg", func(ctx restate.Context, in int) (int, error) {
		go work(ctx) // want `go statement uses the handler's context ctx.*\(chain: GoCtxArg\)`
		return in, nil
	})
	restate.NewHandler("SelectH", func(ctx restate.Context, in chan int) (int, error) {
		select { // want `select statement: its choice depends on timing, use restate.Select \(chain: SelectH\)`
		default:
		}
		return 0, nil
	})
	restate.NewHandler("Send", func(ctx restate.Context, in chan int) (int, error) {
		in <- 1 // want `channel send in handler code: its timing is not journaled \(chain: Send\)`
		return 0, nil
	})
	restate.NewHandler("Recv", func(ctx restate.Context, in chan int) (int, error) {
		return <-in, nil // want `channel receive in handler code: its timing is not journaled \(chain: Recv\)`
	})
	restate.NewHandler("RangeChan", func(ctx restate.Context, in chan int) (int, error) {
		for range in { // want `range over a channel in handler code.*\(chain: RangeChan\)`
		}
		return 0, nil
	})
	restate.NewHandler("WaitGroup", func(ctx restate.Context, in int) (int, error) {
		var wg sync.WaitGroup
		wg.Wait() // want `sync.WaitGroup.Wait blocks on other goroutines: use futures and restate.Select \(chain: WaitGroup\)`
		return in, nil
	})
	restate.NewHandler("CondWait", func(ctx restate.Context, in *sync.Cond) (int, error) {
		in.Wait() // want `sync.Cond.Wait blocks on other goroutines.*\(chain: CondWait\)`
		return 0, nil
	})
	restate.NewHandler("RunCaptures", func(ctx restate.Context, in int) (int, error) {
		return restate.Run(ctx, func(rc restate.RunContext) (int, error) {
			_ = ctx.Request() // want `handler context ctx used inside a run closure: use the run's parameter rc \(chain: RunCaptures\)`
			return 1, nil
		})
	})
	restate.NewHandler("RunVoidCaptures", func(ctx restate.Context, in int) (int, error) {
		return 0, restate.RunVoid(ctx, func(restate.RunContext) error {
			return ctx.Err() // want `handler context ctx used inside a run closure: use the run's RunContext parameter \(chain: RunVoidCaptures\)`
		})
	})
	restate.NewHandler("RunAsyncCaptures", func(ctx restate.Context, in int) (int, error) {
		return restate.RunAsync(ctx, func(rc restate.RunContext) (int, error) {
			_, err := http.NewRequestWithContext(ctx, "GET", "x", nil) // want `handler context ctx used inside a run closure: use the run's parameter rc`
			return 0, err
		}).Await()
	})
	restate.NewHandler("GlobalWrite", func(ctx restate.Context, in int) (int, error) {
		counter = in // want `write to package-level variable counter from handler code: it is not journaled \(chain: GlobalWrite\)`
		return in, nil
	})
	restate.NewHandler("GlobalInc", func(ctx restate.Context, in int) (int, error) {
		counter++ // want `write to package-level variable counter.*\(chain: GlobalInc\)`
		return in, nil
	})
	restate.NewHandler("GlobalMap", func(ctx restate.Context, in string) (int, error) {
		cache[in] = 1 // want `write to package-level variable cache.*\(chain: GlobalMap\)`
		return 0, nil
	})
	restate.NewHandler("StoreCtx", func(ctx restate.Context, in int) (int, error) {
		saved = ctx // want `restate context stored in package-level variable saved: it must not outlive the handler \(chain: StoreCtx\)`
		return in, nil
	})
	restate.NewHandler("StoreField", func(ctx restate.Context, in *holder) (int, error) {
		in.ctx = ctx // want `restate context stored in struct field ctx: it must not outlive the handler \(chain: StoreField\)`
		return 0, nil
	})
	restate.NewHandler("Chain", func(ctx restate.Context, in int) (int, error) {
		return outer(in), nil
	})
	restate.NewHandler("Cross", func(ctx restate.Context, in int) (int64, error) {
		return helpers.Stamp(), nil // want `time.Now reads the clock outside a run: use restate.Now\(ctx\) \(chain: Cross -> Stamp\) at helpers/helpers.go:14`
	})
	restate.NewHandler("CrossDeep", func(ctx restate.Context, in int) (string, error) {
		return helpers.Region(), nil // want `os.Getenv reads.*\(chain: CrossDeep -> Region -> lookup\) at helpers/helpers.go:19`
	})
	restate.NewHandler("Value", valueHandler)
	restate.NewObjectHandler("NoInputH", restate.NoInput(func(ctx restate.ObjectContext) (int, error) {
		return int(time.Now().Unix()), nil // want `time.Now.*\(chain: NoInputH\)`
	}))
	restate.NewSharedHandler("Shared", func(ctx restate.ObjectSharedContext, in int) (int, error) {
		return rand.Int(), nil // want `math/rand.Int uses global randomness.*\(chain: Shared\)`
	})
	restate.NewWorkflowHandler("Workflow", restate.NoOutput(func(ctx restate.WorkflowContext, in int) error {
		time.Sleep(1) // want `time.Sleep outside a run.*\(chain: Workflow\)`
		return nil
	}))
	restate.NewWorkflowSharedHandler("WorkflowShared", restate.NoInputOutput(func(ctx restate.WorkflowSharedContext) error {
		_ = os.Getenv("X") // want `os.Getenv.*\(chain: WorkflowShared\)`
		return nil
	}))
	restate.NewHandler("Recursive", func(ctx restate.Context, in int) (int, error) {
		return recurse(in), nil
	})
	restate.NewHandler("BadDirective", func(ctx restate.Context, in int) (int, error) {
		/* want `restatevet: ignore directive needs a reason` */ //restatevet:ignore
		return in, nil
	})
	restate.NewHandler("MapsKeys", func(ctx restate.Context, in map[string]int) (int, error) {
		for k := range maps.Keys(in) { // want `range over maps.Keys issues durable operations in random order: use slices.Sorted\(maps.Keys\(m\)\) \(chain: MapsKeys\)`
			_ = restate.Sleep(ctx, time.Duration(len(k)))
		}
		return 0, nil
	})
	restate.NewHandler("StoreLiteral", func(ctx restate.Context, in int) (int, error) {
		global = holder{ctx: ctx} // want `restate context stored in package-level variable global: it must not outlive the handler \(chain: StoreLiteral\)`
		return in, nil
	})
	restate.NewHandler("StoreElement", func(ctx restate.Context, in []restate.Context) (int, error) {
		in[0] = ctx // want `restate context stored in element of in: it must not outlive the handler \(chain: StoreElement\)`
		return 0, nil
	})
	restate.NewHandler("StoreCaptured", func(ctx restate.Context, in int) (int, error) {
		outside.ctx = ctx // want `restate context stored in package-level variable outside: it must not outlive the handler \(chain: StoreCaptured\)`
		return in, nil
	})
	restate.NewHandler("ForeignGlobal", func(ctx restate.Context, in int) (int, error) {
		helpers.Hits++ // want `write to package-level variable Hits from handler code: it is not journaled \(chain: ForeignGlobal\)`
		return in, nil
	})
	restate.NewHandler("MethodChain", func(ctx restate.Context, in int) (int64, error) {
		return clock{}.now(), nil
	})
	restate.NewHandler("ForeignMethod", func(ctx restate.Context, in int) (int64, error) {
		return helpers.Clock{}.Read(), nil // want `time.Now reads the clock outside a run: use restate.Now\(ctx\) \(chain: ForeignMethod -> Read\) at helpers/helpers.go`
	})
	restate.NewHandler("MutualRecursion", func(ctx restate.Context, in int) (int, error) {
		return even(in), nil
	})
	var svc service
	restate.NewHandler("MethodValue", svc.handle)
	restate.NewHandler("Generic", genericHandler[int])
	restate.NewHandler("NamedNoInput", restate.NoInput(namedNoInput))
	standalone := restate.NoInputOutput(envHelper)
	restate.NewHandler("Standalone", standalone)

	// Silent.
	restate.NewHandler("LocalStruct", func(ctx restate.Context, in int) (int, error) {
		h := &holder{}
		h.ctx = ctx
		l := holder{ctx: ctx}
		_ = l
		return in, restate.Sleep(h.ctx, time.Second)
	})
	restate.NewHandler("SortedMapsKeys", func(ctx restate.Context, in map[string]int) (int, error) {
		for _, k := range slices.Sorted(maps.Keys(in)) {
			_ = restate.Sleep(ctx, time.Duration(in[k]))
		}
		return 0, nil
	})
	restate.NewHandler("MapsValuesPure", func(ctx restate.Context, in map[string]int) (int, error) {
		sum := 0
		for v := range maps.Values(in) {
			sum += v
		}
		return sum, nil
	})
	restate.NewHandler("CallsNoHandler", func(ctx restate.Context, in int) (int, error) {
		return helpers.Double(in) + len(helpers.Format(in)), nil
	})
	restate.NewHandler("UUID", func(ctx restate.Context, in int) (string, error) {
		return restate.UUID(ctx), nil
	})
	restate.NewHandler("RunWithHelperIO", func(ctx restate.Context, in string) (string, error) {
		return restate.Run(ctx, func(rc restate.RunContext) (string, error) {
			return helpers.Region() + helpers.Format(int(helpers.Stamp())), nil
		})
	})
	restate.NewHandler("RunIO", func(ctx restate.Context, in string) (string, error) {
		return restate.Run(ctx, func(rc restate.RunContext) (string, error) {
			b, err := os.ReadFile(in)
			_ = time.Now()
			_ = rand.Int()
			return string(b), err
		})
	})
	restate.NewHandler("RunHTTP", func(ctx restate.Context, in string) (int, error) {
		return restate.Run(ctx, func(rc restate.RunContext) (int, error) {
			req, err := http.NewRequestWithContext(rc, "GET", in, nil)
			if err != nil {
				return 0, err
			}
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0, err
			}
			return r.StatusCode, nil
		})
	})
	restate.NewHandler("RunVoidEnv", func(ctx restate.Context, in string) (int, error) {
		return 0, restate.RunVoid(ctx, func(rc restate.RunContext) error {
			_ = os.Getenv(in)
			return nil
		})
	})
	restate.NewHandler("RunAsyncClock", func(ctx restate.Context, in int) (int64, error) {
		return restate.RunAsync(ctx, func(restate.RunContext) (int64, error) {
			return time.Now().Unix(), nil
		}).Await()
	})
	restate.NewHandler("CtxRand", func(ctx restate.Context, in int) (int, error) {
		return ctx.Rand().IntN(in), nil
	})
	restate.NewHandler("RestateNow", func(ctx restate.Context, in int) (int64, error) {
		t, err := restate.Now(ctx)
		return t.Unix(), err
	})
	restate.NewHandler("RestateSleep", func(ctx restate.Context, in int) (int, error) {
		return in, restate.Sleep(ctx, time.Second)
	})
	restate.NewHandler("SortedKeys", func(ctx restate.Context, in map[string]int) (int, error) {
		keys := make([]string, 0, len(in))
		for k := range in {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			_ = restate.Sleep(ctx, time.Duration(in[k]))
		}
		return 0, nil
	})
	restate.NewHandler("MapNoDurable", func(ctx restate.Context, in map[string]int) (int, error) {
		sum := 0
		for _, v := range in {
			sum += v
		}
		return sum, nil
	})
	restate.NewHandler("MapRandOnly", func(ctx restate.Context, in map[string]int) (int, error) {
		n := 0
		for range in {
			n += ctx.Rand().IntN(2)
		}
		return n, nil
	})
	restate.NewHandler("PureHelper", func(ctx restate.Context, in int) (int, error) {
		return double(in) + helpers.Double(in), nil
	})
	restate.NewHandler("Durations", func(ctx restate.Context, in int) (string, error) {
		d := time.Duration(in) * time.Second
		return d.String() + time.Unix(0, 0).UTC().String(), nil
	})
	restate.NewHandler("LocalRand", func(ctx restate.Context, in int) (int, error) {
		r := randv2.New(randv2.NewPCG(1, 2))
		return r.IntN(in), nil
	})
	restate.NewHandler("LocalVar", func(ctx restate.Context, in int) (int, error) {
		x := in
		x++
		return x, nil
	})
	restate.NewHandler("LocalClosure", func(ctx restate.Context, in int) (int, error) {
		f := func(n int) int { return n + 1 }
		return f(in), nil
	})
	restate.NewObjectHandler("State", func(ctx restate.ObjectContext, in int) (int, error) {
		n, err := count.Get(ctx)
		count.Set(ctx, n+in)
		return n, err
	})
	restate.NewHandler("IgnoredLine", func(ctx restate.Context, in int) (int64, error) {
		return time.Now().Unix(), nil //restatevet:ignore logged only, never journaled
	})
	restate.NewHandler("IgnoredAbove", func(ctx restate.Context, in int) (string, error) {
		//restatevet:ignore read once at deploy time, the same on every attempt
		return os.Getenv("MODE"), nil
	})
	restate.NewHandler("IgnoredFunc", ignoredHandler)
	restate.NewHandler("IgnoredCall", func(ctx restate.Context, in int) (int64, error) {
		return helpers.Stamp(), nil //restatevet:ignore the stamp is only logged
	})
	restate.NewHandler("RunParam", func(ctx restate.Context, in int) (int, error) {
		return restate.Run(ctx, func(rc restate.RunContext) (int, error) {
			return 0, rc.Err()
		})
	})
	restate.NewHandler("SliceRange", func(ctx restate.Context, in []int) (int, error) {
		for _, v := range in {
			_ = restate.Sleep(ctx, time.Duration(v))
		}
		return 0, nil
	})
	restate.NewHandler("RestateAfter", func(ctx restate.Context, in int) (int, error) {
		_, err := restate.After(ctx, time.Second).Await()
		return in, err
	})
}

// Not a handler: nothing here is reported.
func notAHandler() {
	_ = time.Now()
	counter++
}

func store(ctx restate.ObjectContext, v int) { count.Set(ctx, v) }

func work(ctx restate.Context) { _ = ctx }

func outer(n int) int { return inner(n) }

func inner(n int) int {
	return n + int(time.Now().Unix()) // want `time.Now reads the clock.*\(chain: Chain -> outer -> inner\)`
}

func valueHandler(ctx restate.Context, in int) (int, error) {
	return in + rand.Intn(3), nil // want `math/rand.Intn uses global randomness.*\(chain: Value\)`
}

func recurse(n int) int {
	if n == 0 {
		return int(time.Now().Unix()) // want `time.Now.*\(chain: Recursive -> recurse\)`
	}
	return recurse(n - 1)
}

func double(n int) int { return n * 2 }

//restatevet:ignore the clock is only used for a log line
func ignoredHandler(ctx restate.Context, in int) (int64, error) {
	return time.Now().Unix(), nil
}

type service struct{}

func (service) handle(ctx restate.Context, in int) (string, error) {
	return os.Getenv("X"), nil // want `os.Getenv reads.*\(chain: MethodValue\)`
}

func genericHandler[T any](ctx restate.Context, in T) (T, error) {
	time.Sleep(time.Millisecond) // want `time.Sleep outside a run.*\(chain: Generic\)`
	return in, nil
}

func namedNoInput(ctx restate.Context) (int, error) {
	return rand.Int(), nil // want `math/rand.Int uses global randomness.*\(chain: NamedNoInput\)`
}

func envHelper(ctx restate.Context) error {
	_ = os.Getenv("Y") // want `os.Getenv reads.*\(chain: envHelper\)`
	return nil
}
