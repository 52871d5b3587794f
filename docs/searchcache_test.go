package docs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// liveRepo answers List with fixed ranked items (as the database did when
// the result was cached) and Get with the documents' current state.
type liveRepo struct {
	recordingRepo
	current map[string]Document
}

func (r *liveRepo) Get(_ context.Context, id string) (Document, error) {
	d, ok := r.current[id]
	if !ok {
		return Document{}, ErrNotFound
	}
	return d, nil
}

// TestSearchCacheNeverShowsWhatTheCallerMayNoLongerRead: a cached ranking
// is served without asking the database again, but every item is re-read:
// a document deleted or made private since drops out at once, a renamed
// one shows its new title, and the snippet stays.
func TestSearchCacheNeverShowsWhatTheCallerMayNoLongerRead(t *testing.T) {
	pub := func(id, title string) Document { return Document{ID: id, Title: title, Visibility: Public} }
	repo := &liveRepo{current: map[string]Document{"a": pub("a", "A"), "b": pub("b", "B"), "c": pub("c", "C")}}
	for _, id := range []string{"a", "b", "c"} {
		d := repo.current[id]
		d.Snippet = "…" + id + "…"
		repo.items = append(repo.items, d)
	}
	c := WithSearchCache(repo, time.Hour, 0)
	ctx := context.Background()
	q := Query{Terms: []string{"lecture"}, Sort: SortRelevance, Page: 1, Size: 20}
	ids := func(items []Document) (out []string) {
		for _, d := range items {
			out = append(out, d.ID+"="+d.Title+d.Snippet)
		}
		return out
	}
	steps := []struct {
		name      string
		change    func()
		actor     Actor
		q         Query
		want      []string
		wantTotal int64
		wantCalls int
	}{
		{"first search asks the database", nil, Actor{}, q, []string{"a=A…a…", "b=B…b…", "c=C…c…"}, 3, 1},
		{"the same search is served from the cache", nil, Actor{}, q, []string{"a=A…a…", "b=B…b…", "c=C…c…"}, 3, 1},
		{"another caller's search is its own", nil, Actor{UserID: "u1"}, q, []string{"a=A…a…", "b=B…b…", "c=C…c…"}, 3, 2},
		{"renamed, deleted and made private since", func() {
			repo.current["a"] = pub("a", "A2")
			delete(repo.current, "b")
			c := repo.current["c"]
			c.Visibility = Private
			c.OwnerID = "someone"
			repo.current["c"] = c
		}, Actor{}, q, []string{"a=A2…a…"}, 1, 2},
		{"plain listings are never cached", nil, Actor{}, Query{Sort: SortCreated, Page: 1, Size: 20}, []string{"a=A…a…", "b=B…b…", "c=C…c…"}, 3, 3},
	}
	for _, s := range steps {
		if s.change != nil {
			s.change()
		}
		items, total, err := c.List(ctx, s.actor, s.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(items); len(got) != len(s.want) || total != s.wantTotal || repo.calls != s.wantCalls {
			t.Fatalf("%s: %v total %d after %d database calls; want %v total %d after %d", s.name, got, total, repo.calls, s.want, s.wantTotal, s.wantCalls)
		} else {
			for i := range got {
				if got[i] != s.want[i] {
					t.Fatalf("%s: %v, want %v", s.name, got, s.want)
				}
			}
		}
	}
}

// countingRepo answers List with one item and counts the calls (from any goroutine).
type countingRepo struct {
	Repository
	calls atomic.Int64
}

func (r *countingRepo) List(context.Context, Actor, Query) ([]Document, int64, error) {
	r.calls.Add(1)
	return []Document{{ID: "a"}}, 1, nil
}

func (r *countingRepo) NextPublication(context.Context, time.Time) (time.Time, bool, error) {
	return time.Time{}, false, nil
}

func (r *countingRepo) Get(context.Context, string) (Document, error) {
	return Document{ID: "a", Visibility: Public}, nil
}

// TestSearchCacheRefreshesExpiredRankingsInTheBackground: past its TTL a
// ranking is still answered at once, and one refresh runs behind it.
func TestSearchCacheRefreshesExpiredRankingsInTheBackground(t *testing.T) {
	repo := &countingRepo{}
	c := WithSearchCache(repo, time.Millisecond, 0)
	q := Query{Terms: []string{"x"}, Page: 1, Size: 20}
	c.List(context.Background(), Actor{}, q)
	time.Sleep(5 * time.Millisecond)
	items, _, err := c.List(context.Background(), Actor{}, q)
	if err != nil || len(items) != 1 {
		t.Fatalf("expired ranking: %v %v", items, err)
	}
	for deadline := time.Now().Add(5 * time.Second); repo.calls.Load() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the expired ranking was never refreshed")
		}
	}
	if WithSearchCache(repo, 0, 0) != Repository(repo) {
		t.Fatal("a zero TTL must disable the cache")
	}
}

