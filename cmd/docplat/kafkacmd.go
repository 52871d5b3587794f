package main

import (
	"context"

	"docplat/events"
	"docplat/internal/envflag"
	"docplat/internal/logflag"
)

// kafkaFlags is the kafka command's flag set: logging and the broker.
func kafkaFlags(env envSource) (*envflag.Set, *logflag.Options, *events.BrokerProcess) {
	var lo logflag.Options
	var c events.BrokerProcess
	b := newFlags("kafka", env)
	lo.Bind(b)
	c.Bind(b)
	return b, &lo, &c
}

// kafkaCmd runs `docplat kafka`: a development Kafka broker (kfake) with
// the access topic.
func kafkaCmd(ctx context.Context, args []string, env envSource) error {
	b, lo, cfg := kafkaFlags(env)
	if err := b.Parse(args); err != nil {
		return err
	}
	if err := b.Check(lo.Validate(), cfg.Validate(b)); err != nil {
		return err
	}
	return events.RunBroker(ctx, *cfg, lo.Logger().With("service", "kafka"))
}
