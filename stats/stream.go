package stats

import (
	"context"
	"encoding/hex"
	"log/slog"
	"time"

	"docplat/events"
)

// StreamConfig says where the access topic is and how to read it.
type StreamConfig struct {
	Brokers []string
	Topic   string
	// Group is the Kafka consumer group (default "docplat-stats").
	Group          string
	SessionTimeout time.Duration
	Logger         *slog.Logger
}

// DefaultGroup is the stats counters' consumer group.
const DefaultGroup = "docplat-stats"

// ConsumeStream counts the access topic until ctx ends: batches per
// partition go through ApplyBatch, which stores the partition's position in
// the same transaction as the counts. That stored position, not Kafka's
// committed offset, is where a newly assigned partition resumes, and Kafka
// is committed only after the database: a restart, a rebalance or a reset
// of the group's offsets never counts an access twice.
func (s *Service) ConsumeStream(ctx context.Context, cfg StreamConfig) {
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	consumer, ok := s.streamConsumer(ctx, cfg)
	if !ok {
		return
	}
	c, err := events.NewConsumer(events.ConsumerConfig{
		Brokers: cfg.Brokers, Topic: cfg.Topic, Group: cfg.Group, SessionTimeout: cfg.SessionTimeout, Logger: cfg.Logger,
		Handler: func(ctx context.Context, part int32, recs []events.Record) error {
			return s.ApplyBatch(ctx, consumer, int(part), recs)
		},
		StartOffsets: func(ctx context.Context, parts []int32) (map[int32]int64, error) {
			return s.storedOffsets(ctx, consumer, parts)
		},
	})
	if err != nil {
		cfg.Logger.Error("the access counters cannot consume the access topic", "err", err)
		return
	}
	cfg.Logger.Info("access counters consuming", "topic", cfg.Topic, "group", cfg.Group, "consumer", consumer)
	c.Run(ctx)
}

// streamConsumer names the counters' positions in consumer_offsets after
// the topic's id, so that a topic created anew (offsets from 0 again, e.g.
// an in-memory development broker) is not skipped as already counted. It
// waits for the broker as long as ctx lasts.
func (s *Service) streamConsumer(ctx context.Context, cfg StreamConfig) (string, bool) {
	for {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		id, err := events.TopicID(tctx, cfg.Brokers, cfg.Topic)
		cancel()
		if err == nil {
			return cfg.Group + "@" + hex.EncodeToString(id[:8]), true
		}
		if ctx.Err() != nil {
			return "", false
		}
		cfg.Logger.Warn("access topic not reachable; the counters retry", "topic", cfg.Topic, "err", err)
		t := time.NewTimer(2 * time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", false
		case <-t.C:
		}
	}
}

// storedOffsets are the positions stored with the counts, for the
// partitions that have one.
func (s *Service) storedOffsets(ctx context.Context, consumer string, parts []int32) (map[int32]int64, error) {
	var rows []struct {
		Part       int32
		NextOffset int64
	}
	if err := s.db.WithContext(ctx).Raw("SELECT part, next_offset FROM consumer_offsets WHERE consumer = ? AND part IN ?", consumer, parts).
		Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int32]int64, len(rows))
	for _, r := range rows {
		out[r.Part] = r.NextOffset
	}
	return out, nil
}
