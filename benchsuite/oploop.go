package benchsuite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"docplat/loadgen"
)

// Op is one operation of a closed loop (a Redis GET, a SELECT, a read of
// the next document). Returning ErrStop ends the calling user, unrecorded.
type Op func(ctx context.Context) error

// ErrStop is what an Op returns when it has nothing left to do; the loop
// ends when every user has stopped or the duration is over.
var ErrStop = errors.New("benchsuite: stop")

// ClosedLoop runs op from users goroutines, each in a loop, for warmup (not
// recorded) and then duration, like loadgen's closed loop does for HTTP, and
// returns the same statistics so that baselines and paths compare directly.
// A failed op is recorded with class "error <Go type>".
func ClosedLoop(ctx context.Context, users int, warmup, duration, timeout time.Duration, op Op) *loadgen.Result {
	t := loadgen.NewTally()
	start := time.Now()
	measureStart := start.Add(warmup)
	end := measureStart.Add(duration)
	var wg sync.WaitGroup
	for range users {
		wg.Go(func() {
			for ctx.Err() == nil {
				sent := time.Now()
				if !sent.Before(end) {
					return
				}
				octx, cancel := context.WithTimeout(ctx, timeout)
				err := op(octx)
				cancel()
				done := time.Now()
				if errors.Is(err, ErrStop) {
					return
				}
				if ctx.Err() != nil || sent.Before(measureStart) {
					continue
				}
				class := ""
				if err != nil {
					class = fmt.Sprintf("error %T", err)
				}
				t.Add("", done.Sub(sent), class)
			}
		})
	}
	wg.Wait()
	res := t.Result(time.Since(measureStart))
	res.Mode, res.Users = loadgen.Closed, users
	res.Warmup, res.Duration = loadgen.Millis(warmup), loadgen.Millis(duration)
	return res
}
