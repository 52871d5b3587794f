package events

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// BrokerConfig configures an in-process development broker.
type BrokerConfig struct {
	// Addr is the listen address; empty picks a free loopback port.
	Addr string
	// DataDir keeps topics, offsets and groups across restarts (and kill -9);
	// empty keeps everything in memory.
	DataDir string
	Topic   string
	// Partitions of Topic when it is created (default 6).
	Partitions int
	// RetentionBytes bounds each partition of Topic (kfake trims only on a
	// topic-level retention.bytes); default 256 MiB.
	RetentionBytes int64
	Logger         *slog.Logger
}

// Broker is franz-go's fake Kafka cluster (kfake) with one broker: the real
// wire protocol, consumer groups and committed offsets, in this process. It
// is for development, tests and the embedded mode, not production.
type Broker struct {
	c *kfake.Cluster
}

// StartBroker starts the broker and creates the topic.
func StartBroker(ctx context.Context, cfg BrokerConfig) (*Broker, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 6
	}
	if cfg.RetentionBytes <= 0 {
		cfg.RetentionBytes = 256 << 20
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		// kfake listens on 127.0.0.1:<port>; this listens where asked.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, cfg.Addr) }),
		// Short sessions are what makes a group rebalance in a second
		// locally; kfake's default minimum (6s) would refuse them.
		kfake.GroupMinSessionTimeout(500 * time.Millisecond),
		kfake.ClusterID("docplat-dev"),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting the in-process Kafka broker on %s: %w", cfg.Addr, err)
	}
	b := &Broker{c: c}
	if cfg.Topic != "" {
		if err := EnsureTopic(ctx, b.Addrs(), cfg.Topic, cfg.Partitions, cfg.RetentionBytes); err != nil {
			c.Close()
			return nil, err
		}
	}
	return b, nil
}

// Addrs are the broker's listen addresses (host:port).
func (b *Broker) Addrs() []string { return b.c.ListenAddrs() }

// Close stops the broker (with DataDir, its state is on disk).
func (b *Broker) Close() { b.c.Close() }
