package benchsuite

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestClosedLoopRecordsEveryOpUntilTheyRunOut(t *testing.T) {
	for _, tc := range []struct {
		name          string
		users, ops    int
		failEvery     int64
		wantFailures  int64
		wantSuccesses int64
	}{
		{"all succeed", 4, 100, 0, 0, 100},
		{"every tenth fails", 3, 100, 10, 10, 90},
		{"more users than ops", 16, 5, 0, 0, 5},
	} {
		var n atomic.Int64
		// A minute-long window that the ops end long before: the loop must
		// stop when every user has stopped, not when the window closes.
		res := ClosedLoop(context.Background(), tc.users, 0, time.Minute, time.Second, func(context.Context) error {
			i := n.Add(1)
			switch {
			case i > int64(tc.ops):
				return ErrStop
			case tc.failEvery > 0 && i%tc.failEvery == 0:
				return errors.New("boom")
			}
			return nil
		})
		if res.Total != int64(tc.ops) || res.Successes != tc.wantSuccesses || res.Failures != tc.wantFailures {
			t.Errorf("%s: total %d successes %d failures %d, want %d/%d/%d", tc.name,
				res.Total, res.Successes, res.Failures, tc.ops, tc.wantSuccesses, tc.wantFailures)
		}
		if tc.wantFailures > 0 && res.FailuresBy["error *errors.errorString"] != tc.wantFailures {
			t.Errorf("%s: failures by class %v", tc.name, res.FailuresBy)
		}
		if res.Users != tc.users || res.Mode != "closed" {
			t.Errorf("%s: mode %q users %d", tc.name, res.Mode, res.Users)
		}
	}
}