// gettingRepo is liveRepo counting its Gets.
type gettingRepo struct {
	liveRepo
	gets int
}

func (r *gettingRepo) Get(ctx context.Context, id string) (Document, error) {
	r.gets++
	return r.liveRepo.Get(ctx, id)
}

// TestSearchCacheAnswersAFreshRankingWithoutRereadingItsItems: a ranking
// the repository has just read with the caller's rights is answered as
// read (no Get per item), and the caller's changes to it (Service.List
// marks terms in snippets) do not reach the stored ranking, whose next
// answer re-reads every item.
func TestSearchCacheAnswersAFreshRankingWithoutRereadingItsItems(t *testing.T) {
	repo := &gettingRepo{liveRepo: liveRepo{current: map[string]Document{}}}
	for _, id := range []string{"a", "b"} {
		d := Document{ID: id, Title: id, Visibility: Public}
		repo.current[id] = d
		d.Snippet = "s" + id
		repo.items = append(repo.items, d)
	}
	c := WithSearchCache(repo, time.Hour, 0)
	ctx := context.Background()
	q := Query{Terms: []string{"lecture"}, Sort: SortRelevance, Page: 1, Size: 20}
	items, total, err := c.List(ctx, Actor{}, q)
	if err != nil || len(items) != 2 || total != 2 {
		t.Fatalf("first search: %v items, total %d, err %v; want 2, 2", len(items), total, err)
	}
	if repo.gets != 0 {
		t.Fatalf("a fresh ranking was re-read item by item: %d Gets", repo.gets)
	}
	items[0].Snippet = "<mark>changed</mark>"
	items, _, err = c.List(ctx, Actor{}, q)
	if err != nil || len(items) != 2 || items[0].Snippet != "sa" {
		t.Fatalf("cached search: %+v, err %v; want the stored snippet sa", items, err)
	}
	if repo.gets != 2 || repo.calls != 1 {
		t.Fatalf("cached search: %d Gets and %d Lists; want 2 Gets (every item re-read) and the first List only", repo.gets, repo.calls)
	}
}

// TestSearchCacheNeverHidesADocumentPastItsPublication: a ranking read
// before a document's publish_at (which the database filtered it out of)
// is answered until that second and not after, not even as a stale answer
// while refreshing; a ranking with nothing scheduled keeps its TTL.
func TestSearchCacheNeverHidesADocumentPastItsPublication(t *testing.T) {
	clock := time.Date(2026, 12, 8, 7, 59, 0, 0, time.UTC)
	publish := clock.Add(time.Minute)
	handout := Document{ID: "h", Title: "handout", Visibility: Public, PublishAt: &publish}
	other := Document{ID: "o", Title: "other", Visibility: Public}
	repo := &liveRepo{current: map[string]Document{"h": handout, "o": other}}
	repo.items, repo.next = []Document{other}, publish // as the database answers before publish_at
	c := WithSearchCache(repo, time.Hour, 0).(*searchCache)
	c.now = func() time.Time { return clock }
	ctx := context.Background()
	q := Query{Terms: []string{"lecture"}, Sort: SortRelevance, Page: 1, Size: 20}
	search := func() []string {
		t.Helper()
		items, _, err := c.List(ctx, Actor{}, q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range items {
			ids = append(ids, d.ID)
		}
		return ids
	}
	if got := search(); len(got) != 1 || got[0] != "o" || repo.calls != 1 {
		t.Fatalf("before publication: %v after %d database calls; want [o] after 1", got, repo.calls)
	}
	clock = publish.Add(-time.Second)
	if got := search(); len(got) != 1 || repo.calls != 1 {
		t.Fatalf("a second before publication: %v after %d database calls; want the cached [o]", got, repo.calls)
	}
	clock = publish
	repo.items, repo.next = []Document{handout, other}, time.Time{} // as the database answers from publish_at on
	if got := search(); len(got) != 2 || repo.calls != 2 {
		t.Fatalf("at publication: %v after %d database calls; want [h o] read again", got, repo.calls)
	}
	clock = publish.Add(59 * time.Minute)
	if got := search(); len(got) != 2 || repo.calls != 2 {
		t.Fatalf("with nothing scheduled the ranking keeps its TTL: %v after %d database calls", got, repo.calls)
	}
}
