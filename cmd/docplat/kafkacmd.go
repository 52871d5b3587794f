package main

import (
	"context"
	"flag"
	"path/filepath"

	"docplat/events"
	"docplat/internal/envflag"
	"docplat/internal/logflag"
)

// kafkaConfig is what `docplat kafka` runs.
type kafkaConfig struct {
	Log     logflag.Options
	Broker  events.BrokerConfig
	DataDir string
}

// kafkaFlags is the kafka command's flag set.
func kafkaFlags(env envSource) (*envflag.Set, *kafkaConfig) {
	var c kafkaConfig
	b := newFlags("kafka", env)
	c.Log.Bind(b)
	b.String(&c.Broker.Addr, "kafka-addr", "127.0.0.1:9092", "listen address of the development broker")
	b.String(&c.Broker.Topic, "kafka-topic", "docplat.access", "Kafka topic of the access events")
	b.Int(&c.Broker.Partitions, "kafka-partitions", 6, "partitions of the access topic when the broker creates it")
	b.String(&c.DataDir, "data-dir", "./data", "keeps topics, offsets and groups in its kafka/ subdirectory across restarts, when given (flag or variable); otherwise everything is in memory")
	return b, &c
}

// kafkaCmd runs `docplat kafka`: a development Kafka broker (kfake) with
// the access topic, for running `docplat serve` and `docplat stats` as
// separate processes on one machine.
func kafkaCmd(ctx context.Context, args []string, env envSource) error {
	b, cfg := kafkaFlags(env)
	if err := b.Parse(args); err != nil {
		return err
	}
	// Durable only when a data directory is asked for (--data-dir or
	// DOCPLAT_DATA_DIR): its kafka/ subdirectory keeps topics, offsets and
	// groups across restarts and kill -9. Otherwise everything is in memory.
	_, durable := env("DOCPLAT_DATA_DIR")
	b.FlagSet.Visit(func(f *flag.Flag) { durable = durable || f.Name == "data-dir" })
	if durable {
		cfg.Broker.DataDir = filepath.Join(cfg.DataDir, "kafka")
	}
	if err := b.Check([]error{cfg.Log.Validate(), b.Options(&cfg.Broker)}...); err != nil {
		return err
	}
	log := cfg.Log.Logger().With("service", "kafka")
	cfg.Broker.Logger = log
	br, err := events.StartBroker(ctx, cfg.Broker)
	if err != nil {
		return err
	}
	defer br.Close()
	log.Warn("development Kafka broker (franz-go kfake, one broker, no replication): not for production",
		"addr", br.Addrs()[0], "topic", cfg.Broker.Topic, "partitions", cfg.Broker.Partitions, "data_dir", cfg.Broker.DataDir)
	<-ctx.Done()
	log.Info("stopping the development Kafka broker")
	return nil
}
