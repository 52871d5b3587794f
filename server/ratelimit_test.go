package server

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"docplat/internal/testredis"
	"docplat/redisembed"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestLoginLimiterAllowsABurstPerIPAndUsername(t *testing.T) {
	srv, err := redisembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rc.Close() })
	for name, shared := range map[string]redis.Scripter{"in memory": nil, "shared": rc} {
		t.Run(name, func(t *testing.T) {
			rc.FlushAll(context.Background())
			l := newLoginLimiter(shared, time.Hour, 3, quiet)
			for i, u := range []string{"alice", " alice\t", "Ａｌｉｃｅ"} {
				if ok, _ := l.allow(context.Background(), "10.0.0.1", u); !ok {
					t.Fatalf("attempt %d (%q) refused within the burst", i+1, u)
				}
			}
			ok, retry := l.allow(context.Background(), "10.0.0.1", "ALICE")
			if ok || retry <= 0 {
				t.Fatalf("4th attempt (username case differs) allowed=%v retry=%v", ok, retry)
			}
			for _, other := range [][2]string{{"10.0.0.1", "bob"}, {"10.0.0.2", "alice"}} {
				if ok, _ := l.allow(context.Background(), other[0], other[1]); !ok {
					t.Fatalf("%v throttled by someone else's attempts", other)
				}
			}
		})
	}
}

// TestSharedLoginLimiterIsOneBurstAcrossInstances: two instances' limiters
// on one Redis allow one burst between them; two on a Redis Cluster too.
func TestSharedLoginLimiterIsOneBurstAcrossInstances(t *testing.T) {
	srv, err := redisembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rc.Close() })
	oneBurst(t, rc, rc)
	c := testredis.StartCluster(t, 3, 0)
	c1 := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	c2 := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()[2:]})
	t.Cleanup(func() { c1.Close(); c2.Close() })
	oneBurst(t, c1, c2)
}

func oneBurst(t *testing.T, ra, rb redis.Scripter) {
	t.Helper()
	a, b := newLoginLimiter(ra, time.Hour, 4, quiet), newLoginLimiter(rb, time.Hour, 4, quiet)
	allowed := 0
	for i := range 10 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if ok, _ := l.allow(context.Background(), "10.0.0.1", "alice"); ok {
			allowed++
		}
	}
	if allowed != 4 {
		t.Fatalf("%d attempts allowed across two instances, want one burst of 4", allowed)
	}
}

// TestLoginLimiterFailsSafeWithoutRedis: a Redis that does not answer
// leaves each instance its own limit, never none.
func TestLoginLimiterFailsSafeWithoutRedis(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 50 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	l := newLoginLimiter(dead, time.Hour, 2, quiet)
	for i := range 2 {
		if ok, _ := l.allow(context.Background(), "10.0.0.1", "alice"); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	if ok, _ := l.allow(context.Background(), "10.0.0.1", " alice"); ok {
		t.Fatal("3rd attempt allowed while Redis is down: the limiter failed open")
	}
}
