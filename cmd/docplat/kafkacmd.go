package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"docplat/events"
)

// kafkaCmd runs `docplat kafka`: a development Kafka broker (kfake) with
// the access topic, for running `docplat serve` and `docplat stats` as
// separate processes on one machine.
func kafkaCmd(ctx context.Context, args []string, env envSource) error {
	var cfg config
	fs := flag.NewFlagSet("kafka", flag.ContinueOnError)
	cfg.register(fs, env)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Durable only when a data directory is asked for (--data-dir or
	// DOCPLAT_DATA_DIR): its kafka/ subdirectory keeps topics, offsets and
	// groups across restarts and kill -9. Otherwise everything is in memory.
	var dataDir string
	_, durable := env("DOCPLAT_DATA_DIR")
	fs.Visit(func(f *flag.Flag) { durable = durable || f.Name == "data-dir" })
	if durable {
		dataDir = filepath.Join(cfg.DataDir, "kafka")
	}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := cfg.logger().With("service", "kafka")
	b, err := events.StartBroker(ctx, events.BrokerConfig{Addr: cfg.KafkaAddr, DataDir: dataDir, Topic: cfg.KafkaTopic,
		Partitions: int(cfg.KafkaPartitions), Logger: log})
	if err != nil {
		return err
	}
	defer b.Close()
	log.Warn("development Kafka broker (franz-go kfake, one broker, no replication): not for production",
		"addr", b.Addrs()[0], "topic", cfg.KafkaTopic, "partitions", cfg.KafkaPartitions, "data_dir", dataDir)
	<-ctx.Done()
	log.Info("stopping the development Kafka broker")
	return nil
}
