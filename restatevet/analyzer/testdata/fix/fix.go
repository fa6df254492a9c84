package fix

import (
	randv1 "math/rand"
	"math/rand/v2"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

func handlers() {
	restate.NewHandler("Rand", func(ctx restate.Context, in int) (int, error) {
		return rand.IntN(in), nil // want `math/rand/v2.IntN uses global randomness`
	})
	restate.NewHandler("Captured", func(ctx restate.Context, in int) (int, error) {
		return restate.Run(ctx, func(rc restate.RunContext) (int, error) {
			return 0, ctx.Err() // want `handler context ctx used inside a run closure`
		})
	})
	restate.NewHandler("Clock", func(ctx restate.Context, in int) (int64, error) {
		var err error
		t := time.Now() // want `time.Now reads the clock outside a run`
		return t.Unix(), err
	})
	restate.NewHandler("RandV1", func(ctx restate.Context, in int) (int, error) {
		return randv1.Intn(in), nil // want `math/rand.Intn uses global randomness`
	})
}
