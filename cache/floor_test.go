package cache

import (
	"context"
	"testing"
)

// A loader is told the newest version the cache knew when it began: the
// tombstone of a write, from L2 on an instance that never held the key
// (another instance invalidated it), and from L1 without L2; 0 for a key
// nothing is known of. This is what lets a loader reading a lagging replica
// refuse an answer older than a write some client was told of.
func TestLoaderIsToldTheFloor(t *testing.T) {
	rdb, _ := redisNode(t)
	writer, reader := instance(t, rdb, Options{}), instance(t, rdb, Options{})
	ctx := context.Background()
	floorSeen := func(c *Cache, key string) int64 {
		var floor int64 = -1
		if _, err := c.Get(ctx, key, func(ctx context.Context) (Entry, error) {
			floor = Floor(ctx)
			return Entry{Version: 1, Value: []byte("old")}, nil
		}); err != nil {
			t.Fatal(err)
		}
		return floor
	}
	if f := floorSeen(reader, "fresh"); f != 0 {
		t.Errorf("floor of an unknown key: %d, want 0", f)
	}
	if err := writer.Invalidate(ctx, "doc:1", 7); err != nil {
		t.Fatal(err)
	}
	if f := floorSeen(reader, "doc:1"); f != 7 {
		t.Errorf("floor after another instance's write of version 7: %d, want 7", f)
	}
	if l1, l2 := reader.Version(ctx, "doc:1"); l1 == 1 || l2 == 1 {
		t.Errorf("the old answer was cached below the tombstone: L1 %d, L2 %d", l1, l2)
	}

	alone := instance(t, nil, Options{})
	if err := alone.Invalidate(ctx, "doc:2", 3); err != nil {
		t.Fatal(err)
	}
	if f := floorSeen(alone, "doc:2"); f != 3 {
		t.Errorf("floor from L1's tombstone without L2: %d, want 3", f)
	}
}
