package hotspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Entry is one hot document as the shared hot set holds it.
type Entry struct {
	ID         string    `json:"document_id"`
	RatePerSec float64   `json:"rate_per_s"`
	Since      time.Time `json:"since"`
	// Partition of the access topic the document's events arrive on: the
	// detector that owns it keeps the entry alive.
	Partition int32 `json:"partition"`
	// LeaseUntil: the owning detector renews it every tick. An entry whose
	// lease ran out (its detector died and nobody took the partition over
	// in time) is demoted by whoever notices.
	LeaseUntil time.Time `json:"lease_until"`
}

// Change is a promotion or demotion announced on the hot set's channel.
type Change struct {
	Op string `json:"op"` // promote | demote | warm
	ID string `json:"document_id"`
}

// OpWarm asks every instance to warm its L1 with a document already hot
// (a pre-warmed one, ahead of its lecture): no change to the hot set.
const OpWarm = "warm"

// HotSet is the hot set shared by every detector and app instance: a Redis
// hash (document id -> Entry) and a pub/sub channel announcing changes. It
// outlives any one detector, which is how a partition's new owner learns
// what its predecessor had promoted.
type HotSet struct {
	rdb     redis.UniversalClient
	key     string
	holds   string
	channel string
}

// NewHotSet uses the hashes and channel named after prefix (e.g.
// "docplat:hot": hashes {docplat:hot}:set and {docplat:hot}:holds, channel
// docplat:hot:changes). The hash tag keeps both hashes in one Redis Cluster
// slot, so that Hold's MULTI over the two stays one transaction on one node.
func NewHotSet(rdb redis.UniversalClient, prefix string) *HotSet {
	tag := "{" + prefix + "}"
	return &HotSet{rdb: rdb, key: tag + ":set", holds: tag + ":holds", channel: prefix + ":changes"}
}

// Put writes entries (promotions and lease renewals) in one round trip and
// announces the promotions.
func (h *HotSet) Put(ctx context.Context, entries []Entry, promoted []string) error {
	if len(entries) == 0 {
		return nil
	}
	pipe := h.rdb.Pipeline()
	for _, e := range entries {
		b, _ := json.Marshal(e)
		pipe.HSet(ctx, h.key, e.ID, b)
	}
	for _, id := range promoted {
		b, _ := json.Marshal(Change{Op: "promote", ID: id})
		pipe.Publish(ctx, h.channel, b)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// Hold keeps id hot until until whatever its hit rate (a pre-warmed
// document: no detector demotes it, no lease expiry removes it) and puts
// it into the hot set if it is not there yet, announcing that promotion
// (added). A hold outside any detector's partitions (-1) is seeded by none.
func (h *HotSet) Hold(ctx context.Context, id string, until, now time.Time) (added bool, err error) {
	b, _ := json.Marshal(Entry{ID: id, Since: now, Partition: -1, LeaseUntil: until})
	pipe := h.rdb.TxPipeline()
	pipe.HSet(ctx, h.holds, id, until.UnixMilli())
	put := pipe.HSetNX(ctx, h.key, id, b)
	if _, err := pipe.Exec(ctx); err != nil {
		return false, fmt.Errorf("hot set: holding %s: %w", id, err)
	}
	if !put.Val() {
		return false, nil
	}
	return true, h.Announce(ctx, "promote", id)
}

// Holds returns the holds in force at now (id -> until) and forgets the
// ones that ended.
func (h *HotSet) Holds(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	m, err := h.rdb.HGetAll(ctx, h.holds).Result()
	if err != nil {
		return nil, fmt.Errorf("hot set: reading holds: %w", err)
	}
	out := make(map[string]time.Time, len(m))
	var ended []string
	for id, v := range m {
		ms, err := strconv.ParseInt(v, 10, 64)
		if until := time.UnixMilli(ms); err == nil && until.After(now) {
			out[id] = until
		} else {
			ended = append(ended, id)
		}
	}
	if len(ended) > 0 {
		_ = h.rdb.HDel(ctx, h.holds, ended...).Err() // the next reader retries
	}
	return out, nil
}

// Announce publishes op for ids on the changes channel.
func (h *HotSet) Announce(ctx context.Context, op string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	pipe := h.rdb.Pipeline()
	for _, id := range ids {
		b, _ := json.Marshal(Change{Op: op, ID: id})
		pipe.Publish(ctx, h.channel, b)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// Remove demotes ids and announces it.
func (h *HotSet) Remove(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	pipe := h.rdb.Pipeline()
	pipe.HDel(ctx, h.key, ids...)
	for _, id := range ids {
		b, _ := json.Marshal(Change{Op: "demote", ID: id})
		pipe.Publish(ctx, h.channel, b)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// List returns the hot set, hottest first.
func (h *HotSet) List(ctx context.Context) ([]Entry, error) {
	m, err := h.rdb.HGetAll(ctx, h.key).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(m))
	for id, raw := range m {
		var e Entry
		if err := json.Unmarshal([]byte(raw), &e); err != nil || e.ID != id {
			continue // unreadable: the next renewal or the janitor replaces it
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].RatePerSec != out[j].RatePerSec {
			return out[i].RatePerSec > out[j].RatePerSec
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Contains reports whether id is hot.
func (h *HotSet) Contains(ctx context.Context, id string) (bool, error) {
	n, err := h.rdb.HExists(ctx, h.key, id).Result()
	if err != nil {
		return false, fmt.Errorf("hot set: %w", err)
	}
	return n, nil
}

// Subscribe calls fn for every change until ctx ends. Changes can be
// missed (pub/sub is not durable), so consumers also reconcile with List.
func (h *HotSet) Subscribe(ctx context.Context, fn func(Change)) error {
	sub := h.rdb.Subscribe(ctx, h.channel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		return err
	}
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return errors.New("hot set subscription closed")
			}
			var c Change
			if json.Unmarshal([]byte(m.Payload), &c) == nil && c.ID != "" {
				fn(c)
			}
		}
	}
}

// Lead takes or keeps a short leadership lease named name for holder: only
// one instance reconciles the nginx tier at a time (others would only
// repeat its pushes).
func (h *HotSet) Lead(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	key := h.key + ":leader:" + name
	ok, err := h.rdb.SetNX(ctx, key, holder, ttl).Result()
	if err != nil || ok {
		return ok, err
	}
	// Extend only our own lease (compare and set in one script).
	n, err := leadScript.Run(ctx, h.rdb, []string{key}, holder, ttl.Milliseconds()).Int()
	return n == 1, err
}

var leadScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
return 0`)
