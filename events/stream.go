package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/internal/envflag"
)

// StreamConfig is where one instance publishes its reads: the Kafka brokers
// and topic (no brokers: a development broker in this process, the
// embedded mode) and how reads are summed before they are published.
type StreamConfig struct {
	Brokers []string
	Topic   string
	// DevBroker is the development broker started when Brokers is empty
	// (its Topic is Topic). Its DataDir keeps the log across restarts;
	// empty keeps it in memory, for instances that share a data directory.
	DevBroker BrokerConfig
	Reads     AggregatorConfig
	// Instance names this process in the events it publishes.
	Instance   string
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Bind declares the access stream's flags onto c. A Reads.BurstCount left
// 0 is for the caller to derive (from the detector's thresholds).
func (c *StreamConfig) Bind(b *envflag.Set) {
	b.List(&c.Brokers, "kafka-brokers", "", "", "comma-separated Kafka brokers of the access stream, host:port; required with --stats-url; empty starts an in-process development broker (embedded mode, one instance only)")
	b.String(&c.Topic, "kafka-topic", "docplat.access", "Kafka topic of the access events")
	b.Int(&c.DevBroker.Partitions, "kafka-partitions", 6, "partitions of the access topic when docplat creates it (development broker, embedded mode)")
	b.Alias(&c.DevBroker.Topic, "kafka-topic")
	b.After(func() { c.DevBroker.Topic = c.Topic })
	c.Reads.Bind(b)
}

// Validate checks the brokers; DevBroker and Reads validate themselves
// (so that their errors name their own flags).
func (c StreamConfig) Validate() error { return ValidateBrokers(c.Brokers) }

// Stream is this instance's side of the access stream: the producer, the
// aggregator summing reads in front of it, and the development broker when
// there is no Kafka cluster.
type Stream struct {
	Brokers  []string    // where the topic is (the development broker's address in embedded mode)
	Topic    string      //
	Reads    *Aggregator // where reads are handed over
	producer *Producer
	broker   *Broker
}

// OpenStream connects to the brokers, or starts the development broker.
func OpenStream(ctx context.Context, c StreamConfig) (_ *Stream, err error) {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Stream{Brokers: c.Brokers, Topic: c.Topic}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if len(s.Brokers) == 0 {
		bc := c.DevBroker
		bc.Topic, bc.Logger = c.Topic, log
		if s.broker, err = StartBroker(ctx, bc); err != nil {
			return nil, err
		}
		s.Brokers = s.broker.Addrs()
		msg := "embedded Kafka: the access stream runs on an in-process development broker (kfake); set DOCPLAT_KAFKA_BROKERS to use a Kafka cluster"
		if bc.DataDir == "" {
			log.Warn(msg+" (in memory: each instance counts only its own reads, and reads not yet counted at shutdown are lost)", "addr", s.Brokers[0])
		} else {
			log.Info(msg, "addr", s.Brokers[0])
		}
	} else {
		log.Info("access stream: Kafka", "brokers", s.Brokers, "topic", c.Topic)
	}
	if s.producer, err = NewProducer(ProducerConfig{Brokers: s.Brokers, Topic: c.Topic, Registerer: c.Registerer, Logger: log}); err != nil {
		return nil, err
	}
	ac := c.Reads
	ac.Instance, ac.Registerer = c.Instance, c.Registerer
	if s.Reads, err = NewAggregator(s.producer, ac); err != nil {
		return nil, err
	}
	return s, nil
}

// Run publishes the summed reads until ctx ends, and then its last window.
func (s *Stream) Run(ctx context.Context) { s.Reads.Run(ctx) }

// Close hands over the reads not yet published (requests finishing, a
// drain in flight at the stop), flushes the producer for up to two seconds
// and stops the development broker.
func (s *Stream) Close() {
	if s.Reads != nil {
		s.Reads.Flush()
	}
	if s.producer != nil {
		s.producer.Close(2 * time.Second)
	}
	if s.broker != nil {
		s.broker.Close()
	}
}
