package events

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ProducerConfig configures a Producer.
type ProducerConfig struct {
	Brokers []string
	Topic   string
	// Linger is how long records wait to be batched (default 5ms).
	Linger time.Duration
	// MaxBuffered bounds the records held in memory waiting for the broker
	// (default 65536); beyond it events are dropped, never queued.
	MaxBuffered int
	// DeliveryTimeout is how long a record may wait for the broker before
	// it is dropped (default 10s).
	DeliveryTimeout time.Duration
	Registerer      prometheus.Registerer
	Logger          *slog.Logger
}

// Drop reasons (the reason label of docplat_access_events_dropped_total).
const (
	DropBufferFull  = "buffer_full" // MaxBuffered records already wait for the broker
	DropUndelivered = "undelivered" // the broker did not take it within DeliveryTimeout, or refused it
	DropEncode      = "encode"      // the event could not be encoded
	DropClosed      = "closed"      // published after Close
)

// Producer publishes access events to a topic, keyed by document id so
// that one document's events stay in order on one partition. Publish never
// blocks and never fails: when the broker is away or the buffer is full the
// event is dropped and counted, because a read must not wait for its
// statistics.
type Producer struct {
	cl       *kgo.Client
	topic    string
	produced prometheus.Counter
	dropped  *prometheus.CounterVec
	log      *slog.Logger
}

// NewProducer connects lazily: it succeeds with the brokers down.
func NewProducer(cfg ProducerConfig) (*Producer, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("events: a producer needs brokers and a topic")
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 5 * time.Millisecond
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = 1 << 16
	}
	if cfg.DeliveryTimeout <= 0 {
		cfg.DeliveryTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.ProducerLinger(cfg.Linger),
		kgo.MaxBufferedRecords(cfg.MaxBuffered),
		kgo.RecordDeliveryTimeout(cfg.DeliveryTimeout),
		kgo.ProducerBatchCompression(kgo.Lz4Compression(), kgo.NoCompression()),
		kgo.DialTimeout(time.Second),
	)
	if err != nil {
		return nil, err
	}
	p := &Producer{
		cl:    cl,
		topic: cfg.Topic,
		log:   cfg.Logger,
		produced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "docplat_access_events_produced_total", Help: "Access events the Kafka broker acknowledged.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_access_events_dropped_total",
			Help: "Access events dropped instead of delaying a request: buffer_full (broker slow or away), undelivered (not acknowledged within the delivery timeout), encode, closed.",
		}, []string{"reason"}),
	}
	for _, r := range []string{DropBufferFull, DropUndelivered, DropEncode, DropClosed} {
		p.dropped.WithLabelValues(r) // exported at 0 from the start, so rate() works
	}
	if cfg.Registerer != nil {
		if err := errors.Join(cfg.Registerer.Register(p.produced), cfg.Registerer.Register(p.dropped)); err != nil {
			cl.Close()
			return nil, err
		}
	}
	return p, nil
}

// Publish hands a to the producer's buffer and returns at once.
func (p *Producer) Publish(a Access) {
	v, err := Encode(a)
	if err != nil {
		p.dropped.WithLabelValues(DropEncode).Inc()
		return
	}
	// The record outlives the request: its context is not the request's.
	p.cl.TryProduce(context.Background(), &kgo.Record{Key: []byte(a.DocumentID), Value: v}, p.done)
}

func (p *Producer) done(_ *kgo.Record, err error) {
	switch {
	case err == nil:
		p.produced.Inc()
	case errors.Is(err, kgo.ErrMaxBuffered):
		p.dropped.WithLabelValues(DropBufferFull).Inc()
	case errors.Is(err, kgo.ErrClientClosed):
		p.dropped.WithLabelValues(DropClosed).Inc()
	default:
		p.dropped.WithLabelValues(DropUndelivered).Inc()
		p.log.Debug("access event dropped", "err", err)
	}
}

// Flush waits until every buffered event is delivered or dropped, or ctx ends.
func (p *Producer) Flush(ctx context.Context) error { return p.cl.Flush(ctx) }

// Close flushes for at most timeout, then drops what is left.
func (p *Producer) Close(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := p.cl.Flush(ctx); err != nil {
		p.log.Warn("access events still unsent at shutdown are dropped", "err", err)
	}
	p.cl.Close()
}
