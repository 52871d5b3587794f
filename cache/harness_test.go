package cache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"docplat/internal/testredis"
	"docplat/internal/wait"
)

// source is a versioned key-value store standing in for the database.
type source struct {
	mu    sync.Mutex
	vals  map[string]int64 // key -> version; value bytes are "v<version>"
	loads atomic.Int64
	fail  atomic.Bool
	delay time.Duration
}

func newSource() *source { return &source{vals: map[string]int64{}} }

func (s *source) set(key string, v int64) {
	s.mu.Lock()
	s.vals[key] = v
	s.mu.Unlock()
}

func (s *source) loader(key string) Loader {
	return func(ctx context.Context) (Entry, error) {
		s.loads.Add(1)
		if s.delay > 0 {
			time.Sleep(s.delay)
		}
		if s.fail.Load() {
			return Entry{}, errors.New("source down")
		}
		s.mu.Lock()
		v, ok := s.vals[key]
		s.mu.Unlock()
		if !ok {
			return Entry{Missing: true}, nil
		}
		return Entry{Version: v, Value: []byte("v" + strconv.FormatInt(v, 10))}, nil
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// redisNode starts a real redis-server for the test and returns a client.
func redisNode(t *testing.T) (*redis.Client, *testredis.Node) {
	t.Helper()
	n := testredis.Start(t, 1)[0]
	rdb := redis.NewClient(&redis.Options{Addr: n.Addr(), DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	return rdb, n
}

// instance is one app instance's cache, following invalidations.
func instance(t *testing.T, rdb redis.UniversalClient, opt Options) *Cache {
	t.Helper()
	opt.Redis = rdb
	if opt.Logger == nil {
		opt.Logger = quiet()
	}
	c, err := New(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; c.Close() })
	if rdb != nil {
		wait.For(t, wait.Limit, "the subscription", c.Following)
	}
	return c
}

func mustGet(t *testing.T, c *Cache, key string, s *source) Entry {
	t.Helper()
	e, err := c.Get(context.Background(), key, s.loader(key))
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return e
}
