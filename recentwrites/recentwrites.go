// Package recentwrites remembers, across instances, which users wrote
// within the last few seconds: read-your-writes over lagging database
// replicas. A user marked here reads from the primary (docs.WithRecentWriter)
// until the mark expires, which is when every replica still in use has
// their write (sqlstore.Config.ReplicaStaleness). The marks live in Redis
// (L2's node: one key per user, so a Redis Cluster holds each on one slot),
// because the user's next request may reach another instance.
package recentwrites

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Marks are the users' marks in Redis.
type Marks struct {
	rdb redis.UniversalClient
	ttl time.Duration
	log *slog.Logger
}

// New keeps marks for ttl in rdb.
func New(rdb redis.UniversalClient, ttl time.Duration, log *slog.Logger) *Marks {
	if log == nil {
		log = slog.Default()
	}
	return &Marks{rdb: rdb, ttl: ttl, log: log}
}

func key(user string) string { return "rw:" + user }

// Mark records that user is writing now; the mark lasts the TTL from now.
func (m *Marks) Mark(ctx context.Context, user string) error {
	return m.rdb.Set(ctx, key(user), 1, m.ttl).Err()
}

// Recent reports whether user wrote within the TTL. When Redis does not
// answer it says yes: the primary is always right, only dearer.
func (m *Marks) Recent(ctx context.Context, user string) bool {
	n, err := m.rdb.Exists(ctx, key(user)).Result()
	if err != nil {
		m.log.WarnContext(ctx, "recent writes: Redis did not answer; reading from the primary", "err", err)
		return true
	}
	return n > 0
}
