package docs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// searchCache keeps full-text search results for a short time, because a
// full-text query costs the database milliseconds of CPU and a lecture's
// students all search for the same words at once. Only the ranking (which
// ids, which snippet, the total) comes from the cache: every item of an
// answer from a stored ranking is re-read through the document cache and
// re-checked against the caller's rights, so a cached result never shows a
// document the caller may no longer read, nor its old title. A ranking
// just read (the requests that waited for it included) is answered as
// read: the repository filtered it by the caller's rights a moment ago.
// What the TTL bounds is how late a new or newly matching document
// appears in results. A scheduled document is not in the rankings read
// before its publication (the repository filtered it out), so a ranking
// never outlives the next publication time of any document, read with it:
// from that second on the search is asked again, as the document appears
// at that second everywhere else (a scheduled document is a rare thing, so
// capping every ranking at any of them costs little, and needs no
// knowledge of whose scope it is in). An expired ranking is still
// answered for up to staleFor while one request refreshes it in the
// background: on MariaDB, Mroonga index writes lock the index table, and
// searches must not queue behind uploads.
type searchCache struct {
	Repository
	ttl     time.Duration
	max     int
	mu      sync.Mutex
	entries map[string]searchEntry
	flight  singleflight.Group
	now     func() time.Time
}

type searchEntry struct {
	items   []Document
	total   int64
	expires time.Time
	// published is the next publication after the ranking was read (zero:
	// none): past it, the ranking is not answered even while refreshing.
	published time.Time
}

// staleFor is how long past its TTL a ranking may still be answered while
// it is being refreshed.
const staleFor = time.Minute

// WithSearchCache decorates repo (normally the cached repository, whose Get
// is cheap) with a search-result cache of the given TTL holding at most max
// queries; ttl <= 0 returns repo unchanged.
func WithSearchCache(repo Repository, ttl time.Duration, max int) Repository {
	if ttl <= 0 {
		return repo
	}
	if max <= 0 {
		max = 4096
	}
	return &searchCache{Repository: repo, ttl: ttl, max: max, entries: map[string]searchEntry{}, now: time.Now}
}

// searchKey identifies a query and whose rights filtered it.
func searchKey(actor Actor, q Query) string {
	who := "anon"
	if !actor.Anonymous() {
		who = fmt.Sprintf("u:%s:%s:%t:%t", actor.UserID, actor.DepartmentID, actor.Admin, actor.DeptAdmin)
	}
	return fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%d\x00%d", who, strings.Join(q.Terms, "\x01"), q.Tag, q.OwnerID,
		q.DepartmentID, q.Sort, q.Page, q.Size)
}

func (c *searchCache) List(ctx context.Context, actor Actor, q Query) ([]Document, int64, error) {
	if len(q.Terms) == 0 {
		return c.Repository.List(ctx, actor, q) // plain listings are cheap and change with every upload
	}
	key := searchKey(actor, q)
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	refresh := func(ctx context.Context) (any, error) {
		// Read before the ranking: a document publishing after this read
		// was hidden from the ranking, and caps its life.
		read := c.now()
		next, scheduled, err := c.Repository.NextPublication(ctx, read)
		if err != nil {
			return nil, err
		}
		items, total, err := c.Repository.List(ctx, actor, q)
		if err != nil {
			return nil, err
		}
		e := searchEntry{items: items, total: total, expires: read.Add(c.ttl)}
		if scheduled {
			e.published = next
			e.expires = minTime(e.expires, next)
		}
		c.store(key, e)
		return e, nil
	}
	switch {
	case ok && now.Before(e.expires):
	case ok && now.Before(e.expires.Add(staleFor)) && (e.published.IsZero() || now.Before(e.published)):
		// Answer the previous ranking; one request refreshes it.
		go func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_, _, _ = c.flight.Do(key, func() (any, error) { return refresh(rctx) })
		}()
	default:
		// Detached from this request: the waiters sharing the flight must
		// not fail because the first of them went away.
		v, err, _ := c.flight.Do(key, func() (any, error) {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			return refresh(rctx)
		})
		if err != nil {
			return nil, 0, err
		}
		// Just read from the repository with this caller's read rule (the
		// key holds the caller's rights): re-reading every item through
		// the document cache would cost a cache lookup, and on a miss a
		// Redis round trip and two queries, per item for nothing.
		e = v.(searchEntry)
		return slices.Clone(e.items), e.total, nil
	}
	return c.revalidate(ctx, actor, e)
}

// revalidate re-reads every item and drops those the caller may no longer
// read (deleted, made private, ...), keeping the cached snippet.
func (c *searchCache) revalidate(ctx context.Context, actor Actor, e searchEntry) ([]Document, int64, error) {
	out := make([]Document, 0, len(e.items))
	total := e.total
	for _, it := range e.items {
		d, err := c.Repository.Get(ctx, it.ID)
		if errors.Is(err, ErrNotFound) || (err == nil && PermissionOf(actor, d, c.now()) < PermRead) {
			total--
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		d.Snippet = it.Snippet
		out = append(out, d)
	}
	return out, max(total, int64(len(out))), nil
}

func (c *searchCache) store(key string, e searchEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		now := c.now()
		for k, old := range c.entries {
			if now.After(old.expires) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries { // still full: drop arbitrary entries (map order)
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = e
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
