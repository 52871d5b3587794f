package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConsumerConfig configures a Consumer. Brokers, Topic, Group and Handler
// are required.
type ConsumerConfig struct {
	Brokers []string
	Topic   string
	Group   string

	// Handler is called with batches of one partition's records in offset
	// order. Offsets are committed (every FlushInterval) only after it
	// returns nil; an error
	// redelivers the batch (from its first record) after RetryBackoff.
	Handler func(ctx context.Context, partition int32, recs []Record) error
	// StartOffsets, if set, is asked on every assignment where to resume
	// each newly assigned partition: a consumer that stores its position
	// with its results (exactly-once) returns it here. Partitions it omits
	// resume from the group's committed offset, or the topic's start.
	StartOffsets func(ctx context.Context, partitions []int32) (map[int32]int64, error)
	// OnAssigned and OnRevoked are called when partitions move to and away
	// from this member (a revoke also covers partitions lost to a session
	// timeout); a consumer keeping per-partition state seeds and forgets it
	// there. No batch of a partition is handled outside the two calls.
	OnAssigned func(ctx context.Context, partitions []int32)
	OnRevoked  func(ctx context.Context, partitions []int32)

	// Flush, if set, makes the consumer windowed: the handler only
	// accumulates and Flush makes the results durable, every FlushInterval,
	// called from the polling goroutine (never beside the handler or a
	// rebalance). It returns the partitions whose accumulated records it
	// dropped, with the offset to read them again from. Offsets are
	// committed to Kafka after a Flush, not after each batch; a consumer
	// using Flush stores its positions with its results and returns them
	// from StartOffsets for every partition (also those it has none for),
	// and flushes or drops a partition's results in OnRevoked.
	Flush func(ctx context.Context) (reread map[int32]int64, err error)
	// FlushInterval is how often Flush runs and offsets are committed to
	// Kafka, with or without Flush (default 1s): a commit is a round trip
	// to the group coordinator, too dear to pay per poll.
	FlushInterval time.Duration

	// FetchMaxWait is how long the broker may hold a fetch waiting for
	// FetchMinBytes (default 500ms); FetchMinBytes (default 1: answer as
	// soon as a record arrives) lets a consumer that only needs its
	// records per window (the stats counters) be woken once per
	// FetchMaxWait instead of once per produce.
	FetchMaxWait  time.Duration
	FetchMinBytes int32

	// MaxBatch bounds the records per poll (default 1000).
	MaxBatch int
	// SessionTimeout is how long the group waits for a silent member before
	// giving its partitions away (default 10s; heartbeats every tenth).
	SessionTimeout time.Duration
	// Balancer assigns partitions (default: eager range, which moved
	// partitions fastest on kfake, see BenchmarkRebalance).
	Balancer kgo.GroupBalancer
	// RetryBackoff is the pause before a failed batch is redelivered
	// (default 1s).
	RetryBackoff time.Duration
	Logger       *slog.Logger
}

// Consumer reads a topic in a consumer group and hands batches to a handler.
type Consumer struct {
	cfg ConsumerConfig
	cl  *kgo.Client
	// uncommitted are the positions handled since the last Flush (windowed
	// consumers commit them to Kafka after it).
	mu          sync.Mutex
	uncommitted map[int32]kgo.EpochOffset
}

// NewConsumer builds a consumer; Run consumes.
func NewConsumer(cfg ConsumerConfig) (*Consumer, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" || cfg.Group == "" || cfg.Handler == nil {
		return nil, errors.New("events: a consumer needs brokers, a topic, a group and a handler")
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1000
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 10 * time.Second
	}
	if cfg.Balancer == nil {
		cfg.Balancer = kgo.RangeBalancer()
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.FetchMaxWait <= 0 {
		cfg.FetchMaxWait = 500 * time.Millisecond
	}
	if cfg.FetchMinBytes <= 0 {
		cfg.FetchMinBytes = 1
	}
	c := &Consumer{cfg: cfg, uncommitted: map[int32]kgo.EpochOffset{}}
	parts := func(m map[string][]int32) []int32 { return m[cfg.Topic] }
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumerGroup(cfg.Group),
		kgo.Balancers(cfg.Balancer),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.HeartbeatInterval(max(cfg.SessionTimeout/10, 100*time.Millisecond)),
		kgo.RebalanceTimeout(max(2*cfg.SessionTimeout, 10*time.Second)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		// No rebalance between a poll and the commit of what it returned:
		// a partition's batch is never handled by two members at once.
		kgo.BlockRebalanceOnPoll(),
		// With FetchMinBytes 1 a fetch returns as soon as records arrive;
		// FetchMaxWait then only bounds how often an idle consumer asks again.
		kgo.FetchMaxWait(cfg.FetchMaxWait),
		kgo.FetchMinBytes(cfg.FetchMinBytes),
		kgo.DialTimeout(time.Second),
		kgo.OnPartitionsAssigned(func(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
			if p := parts(m); len(p) > 0 && cfg.OnAssigned != nil {
				cfg.OnAssigned(ctx, p)
			}
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
			c.revoked(ctx, parts(m))
		}),
		kgo.OnPartitionsLost(func(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
			c.revoked(ctx, parts(m))
		}),
	}
	if cfg.StartOffsets != nil {
		opts = append(opts, kgo.AdjustFetchOffsetsFn(c.adjust))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	c.cl = cl
	return c, nil
}

func (c *Consumer) revoked(ctx context.Context, parts []int32) {
	if len(parts) == 0 {
		return
	}
	c.mu.Lock()
	for _, p := range parts {
		delete(c.uncommitted, p) // no longer ours to commit
	}
	c.mu.Unlock()
	if c.cfg.OnRevoked != nil {
		c.cfg.OnRevoked(ctx, parts)
	}
}

// adjust replaces the group's committed offsets by the handler's own.
func (c *Consumer) adjust(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	mine := offsets[c.cfg.Topic]
	if len(mine) == 0 {
		return offsets, nil
	}
	parts := make([]int32, 0, len(mine))
	for p := range mine {
		parts = append(parts, p)
	}
	start, err := c.cfg.StartOffsets(ctx, parts)
	if err != nil {
		return nil, fmt.Errorf("events: start offsets of %s: %w", c.cfg.Topic, err)
	}
	for p, o := range start {
		if _, ok := mine[p]; ok {
			mine[p] = kgo.NewOffset().At(o)
		}
	}
	return offsets, nil
}

// Run consumes until ctx ends, then leaves the group (its partitions move
// to the other members at once) and closes the client.
func (c *Consumer) Run(ctx context.Context) {
	defer c.cl.Close() // leaves the group
	if c.cfg.Flush == nil {
		defer c.commitHandled(ctx) // before leaving: the next owner resumes after what this one handled
	}
	nextFlush := time.Now().Add(c.cfg.FlushInterval)
	for ctx.Err() == nil {
		// Wake up for the flush or commit even when no record comes.
		pctx, cancel := context.WithDeadline(ctx, nextFlush)
		fetches := c.cl.PollRecords(pctx, c.cfg.MaxBatch)
		cancel()
		if fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				c.cfg.Logger.Warn("fetching access events", "topic", t, "partition", p, "err", err)
			}
		})
		failed := c.handle(ctx, fetches)
		if !time.Now().Before(nextFlush) && ctx.Err() == nil {
			if c.cfg.Flush == nil {
				c.commitHandled(ctx)
			} else if !c.flush(ctx) {
				failed = true
			}
			nextFlush = time.Now().Add(c.cfg.FlushInterval)
		}
		c.cl.AllowRebalance()
		if failed {
			sleep(ctx, c.cfg.RetryBackoff)
		}
	}
}

