package redisembed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func startServer(t testing.TB) (*Server, *redis.Client) {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return s, c
}

// waitGone polls until key is absent, with a 5s deadline.
func waitGone(t *testing.T, c *redis.Client, key string) time.Duration {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	deadline := start.Add(5 * time.Second)
	for {
		n, err := c.Exists(ctx, key).Result()
		if err != nil {
			t.Fatalf("EXISTS %s: %v", key, err)
		}
		if n == 0 {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("key %q still present after 5s: no real-time expiry", key)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAddr(t *testing.T) {
	s, _ := startServer(t)
	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil {
		t.Fatalf("Addr %q: %v", s.Addr(), err)
	}
	if host != "127.0.0.1" {
		t.Errorf("host = %q, want 127.0.0.1", host)
	}
	if p, _ := strconv.Atoi(port); p <= 0 {
		t.Errorf("port = %q", port)
	}
}

func TestRealTimeExpiry(t *testing.T) {
	_, c := startServer(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 200*time.Millisecond).Err(); err != nil {
		t.Fatalf("SET PX: %v", err)
	}
	if err := c.Set(ctx, "keep", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET k right after SET = %q, %v", v, err)
	}
	took := waitGone(t, c, "k")
	t.Logf("key with PX 200 gone after %v", took)
	if v, err := c.Get(ctx, "keep").Result(); err != nil || v != "v" {
		t.Fatalf("key without TTL: GET = %q, %v; want it to stay", v, err)
	}
	if ttl, err := c.TTL(ctx, "keep").Result(); err != nil || ttl != -1 {
		t.Fatalf("TTL keep = %v, %v; want -1 (no TTL)", ttl, err)
	}
}

func TestPTTLDecreases(t *testing.T) {
	_, c := startServer(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 10*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ttl, err := c.PTTL(ctx, "k").Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl < 10*time.Second-100*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PTTL still %v after 5s", ttl)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSetNXLock(t *testing.T) {
	_, c := startServer(t)
	ctx := context.Background()
	ok, err := c.SetNX(ctx, "lock", "owner-a", 200*time.Millisecond).Result()
	if err != nil || !ok {
		t.Fatalf("first SET NX PX = %v, %v; want true", ok, err)
	}
	ok, err = c.SetNX(ctx, "lock", "owner-b", 200*time.Millisecond).Result()
	if err != nil || ok {
		t.Fatalf("second SET NX while held = %v, %v; want false", ok, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, err = c.SetNX(ctx, "lock", "owner-b", 5*time.Second).Result()
		if err != nil {
			t.Fatalf("SET NX: %v", err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lock never expired: SET NX still fails after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v, _ := c.Get(ctx, "lock").Result(); v != "owner-b" {
		t.Fatalf("lock owner = %q, want owner-b", v)
	}
}

func TestEval(t *testing.T) {
	_, c := startServer(t)
	ctx := context.Background()
	// Compare-and-set: set KEYS[1] to ARGV[2] only if it currently equals ARGV[1]
	// (or is absent when ARGV[1] is empty).
	script := redis.NewScript(`
local cur = redis.call("GET", KEYS[1])
if (cur == false and ARGV[1] == "") or cur == ARGV[1] then
  redis.call("SET", KEYS[1], ARGV[2])
  return 1
end
return 0`)
	for i, tc := range []struct {
		expect, next string
		want         int64
	}{
		{"", "v1", 1},
		{"", "v2", 0},
		{"v1", "v2", 1},
		{"v1", "v3", 0},
	} {
		got, err := script.Run(ctx, c, []string{"cas"}, tc.expect, tc.next).Int64()
		if err != nil {
			t.Fatalf("case %d: EVAL: %v", i, err)
		}
		if got != tc.want {
			t.Fatalf("case %d: EVAL = %d, want %d", i, got, tc.want)
		}
	}
	if v, _ := c.Get(ctx, "cas").Result(); v != "v2" {
		t.Fatalf("cas = %q, want v2", v)
	}
	// Plain EVAL (not EVALSHA) too.
	if v, err := c.Eval(ctx, `return redis.call("GET", KEYS[1])`, []string{"cas"}).Text(); err != nil || v != "v2" {
		t.Fatalf("EVAL GET = %q, %v", v, err)
	}
}

func TestPubSub(t *testing.T) {
	_, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sub := c.Subscribe(ctx, "events")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // subscription confirmation
		t.Fatalf("subscribe: %v", err)
	}
	if n, err := c.Publish(ctx, "events", "hello").Result(); err != nil || n != 1 {
		t.Fatalf("PUBLISH = %d, %v; want 1 receiver", n, err)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if msg.Channel != "events" || msg.Payload != "hello" {
		t.Fatalf("got %s/%q, want events/\"hello\"", msg.Channel, msg.Payload)
	}
}

func TestClose(t *testing.T) {
	s, err := StartTick(5 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING before Close: %v", err)
	}
	s.Close()
	s.Close() // must not panic

	conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("dial %s after Close succeeded; want connection refused", s.Addr())
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial after Close: %v; want connection refused", err)
	}
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("PING after Close succeeded")
	}
}

// TestConcurrentCommandsWithTicker hammers the server from several clients
// while a fast ticker calls FastForward; run with -race to check that the
// ticker and command handling do not race.
func TestConcurrentCommandsWithTicker(t *testing.T) {
	s, err := StartTick(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), PoolSize: 8})
	defer c.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				k := fmt.Sprintf("c:%d:%d", g, i%20)
				if err := c.Set(ctx, k, "v", time.Duration(1+i%5)*time.Millisecond).Err(); err != nil {
					errs <- err
					return
				}
				if err := c.Get(ctx, k).Err(); err != nil && err != redis.Nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := c.DBSize(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys left after 5s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStartTickRejectsNonPositive(t *testing.T) {
	if _, err := StartTick(0); err == nil {
		t.Fatal("StartTick(0) succeeded")
	}
}

// BenchmarkSetGetWithTTL measures SET (with TTL) + GET throughput through
// go-redis while the server holds many keys with TTLs, to show the expiry
// ticker does not degrade command throughput as TTL keys accumulate.
func BenchmarkSetGetWithTTL(b *testing.B) {
	for _, nkeys := range []int{0, 20_000} {
		b.Run(fmt.Sprintf("ttlkeys=%d", nkeys), func(b *testing.B) {
			_, c := startServer(b)
			ctx := context.Background()
			pipe := c.Pipeline()
			for i := 0; i < nkeys; i++ {
				pipe.Set(ctx, "pre:"+strconv.Itoa(i), "value", time.Hour)
				if i%1000 == 999 {
					if _, err := pipe.Exec(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
			if nkeys > 0 {
				if n, err := c.DBSize(ctx).Result(); err != nil || n != int64(nkeys) {
					b.Fatalf("DBSIZE = %d, %v; want %d", n, err, nkeys)
				}
			}
			keys := make([]string, 1024)
			for i := range keys {
				keys[i] = "bench:" + strconv.Itoa(i)
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				k := keys[i%len(keys)]
				if err := c.Set(ctx, k, "value", time.Hour).Err(); err != nil {
					b.Fatal(err)
				}
				if err := c.Get(ctx, k).Err(); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(2*b.N)/elapsed.Seconds(), "ops/s")
		})
	}
}

// BenchmarkTickCost measures one expiry tick (FastForward) with n keys that
// carry TTLs; the ticker holds the miniredis lock for this long every tick.
func BenchmarkTickCost(b *testing.B) {
	for _, nkeys := range []int{20_000, 200_000} {
		b.Run(fmt.Sprintf("ttlkeys=%d", nkeys), func(b *testing.B) {
			s, err := StartTick(time.Hour) // ticker effectively idle
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for i := 0; i < nkeys; i++ {
				k := "pre:" + strconv.Itoa(i)
				if err := s.m.Set(k, "value"); err != nil {
					b.Fatal(err)
				}
				s.m.SetTTL(k, 1000*time.Hour)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.m.FastForward(time.Millisecond)
			}
		})
	}
}
