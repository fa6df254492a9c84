package fix

import (
	"math/rand/v2"

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
}
