package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"docplat/cache"
	"docplat/errs"
)

// Cache is the versioned read-through cache (cache.Cache).
type Cache interface {
	Get(ctx context.Context, key string, load cache.Loader) (cache.Entry, error)
	Invalidate(ctx context.Context, key string, version int64) error
}

// ErrUnavailable: a change could not be made safely because the cache's
// invalidation could not be recorded; nothing was changed. The cause is
// wrapped with it.
var ErrUnavailable = errs.New(errs.Unavailable, "the change could not be made right now (the lock service, the cache or a service in its transaction did not answer in time); nothing was changed, retry shortly")

// Token lookups are cached as version 1 and invalidated with a version-2
// tombstone. Every fill reads the database afresh and a tombstone outlives
// any fill that started before it, so a logout, a disabled account or a
// role change is seen by every instance once the tombstone is written.
const (
	tokenLive      = 1
	tokenForgotten = 2
)

// cachedStore serves TokenByHash, the lookup behind every authenticated
// request, from the cache, and invalidates on every change that affects it.
type cachedStore struct {
	Store
	cache   Cache
	decoded *cache.Memo[cachedToken]
}

// WithCache decorates store with a cache for token lookups.
func WithCache(store Store, c Cache) Store {
	return &cachedStore{Store: store, cache: c, decoded: cache.NewMemo(func(b []byte) (cachedToken, error) {
		var t cachedToken
		return t, json.Unmarshal(b, &t)
	}, func(t cachedToken) cachedToken { return t })}
}

func tokenKey(hash string) string { return "tok:" + hash }

// cachedToken is what is cached per token; User's JSON form omits the
// password hash, so no hash ever reaches Redis.
type cachedToken struct {
	Token Token
	User  User
}

func (s *cachedStore) TokenByHash(ctx context.Context, hash string) (Token, User, error) {
	e, err := s.cache.Get(ctx, tokenKey(hash), func(ctx context.Context) (cache.Entry, error) {
		t, u, err := s.Store.TokenByHash(ctx, hash)
		if errors.Is(err, ErrNotFound) {
			return cache.Entry{Missing: true}, nil
		}
		if err != nil {
			return cache.Entry{}, err
		}
		b, err := json.Marshal(cachedToken{Token: t, User: u})
		return cache.Entry{Version: tokenLive, Value: b}, err
	})
	if err != nil {
		return Token{}, User{}, err
	}
	if e.Missing {
		return Token{}, User{}, ErrNotFound
	}
	c, err := s.decoded.Decode(tokenKey(hash), e.Value)
	if err != nil {
		return Token{}, User{}, fmt.Errorf("cached token: %w", err)
	}
	return c.Token, c.User, nil
}

// forget tombstones the given token hashes.
func (s *cachedStore) forget(ctx context.Context, hashes []string) error {
	for _, h := range hashes {
		if err := s.cache.Invalidate(ctx, tokenKey(h), tokenForgotten); err != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
	return nil
}

// aroundUser invalidates a user's tokens before and after change.
func (s *cachedStore) aroundUser(ctx context.Context, userID string, change func() error) error {
	hashes, err := s.Store.TokenHashes(ctx, userID)
	if err != nil {
		return err
	}
	if err := s.forget(ctx, hashes); err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	return s.forget(context.WithoutCancel(ctx), hashes)
}

func (s *cachedStore) DeleteToken(ctx context.Context, t Token) error {
	if err := s.forget(ctx, []string{t.Hash}); err != nil {
		return err
	}
	if err := s.Store.DeleteToken(ctx, t); err != nil {
		return err
	}
	return s.forget(context.WithoutCancel(ctx), []string{t.Hash})
}

func (s *cachedStore) UpdateUser(ctx context.Context, u User, revokeTokens bool) error {
	return s.aroundUser(ctx, u.ID, func() error { return s.Store.UpdateUser(ctx, u, revokeTokens) })
}

func (s *cachedStore) DeleteUser(ctx context.Context, id string) error {
	return s.aroundUser(ctx, id, func() error { return s.Store.DeleteUser(ctx, id) })
}
