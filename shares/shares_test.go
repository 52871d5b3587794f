package shares

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"docplat/internal/testredis"
)

func TestTokensAreRandomWellFormedAndStoredOnlyHashed(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || !wellFormed(a) || !wellFormed(b) {
		t.Fatalf("tokens %q %q: want two different well-formed tokens", a, b)
	}
	if h := HashToken(a); len(h) != 64 || strings.Contains(h, a) || h != HashToken(a) || h == HashToken(b) {
		t.Fatalf("HashToken(%q) = %q: want a stable SHA-256 in hex that does not contain the token", a, h)
	}
	if k := EdgeKey(a); len(k) != 40 || k == HashToken(a)[:40] {
		t.Fatalf("EdgeKey = %q: want a SHA-1 in hex, not a prefix of the stored hash", k)
	}
	for _, bad := range []string{"", a[:len(a)-1], a + "A", strings.Repeat("!", len(a)), "../" + a[3:]} {
		if wellFormed(bad) {
			t.Errorf("wellFormed(%q) = true", bad)
		}
	}
}

func TestLinkUsable(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	revoked := now.Add(-time.Minute)
	for _, tc := range []struct {
		name string
		l    Link
		want bool
	}{
		{"fresh", Link{ExpiresAt: now.Add(time.Hour)}, true},
		{"expired", Link{ExpiresAt: now}, false},
		{"revoked", Link{ExpiresAt: now.Add(time.Hour), RevokedAt: &revoked}, false},
		{"downloads left", Link{ExpiresAt: now.Add(time.Hour), MaxDownloads: 3, Downloads: 2}, true},
		{"used up", Link{ExpiresAt: now.Add(time.Hour), MaxDownloads: 3, Downloads: 3}, false},
	} {
		if got := tc.l.usable(now); got != tc.want {
			t.Errorf("%s: usable = %v, want %v", tc.name, got, tc.want)
		}
	}
	if (Link{PasswordHash: "x"}).edgeServable() || (Link{MaxDownloads: 1}).edgeServable() || !(Link{}).edgeServable() {
		t.Fatal("only links without password and limit may be answered by the hot tier")
	}
}

// TestRedisLimiterSharesOneBudget: two limiters on one Redis (two
// instances) share Burst guesses per link; Reset gives them back. The same
// on a Redis Cluster.
func TestRedisLimiterSharesOneBudget(t *testing.T) {
	t.Run("one node", func(t *testing.T) {
		node := testredis.Start(t, 1)[0]
		c1 := redis.NewClient(&redis.Options{Addr: node.Addr()})
		c2 := redis.NewClient(&redis.Options{Addr: node.Addr()})
		defer c1.Close()
		defer c2.Close()
		testSharedBudget(t, c1, c2)
	})
	t.Run("cluster", func(t *testing.T) {
		c := testredis.StartCluster(t, 3, 0)
		c1 := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
		c2 := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()[1:]})
		defer c1.Close()
		defer c2.Close()
		testSharedBudget(t, c1, c2)
	})
}

func testSharedBudget(t *testing.T, c1, c2 redis.Cmdable) {
	a := &RedisLimiter{Client: c1, Burst: 3, Window: time.Minute}
	b := &RedisLimiter{Client: c2, Burst: 3, Window: time.Minute}
	ctx := context.Background()
	for i, l := range []*RedisLimiter{a, b, a} {
		if ok, _, err := l.Allow(ctx, "link-1"); err != nil || !ok {
			t.Fatalf("guess %d: ok %v err %v, want allowed", i+1, ok, err)
		}
	}
	ok, retry, err := b.Allow(ctx, "link-1")
	if err != nil || ok || retry <= 0 || retry > time.Minute {
		t.Fatalf("4th guess on the other instance: ok %v retry %v err %v, want refused with a retry within the window", ok, retry, err)
	}
	if ok, _, _ := a.Allow(ctx, "link-2"); !ok {
		t.Fatal("another link's budget was spent")
	}
	if err := a.Reset(ctx, "link-1"); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := b.Allow(ctx, "link-1"); !ok {
		t.Fatal("Reset did not give the budget back")
	}
}
