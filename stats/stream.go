package stats

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/events"
)

// StreamConfig says where the access topic is and how to read it.
type StreamConfig struct {
	Brokers []string
	Topic   string
	// Group is the Kafka consumer group (default "docplat-stats").
	Group          string
	SessionTimeout time.Duration
	// FlushInterval is how long counts accumulate in memory before they
	// are written, with the positions, in one transaction (default 1s):
	// the counters lag the stream by about that much, and a crash makes
	// the next owner read that much again.
	FlushInterval time.Duration
	// Registerer, if set, receives the counters' flush metrics.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// DefaultFlushInterval is how often the counters are written by default.
const DefaultFlushInterval = time.Second

// DefaultGroup is the stats counters' consumer group.
const DefaultGroup = "docplat-stats"

// ConsumeStream counts the access topic until ctx ends: records are
// summed in memory per partition and written every FlushInterval in one
// transaction that also stores each partition's position. That stored
// position, not Kafka's committed offset, is where a newly assigned
// partition resumes, so a restart, a rebalance or a reset of the group's
// offsets never counts an access twice, and a crash loses nothing (what
// was not yet written is read again). Partitions moving away are written
// first; if that fails their sums are dropped and their new owner counts
// them from the stored position.
func (s *Service) ConsumeStream(ctx context.Context, cfg StreamConfig) {
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	m, err := newStreamMetrics(cfg.Registerer)
	if err != nil {
		cfg.Logger.Error("the access counters cannot register their metrics", "err", err)
		return
	}
	consumer, ok := s.streamConsumer(ctx, cfg)
	if !ok {
		return
	}
	t := s.newTally(consumer)
	flush := func(ctx context.Context, parts []int) (map[int32]int64, error) {
		start := time.Now()
		res, err := t.flush(ctx, parts)
		m.observe(res, err, time.Since(start))
		if len(res.reread) > 0 {
			cfg.Logger.Warn("access counts of partitions another member counted meanwhile are dropped and read again", "reread_from", res.reread)
		}
		return res.reread, err
	}
	c, err := events.NewConsumer(events.ConsumerConfig{
		Brokers: cfg.Brokers, Topic: cfg.Topic, Group: cfg.Group, SessionTimeout: cfg.SessionTimeout, Logger: cfg.Logger,
		Handler: func(ctx context.Context, part int32, recs []events.Record) error {
			return t.add(ctx, int(part), recs)
		},
		FlushInterval: cfg.FlushInterval,
		// The counters are written per FlushInterval: records may wait at
		// the broker for up to half of one (or until 1 MiB is waiting)
		// rather than waking this consumer at every produce.
		FetchMaxWait: min(max(cfg.FlushInterval/2, 10*time.Millisecond), 500*time.Millisecond), FetchMinBytes: 1 << 20,
		Flush: func(ctx context.Context) (map[int32]int64, error) { return flush(ctx, nil) },
		OnRevoked: func(ctx context.Context, parts []int32) {
			ints := make([]int, len(parts))
			for i, p := range parts {
				ints[i] = int(p)
			}
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, err := flush(fctx, ints); err != nil {
				cfg.Logger.Warn("writing the counts of partitions moving away failed; their new owner counts them again", "partitions", parts, "err", err)
			}
			t.drop(parts)
		},
		StartOffsets: func(ctx context.Context, parts []int32) (map[int32]int64, error) {
			return s.storedOffsets(ctx, consumer, parts)
		},
	})
	if err != nil {
		cfg.Logger.Error("the access counters cannot consume the access topic", "err", err)
		return
	}
	cfg.Logger.Info("access counters consuming", "topic", cfg.Topic, "group", cfg.Group, "consumer", consumer, "flush_interval", cfg.FlushInterval)
	c.Run(ctx)
	// A clean stop writes what was counted since the last flush.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := flush(fctx, nil); err != nil {
		cfg.Logger.Warn("writing the last access counts at shutdown failed; they are counted again at the next start", "err", err)
	}
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

// storedOffsets are the positions stored with the counts; a partition
// without one starts at the beginning of the topic (Kafka's committed
// offset may be ahead of what was written: it is committed per window and
// never trusted).
func (s *Service) storedOffsets(ctx context.Context, consumer string, parts []int32) (map[int32]int64, error) {
	var rows []struct {
		Part       int32
		NextOffset int64
	}
	if err := s.db.WithContext(ctx).Raw("SELECT part, next_offset FROM consumer_offsets WHERE consumer = ? AND part IN ?", consumer, parts).
		Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int32]int64, len(parts))
	for _, p := range parts {
		out[p] = 0 // before the log start, kgo resets to the start
	}
	for _, r := range rows {
		out[r.Part] = r.NextOffset
	}
	return out, nil
}

// streamMetrics describe the counters' writes.
type streamMetrics struct {
	flushes  *prometheus.CounterVec
	docs     prometheus.Histogram
	duration prometheus.Histogram
}

func newStreamMetrics(reg prometheus.Registerer) (*streamMetrics, error) {
	m := &streamMetrics{
		flushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docplat_stats_counter_flushes_total",
			Help: "Writes of the accumulated access counts, by result (ok, error, empty)."}, []string{"result"}),
		docs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "docplat_stats_counter_flush_documents",
			Help: "Documents whose counters one write updated.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "docplat_stats_counter_flush_seconds",
			Help: "Time to write the accumulated access counts.", Buckets: prometheus.DefBuckets}),
	}
	for _, r := range []string{"ok", "error", "empty"} {
		m.flushes.WithLabelValues(r)
	}
	if reg != nil {
		var err error
		// A consumer started again in the same process keeps counting
		// into the metrics of the first.
		if m.flushes, err = register(reg, m.flushes); err != nil {
			return nil, err
		}
		if m.docs, err = register(reg, m.docs); err != nil {
			return nil, err
		}
		if m.duration, err = register(reg, m.duration); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *streamMetrics) observe(res flushResult, err error, took time.Duration) {
	switch {
	case err != nil:
		m.flushes.WithLabelValues("error").Inc()
	case res.parts == 0:
		m.flushes.WithLabelValues("empty").Inc()
	default:
		m.flushes.WithLabelValues("ok").Inc()
		m.docs.Observe(float64(res.docs))
		m.duration.Observe(took.Seconds())
	}
}

// register registers c, or returns the collector already registered as c.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}
