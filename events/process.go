package events

import (
	"context"
	"log/slog"
	"path/filepath"

	"docplat/internal/envflag"
)

// BrokerProcess is the development broker run as its own process
// (`docplat kafka`), for running `docplat serve` and `docplat stats` as
// separate processes on one machine.
type BrokerProcess struct {
	Broker BrokerConfig
	// DataDir holds the broker's kafka/ subdirectory when it is given.
	DataDir string
}

// Bind declares the broker process's flags onto p. The broker is durable
// only when a data directory is asked for (the flag or its variable, even
// at the default): Broker.DataDir is then its kafka/ subdirectory, which
// keeps topics, offsets and groups across restarts and kill -9; otherwise
// everything is in memory.
func (p *BrokerProcess) Bind(b *envflag.Set) {
	b.String(&p.Broker.Addr, "kafka-addr", "127.0.0.1:9092", "listen address of the development broker")
	b.String(&p.Broker.Topic, "kafka-topic", "docplat.access", "Kafka topic of the access events")
	b.Int(&p.Broker.Partitions, "kafka-partitions", 6, "partitions of the access topic when the broker creates it")
	b.String(&p.DataDir, "data-dir", "./data", "keeps topics, offsets and groups in its kafka/ subdirectory across restarts, when given (flag or variable); otherwise everything is in memory")
	b.After(func() {
		if b.Given("data-dir") {
			p.Broker.DataDir = filepath.Join(p.DataDir, "kafka")
		}
	})
}

// Validate reports every problem of the broker's settings at once, named
// by the flags of b (the set p was bound to).
func (p *BrokerProcess) Validate(b *envflag.Set) error { return b.Options(&p.Broker) }

// RunBroker runs the development broker until ctx ends.
func RunBroker(ctx context.Context, p BrokerProcess, log *slog.Logger) error {
	cfg := p.Broker
	cfg.Logger = log
	br, err := StartBroker(ctx, cfg)
	if err != nil {
		return err
	}
	defer br.Close()
	log.Warn("development Kafka broker (franz-go kfake, one broker, no replication): not for production",
		"addr", br.Addrs()[0], "topic", cfg.Topic, "partitions", cfg.Partitions, "data_dir", cfg.DataDir)
	<-ctx.Done()
	log.Info("stopping the development Kafka broker")
	return nil
}
