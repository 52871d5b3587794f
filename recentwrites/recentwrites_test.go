package recentwrites_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"docplat/internal/testredis"
	"docplat/recentwrites"
)

// A mark is seen by another instance's Marks on the same Redis, lasts its
// TTL, and names one user only; without Redis every user counts as a
// recent writer (the primary answers).
func TestMarksAreSharedAndExpire(t *testing.T) {
	node := testredis.Start(t, 1)[0]
	rdb := redis.NewClient(&redis.Options{Addr: node.Addr()})
	defer rdb.Close()
	ctx := t.Context()
	writer := recentwrites.New(rdb, 300*time.Millisecond, nil)
	other := recentwrites.New(redis.NewClient(&redis.Options{Addr: node.Addr()}), 300*time.Millisecond, nil)

	if other.Recent(ctx, "alice") {
		t.Fatal("alice is a recent writer before writing")
	}
	if err := writer.Mark(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if !other.Recent(ctx, "alice") {
		t.Error("another instance does not see alice's mark")
	}
	if other.Recent(ctx, "bob") {
		t.Error("alice's mark marks bob")
	}
	time.Sleep(400 * time.Millisecond)
	if other.Recent(ctx, "alice") {
		t.Error("alice's mark outlived its TTL")
	}

	node.Stop()
	if !other.Recent(ctx, "bob") {
		t.Error("with Redis down bob is not a recent writer: his reads could miss his writes")
	}
}
