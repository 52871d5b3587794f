package server

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"docplat/hotspot"
	"docplat/internal/testredis"
)

// TestListHotSetKeepsTheHotSetsOrderAndFields: the hot documents the API
// lists are the shared hot set's entries, hottest first, with their rate
// and the time they became hot.
func TestListHotSetKeepsTheHotSetsOrderAndFields(t *testing.T) {
	node := testredis.Start(t, 1)[0]
	rdb := redis.NewClient(&redis.Options{Addr: node.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	hot := hotspot.NewHotSet(rdb, "test:hot")
	since := time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	lease := time.Now().Add(time.Minute)
	if err := hot.Put(t.Context(), []hotspot.Entry{
		{ID: "cool", RatePerSec: 210, Since: since, LeaseUntil: lease},
		{ID: "hottest", RatePerSec: 900, Since: since.Add(time.Second), LeaseUntil: lease},
	}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := ListHotSet(hot)(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []HotDocument{{DocumentID: "hottest", RatePerSec: 900, Since: since.Add(time.Second)}, {DocumentID: "cool", RatePerSec: 210, Since: since}}
	if len(got) != len(want) {
		t.Fatalf("listed %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].DocumentID != want[i].DocumentID || got[i].RatePerSec != want[i].RatePerSec || !got[i].Since.Equal(want[i].Since) {
			t.Fatalf("listed %+v, want %+v", got, want)
		}
	}
}
