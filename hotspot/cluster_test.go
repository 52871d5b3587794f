package hotspot

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"docplat/internal/testredis"
	"docplat/internal/wait"
)

// TestHotSetOnRedisCluster: the hot set works on a real Redis Cluster:
// its two hashes share a slot (Hold's MULTI over both is one transaction
// on one node), changes published on one node reach a subscriber, and the
// leadership lease's script runs.
func TestHotSetOnRedisCluster(t *testing.T) {
	c := testredis.StartCluster(t, 3, 0)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { rdb.Close() })
	h := NewHotSet(rdb, "docplat:hot")
	if testredis.Slot(h.key) != testredis.Slot(h.holds) {
		t.Fatalf("%s and %s in different slots", h.key, h.holds)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := make(chan Change, 16)
	subscribed := make(chan error, 1)
	go func() { subscribed <- h.Subscribe(ctx, func(c Change) { changes <- c }) }()
	wait.For(t, wait.Limit, "the subscription", func() bool {
		n := int64(0)
		_ = rdb.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			subs, err := m.PubSubNumSub(ctx, h.channel).Result()
			n += subs[h.channel]
			return err
		})
		return n == 1
	})

	now := time.Now()
	if err := h.Put(ctx, []Entry{{ID: "d1", RatePerSec: 50, Since: now, LeaseUntil: now.Add(time.Minute)}}, []string{"d1"}); err != nil {
		t.Fatal(err)
	}
	added, err := h.Hold(ctx, "d2", now.Add(time.Hour), now)
	if err != nil || !added {
		t.Fatalf("Hold = %v, %v", added, err)
	}
	holds, err := h.Holds(ctx, now)
	if err != nil || len(holds) != 1 {
		t.Fatalf("Holds = %v, %v", holds, err)
	}
	list, err := h.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "d1" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := h.Remove(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if in, err := h.Contains(ctx, "d1"); err != nil || in {
		t.Fatalf("Contains(d1) after Remove = %v, %v", in, err)
	}
	want := []Change{{"promote", "d1"}, {"promote", "d2"}, {"demote", "d1"}}
	for i, w := range want {
		select {
		case got := <-changes:
			if got != w {
				t.Fatalf("change %d = %+v, want %+v", i, got, w)
			}
		case err := <-subscribed:
			t.Fatalf("subscription ended: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatalf("change %d (%+v) not received", i, w)
		}
	}
	if ok, err := h.Lead(ctx, "edge", "a", time.Second); err != nil || !ok {
		t.Fatalf("Lead(a) = %v, %v", ok, err)
	}
	if ok, err := h.Lead(ctx, "edge", "b", time.Second); err != nil || ok {
		t.Fatalf("Lead(b) while a leads = %v, %v", ok, err)
	}
	if ok, err := h.Lead(ctx, "edge", "a", time.Second); err != nil || !ok {
		t.Fatalf("Lead(a) renewal = %v, %v", ok, err)
	}
}
