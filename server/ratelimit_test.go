package server

import (
	"testing"
	"time"
)

func TestLoginLimiterAllowsABurstPerIPAndUsername(t *testing.T) {
	l := newLoginLimiter(time.Hour, 3)
	for i := 0; i < 3; i++ {
		if ok, _ := l.allow("10.0.0.1", "alice"); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	ok, retry := l.allow("10.0.0.1", "ALICE")
	if ok || retry <= 0 {
		t.Fatalf("4th attempt (username case differs) allowed=%v retry=%v", ok, retry)
	}
	for _, other := range [][2]string{{"10.0.0.1", "bob"}, {"10.0.0.2", "alice"}} {
		if ok, _ := l.allow(other[0], other[1]); !ok {
			t.Fatalf("%v throttled by someone else's attempts", other)
		}
	}
}