// flush makes a windowed consumer's results durable, rewinds the
// partitions it dropped and commits what it stored. It reports success.
func (c *Consumer) flush(ctx context.Context) bool {
	reread, err := c.cfg.Flush(ctx)
	if err != nil {
		c.cfg.Logger.Warn("flushing counted access events (kept, retried at the next flush)", "group", c.cfg.Group, "err", err)
		return false
	}
	commit := c.takeUncommitted()
	if len(reread) > 0 {
		rewind := map[int32]kgo.EpochOffset{}
		for p, o := range reread {
			rewind[p] = kgo.EpochOffset{Epoch: -1, Offset: o}
			delete(commit, p)
		}
		c.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{c.cfg.Topic: rewind})
	}
	c.commit(ctx, commit)
	return true
}

// handle passes each partition's records to the handler and commits the
// ones it accepted; a refused batch is rewound so that the next poll
// returns it again. It reports whether any batch was refused.
func (c *Consumer) handle(ctx context.Context, fetches kgo.Fetches) (failed bool) {
	commit := map[int32]kgo.EpochOffset{}
	rewind := map[int32]kgo.EpochOffset{}
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if _, refused := rewind[fp.Partition]; refused || len(fp.Records) == 0 || ctx.Err() != nil {
			return // after a refused batch, the partition's later records wait for the redelivery
		}
		recs := make([]Record, 0, len(fp.Records))
		for _, r := range fp.Records {
			a, err := Decode(r.Value)
			if err != nil {
				// A record no consumer can read would stop the partition
				// for ever: it is skipped, loudly.
				c.cfg.Logger.Error("skipping an undecodable access event", "partition", r.Partition, "offset", r.Offset, "err", err)
				continue
			}
			recs = append(recs, Record{Partition: r.Partition, Offset: r.Offset, Access: a})
		}
		first, last := fp.Records[0], fp.Records[len(fp.Records)-1]
		if err := c.cfg.Handler(ctx, fp.Partition, recs); err != nil {
			failed = true
			if ctx.Err() == nil {
				c.cfg.Logger.Warn("handling a batch of access events; it will be redelivered", "group", c.cfg.Group,
					"partition", fp.Partition, "from", first.Offset, "err", err)
			}
			rewind[fp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: first.Offset}
			return
		}
		commit[fp.Partition] = kgo.EpochOffset{Epoch: last.LeaderEpoch, Offset: last.Offset + 1}
	})
	if len(rewind) > 0 {
		c.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{c.cfg.Topic: rewind})
	}
	c.mu.Lock()
	for p, o := range commit {
		c.uncommitted[p] = o
	}
	c.mu.Unlock()
	return failed
}

func (c *Consumer) takeUncommitted() map[int32]kgo.EpochOffset {
	c.mu.Lock()
	defer c.mu.Unlock()
	commit := c.uncommitted
	c.uncommitted = map[int32]kgo.EpochOffset{}
	return commit
}

// commitHandled commits the positions handled since the last commit.
func (c *Consumer) commitHandled(ctx context.Context) { c.commit(ctx, c.takeUncommitted()) }

func (c *Consumer) commit(ctx context.Context, commit map[int32]kgo.EpochOffset) {
	if len(commit) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	c.cl.CommitOffsetsSync(cctx, map[string]map[int32]kgo.EpochOffset{c.cfg.Topic: commit},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err == nil {
				err = commitErr(resp)
			}
			if err != nil {
				// The handler's results stand; a member that takes the
				// partition over redelivers from the previous commit.
				c.cfg.Logger.Warn("committing access event offsets", "group", c.cfg.Group, "err", err)
			}
		})
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// commitErr is the first partition error of a commit's response.
func commitErr(resp *kmsg.OffsetCommitResponse) error {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("partition %d: %w", p.Partition, err)
			}
		}
	}
	return nil
}
