package jobs

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/events"
	"docplat/internal/envflag"
)

// Config is where the jobs are and how they are worked.
type Config struct {
	Brokers []string
	// Topic holds the jobs; Topic+".retry" the failed attempts waiting
	// for their backoff.
	Topic string
	// Group is the workers' consumer group; Group+".retry" the retry
	// topic's movers.
	Group      string
	Partitions int // of each topic, when docplat creates them
	// Workers is the number of group members this process runs, each
	// handling one job at a time.
	Workers     int
	MaxAttempts int           // attempts before a job is recorded failed
	Backoff     time.Duration // wait before the second attempt; doubled for each next one
	MaxBackoff  time.Duration // cap of the wait
	JobTimeout  time.Duration // one attempt's time limit
	// SessionTimeout is how long the group waits for a silent member
	// (a killed worker) before its partitions move (default 10s).
	SessionTimeout time.Duration
	// LagEvery is how often the queue depth gauge is refreshed (default 5s).
	LagEvery   time.Duration
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Defaults of the flags.
const (
	DefaultTopic       = "docplat.jobs"
	DefaultGroup       = "docplat-workers"
	DefaultMaxAttempts = 5
	DefaultBackoff     = 2 * time.Second
	DefaultMaxBackoff  = 5 * time.Minute
	DefaultJobTimeout  = 2 * time.Minute
)

// RetryTopic is the topic of attempts waiting for their backoff.
func (c Config) RetryTopic() string { return c.Topic + ".retry" }

// Bind declares the queue's flags; brokers are the access stream's
// (kafka-brokers), set by the caller.
func (c *Config) Bind(b *envflag.Set) {
	b.String(&c.Topic, "jobs-topic", DefaultTopic, "Kafka topic of the work queue (text extraction, previews); <topic>.retry holds failed attempts waiting for their backoff")
	b.String(&c.Group, "jobs-group", DefaultGroup, "consumer group of the workers: every 'docplat worker' and in-process worker of a deployment shares it")
	b.Int(&c.Partitions, "jobs-partitions", 6, "partitions of the job topics when docplat creates them: the most workers that can work at once")
	b.Int(&c.Workers, "jobs-workers", 2, "workers this process runs (each a member of the group, one job at a time)")
	b.Int(&c.MaxAttempts, "jobs-max-attempts", DefaultMaxAttempts, "attempts of a job before it is recorded as failed (1-20)")
	b.Duration(&c.Backoff, "jobs-backoff", DefaultBackoff, "wait before a failed job's second attempt, doubled for each next one (10ms-1h)")
	b.Duration(&c.MaxBackoff, "jobs-max-backoff", DefaultMaxBackoff, "longest wait between two attempts of a job (at least jobs-backoff, at most 1h)")
	b.Duration(&c.JobTimeout, "jobs-timeout", DefaultJobTimeout, "time limit of one attempt of a job (1s-1h)")
}

// Validate reports every setting out of bounds at once (the brokers are
// the access stream's, which checks them).
func (c Config) Validate() error {
	var errs []error
	if err := events.ValidateTopic(c.Topic); err != nil {
		errs = append(errs, err)
	}
	if c.Group == "" {
		errs = append(errs, errors.New("Group must not be empty"))
	}
	if c.Partitions < 1 || c.Partitions > 1024 {
		errs = append(errs, errors.New("Partitions must be between 1 and 1024"))
	}
	if c.Workers < 0 || c.Workers > 256 {
		errs = append(errs, errors.New("Workers must be between 0 and 256"))
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 20 {
		errs = append(errs, errors.New("MaxAttempts must be between 1 and 20"))
	}
	if c.Backoff < 10*time.Millisecond || c.Backoff > time.Hour {
		errs = append(errs, errors.New("Backoff must be between 10ms and 1h"))
	}
	if c.MaxBackoff < c.Backoff || c.MaxBackoff > time.Hour {
		errs = append(errs, errors.New("MaxBackoff must be between Backoff and 1h"))
	}
	if c.JobTimeout < time.Second || c.JobTimeout > time.Hour {
		errs = append(errs, errors.New("JobTimeout must be between 1s and 1h"))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.Partitions <= 0 {
		c.Partitions = 6
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff < c.Backoff {
		c.MaxBackoff = max(c.Backoff, DefaultMaxBackoff)
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = DefaultJobTimeout
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.LagEvery <= 0 {
		c.LagEvery = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
