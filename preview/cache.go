package preview

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// cache keeps rendered pages and page counts on disk, content-addressed:
// <dir>/<sha[0:2]>/<sha>.<suffix>. An entry never changes (its content's
// hash, page and width name it), so it needs no invalidation; it is bounded
// by size (oldest first go when over it) and loses entries whose content
// is gone (collect). Several processes may share the directory: entries
// are published by rename, so a reader never sees half of one.
type cache struct {
	dir   string
	max   int64
	bytes atomic.Int64 // approximate: other processes' entries are counted on the next scan
	trim  sync.Mutex
}

// touchEvery bounds how often a hit refreshes an entry's age (a write).
const touchEvery = time.Hour

func openCache(dir string, max int64) (*cache, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, err
	}
	c := &cache{dir: dir, max: max}
	entries, err := c.scan()
	if err != nil {
		return nil, err
	}
	var total int64
	for _, e := range entries {
		total += e.size
	}
	c.bytes.Store(total)
	return c, nil
}

func (c *cache) path(sha, suffix string) string {
	return filepath.Join(c.dir, sha[:2], sha+"."+suffix)
}

// get returns an entry, refreshing its age now and then (so that the
// size bound removes the least used first).
func (c *cache) get(sha, suffix string) ([]byte, bool) {
	p := c.path(sha, suffix)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > touchEvery {
		now := time.Now()
		_ = os.Chtimes(p, now, now)
	}
	return b, true
}

// put stores an entry; a failure only costs a later render again.
func (c *cache) put(sha, suffix string, b []byte) error {
	p := c.path(sha, suffix)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(c.dir, "tmp"), "put-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return err
	}
	if c.bytes.Add(int64(len(b))) > c.max {
		go c.collect(context.Background(), nil)
	}
	return nil
}

type cacheEntry struct {
	path string
	sha  string
	size int64
	mod  time.Time
}

func (c *cache) scan() ([]cacheEntry, error) {
	var out []cacheEntry
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed by another process meanwhile
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		name := d.Name()
		sha, _, ok := strings.Cut(name, ".")
		if !ok || len(sha) != 64 || filepath.Base(filepath.Dir(p)) != sha[:2] {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		out = append(out, cacheEntry{path: p, sha: sha, size: fi.Size(), mod: fi.ModTime()})
		return nil
	})
	return out, err
}

// collect removes the entries of contents that no longer exist (exists
// nil: keeps them all), then the oldest entries until the cache fits its
// bound, and staging leftovers older than a minute. It answers how many
// entries it removed.
func (c *cache) collect(ctx context.Context, exists func(sha string) bool) (int, error) {
	if !c.trim.TryLock() {
		return 0, nil // a collection is running
	}
	defer c.trim.Unlock()
	entries, err := c.scan()
	if err != nil {
		return 0, err
	}
	removed := 0
	var total int64
	keep := entries[:0]
	known := map[string]bool{}
	for _, e := range entries {
		if ctx.Err() != nil {
			return removed, ctx.Err()
		}
		if exists != nil {
			ok, seen := known[e.sha]
			if !seen {
				ok = exists(e.sha)
				known[e.sha] = ok
			}
			if !ok {
				if os.Remove(e.path) == nil {
					removed++
				}
				continue
			}
		}
		keep = append(keep, e)
		total += e.size
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].mod.Before(keep[j].mod) })
	for _, e := range keep {
		if total <= c.max {
			break
		}
		if os.Remove(e.path) == nil {
			removed++
		}
		total -= e.size
	}
	c.bytes.Store(total)
	if tmp, err := os.ReadDir(filepath.Join(c.dir, "tmp")); err == nil {
		for _, d := range tmp {
			if fi, err := d.Info(); err == nil && time.Since(fi.ModTime()) > time.Minute {
				os.Remove(filepath.Join(c.dir, "tmp", d.Name()))
			}
		}
	}
	return removed, nil
}
