package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"docplat/events"
)

// Queue publishes jobs. Unlike the access stream's producer it waits for
// the broker's acknowledgement, for up to 2 s (what an upload waits at
// most when Kafka is away): the caller learns whether the job is durable,
// and the database, not the queue, stays the truth when it is not (see
// the documents' text sweeper).
type Queue struct {
	cl      *kgo.Client
	topic   string
	timeout time.Duration
	failed  prometheus.Counter
}

// EnsureTopics creates the job topic and its retry topic unless they exist.
func EnsureTopics(ctx context.Context, c Config) error {
	c = c.withDefaults()
	for _, t := range []string{c.Topic, c.RetryTopic()} {
		// Jobs are small; the topic keeps a week of them at most.
		if err := events.EnsureTopic(ctx, c.Brokers, t, c.Partitions, 256<<20); err != nil {
			return err
		}
	}
	return nil
}

// NewQueue connects lazily to the brokers of c (it succeeds with them
// down; Enqueue then fails after its timeout).
func NewQueue(c Config) (*Queue, error) {
	c = c.withDefaults()
	if len(c.Brokers) == 0 {
		return nil, errors.New("jobs: a queue needs brokers")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers...), kgo.DefaultProduceTopic(c.Topic),
		kgo.ProducerLinger(0), kgo.RecordDeliveryTimeout(2*time.Second), kgo.DialTimeout(time.Second))
	if err != nil {
		return nil, err
	}
	q := &Queue{cl: cl, topic: c.Topic, timeout: 2 * time.Second,
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_jobs_enqueue_failures_total",
			Help: "Jobs the Kafka broker did not acknowledge when they were enqueued (the sweeper enqueues them again later)."})}
	if c.Registerer != nil {
		if err := c.Registerer.Register(q.failed); err != nil {
			cl.Close()
			return nil, err
		}
	}
	return q, nil
}

// Enqueue publishes j (attempt 1, enqueued now) and waits for the broker.
func (q *Queue) Enqueue(ctx context.Context, j Job) error {
	j.Attempt, j.DueAt, j.LastError = 1, time.Time{}, ""
	if j.EnqueuedAt.IsZero() {
		j.EnqueuedAt = time.Now().UTC()
	}
	v, err := encode(j)
	if err != nil {
		return err
	}
	// The job outlives the request that enqueues it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.timeout)
	defer cancel()
	if err := q.cl.ProduceSync(ctx, &kgo.Record{Key: []byte(j.DocumentID), Value: v}).FirstErr(); err != nil {
		q.failed.Inc()
		return fmt.Errorf("enqueueing job %s: %w", j, err)
	}
	return nil
}

// Close releases the connection.
func (q *Queue) Close() { q.cl.Close() }
