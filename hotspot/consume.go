package hotspot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/events"
)

// DetectorGroup is the consumer group of the hot-document detectors.
const DetectorGroup = "docplat-hotspot"

// ConsumerOptions is one hot-document detector on the access stream: its
// runner's configuration and the topic it consumes.
type ConsumerOptions struct {
	Runner         RunnerConfig
	Brokers        []string
	Topic          string
	SessionTimeout time.Duration
}

// Validate checks the access topic's settings (the runner's are checked
// by RunnerConfig.Validate).
func (d *ConsumerOptions) Validate() error {
	errs := []error{events.ValidateBrokers(d.Brokers), events.ValidateTopic(d.Topic)}
	if d.SessionTimeout < 500*time.Millisecond || d.SessionTimeout > 5*time.Minute {
		errs = append(errs, errors.New("SessionTimeout must be between 500ms and 5m"))
	}
	return errors.Join(errs...)
}

// RunDetector is one hot-document detector: a member of DetectorGroup
// whose partitions it watches, promoting into and demoting from hot, until
// ctx ends.
func RunDetector(ctx context.Context, d ConsumerOptions, hot *HotSet, reg prometheus.Registerer, log *slog.Logger) error {
	rc := d.Runner
	rc.HotSet, rc.Registerer, rc.Logger = hot, reg, log
	runner, err := NewRunner(rc)
	if err != nil {
		return err
	}
	consumer, err := events.NewConsumer(events.ConsumerConfig{Brokers: d.Brokers, Topic: d.Topic, Group: DetectorGroup,
		Handler: runner.Handle, OnAssigned: runner.Assigned, OnRevoked: runner.Revoked, SessionTimeout: d.SessionTimeout,
		// A lost batch only delays a promotion: never hold the partition up.
		RetryBackoff: 100 * time.Millisecond, Logger: log})
	if err != nil {
		return err
	}
	go runner.Run(ctx)
	log.Info("hot-document detector running", "group", DetectorGroup, "hot_rate", rc.Detector.HotRate, "cool_rate", rc.Detector.CoolRate, "window", rc.Detector.Window)
	consumer.Run(ctx)
	return nil
}
