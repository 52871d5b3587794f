package cache

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"docplat/internal/failpoint"
	"docplat/internal/wait"
)

// TestFillNeverOverwritesNewerVersion replays the classic race
// deterministically: reader A loads X=1 from the source and pauses before
// filling; a writer commits X=2 and invalidates; A resumes and fills. With
// the fence, A's stale fill is refused at both levels and every later read
// sees 2. The unfenced run shows that the test catches the race: without
// the version check the old value lands in L2 and in A's L1.
var errUnfenced = errors.New("version checks off")

func TestFillNeverOverwritesNewerVersion(t *testing.T) {
	testFillRace(t, func(t *testing.T) redis.UniversalClient {
		rdb, _ := redisNode(t)
		return rdb
	}, Options{})
}

// testFillRace runs the race on the L2 that rdb gives, each run under its
// own key prefix (so that runs can share one Redis).
func testFillRace(t *testing.T, l2 func(t *testing.T) redis.UniversalClient, base Options) {
	for _, fenced := range []bool{true, false} {
		name := map[bool]string{true: "fenced", false: "unfenced"}[fenced]
		t.Run(name, func(t *testing.T) {
			rdb := l2(t)
			opt := base
			opt.Prefix = "race-" + name + ":"
			src := newSource()
			src.set("x", 1)

			pausedL2, resumeL2 := make(chan struct{}), make(chan struct{})
			pausedL1, resumeL1 := make(chan struct{}), make(chan struct{})
			var onceL2, onceL1 sync.Once // only A's first fill pauses
			a := instance(t, rdb, opt)
			writer := instance(t, rdb, opt)
			fresh := instance(t, rdb, opt)
			failpoint.Enable(t, failpoint.CacheBeforeL2Fill, func(scope any) error {
				if scope == a {
					onceL2.Do(func() { close(pausedL2); <-resumeL2 })
				}
				return nil
			})
			failpoint.Enable(t, failpoint.CacheBeforeL1Fill, func(scope any) error {
				if scope == a {
					onceL1.Do(func() { close(pausedL1); <-resumeL1 })
				}
				return nil
			})
			if !fenced {
				failpoint.Enable(t, failpoint.CacheUnfenced, func(scope any) error {
					if scope == a || scope == writer || scope == fresh {
						return errUnfenced
					}
					return nil
				})
			}

			got := make(chan Entry)
			go func() {
				e, _ := a.Get(context.Background(), "x", src.loader("x"))
				got <- e
			}()
			<-pausedL2 // A has loaded X=1 and holds it

			// The writer commits X=2 and invalidates; A's L1 hears of it.
			src.set("x", 2)
			if err := writer.Invalidate(context.Background(), "x", 2); err != nil {
				t.Fatal(err)
			}
			wait.For(t, wait.Limit, "A's L1 to receive the tombstone", func() bool {
				v, ok := a.l1.current("x", a.now().UnixNano())
				return ok && v == 2
			})

			close(resumeL2) // A writes L2 ...
			<-pausedL1
			close(resumeL1) // ... and then its L1
			if e := <-got; e.Version != 1 {
				t.Fatalf("A's own read = %d (it loaded 1 before the write was acknowledged)", e.Version)
			}

			l1v, l2v := a.Version(context.Background(), "x")
			fromFresh := mustGet(t, fresh, "x", src).Version
			fromA := mustGet(t, a, "x", src).Version
			stale := l1v == 1 || l2v == 1 || fromFresh == 1 || fromA == 1
			if fenced && stale {
				t.Fatalf("stale value survived the fence: A.L1=%d L2=%d, reads: fresh instance %d, A %d", l1v, l2v, fromFresh, fromA)
			}
			if !fenced && !stale {
				t.Fatalf("without the fence the race should have left X=1 somewhere (A.L1=%d L2=%d); the test no longer exercises it", l1v, l2v)
			}
			if fenced && (fromFresh != 2 || fromA != 2) {
				t.Fatalf("reads after the write: fresh instance %d, A %d; want 2", fromFresh, fromA)
			}
		})
	}
}
