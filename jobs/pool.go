package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Pool runs workers: members of the consumer group on the job topic, one
// job at a time each, and one mover of the retry topic (retry.go).
type Pool struct {
	cfg   Config
	kinds map[string]Kind
	m     *metrics
	log   *slog.Logger
}

// NewPool checks the kinds and registers the metrics; Run works.
func NewPool(c Config, kinds map[string]Kind) (*Pool, error) {
	c = c.withDefaults()
	if len(c.Brokers) == 0 {
		return nil, errors.New("jobs: a pool needs brokers")
	}
	names := make([]string, 0, len(kinds))
	for name, k := range kinds {
		if k.Handle == nil {
			return nil, fmt.Errorf("jobs: kind %q has no handler", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	m, err := newMetrics(c.Registerer, names)
	if err != nil {
		return nil, err
	}
	return &Pool{cfg: c, kinds: kinds, m: m, log: c.Logger}, nil
}

// Run works until ctx ends. A job in hand when it ends is abandoned
// uncommitted: the group gives it to another member, or to this process
// when it starts again.
func (p *Pool) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range p.cfg.Workers {
		wg.Go(func() { p.work(ctx, i) })
	}
	if p.cfg.Workers > 0 {
		wg.Go(func() { p.moveRetries(ctx) })
	}
	wg.Go(func() { p.watchDepth(ctx) })
	wg.Wait()
}

// groupClient is a member of group on topic that commits by itself.
func (p *Pool) groupClient(topic, group string, extra ...kgo.Opt) (*kgo.Client, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(p.cfg.Brokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumerGroup(group),
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.SessionTimeout(p.cfg.SessionTimeout),
		kgo.HeartbeatInterval(max(p.cfg.SessionTimeout/10, 100*time.Millisecond)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.DialTimeout(time.Second),
		kgo.DefaultProduceTopic(p.cfg.RetryTopic()),
		kgo.ProducerLinger(0),
		kgo.RecordDeliveryTimeout(10 * time.Second),
	}
	return kgo.NewClient(append(opts, extra...)...)
}

// work is one worker: poll a job, handle it, commit its offset; a job
// whose failure could not be recorded (the retry topic or the database
// away) is not committed and comes again.
func (p *Pool) work(ctx context.Context, n int) {
	cl, err := p.groupClient(p.cfg.Topic, p.cfg.Group,
		// No rebalance between a poll and the commit of its job: a job is
		// never handled by two members of the group at once (a crashed
		// member's job moves after the session timeout).
		kgo.BlockRebalanceOnPoll(),
		kgo.RebalanceTimeout(p.cfg.JobTimeout+30*time.Second))
	if err != nil {
		p.log.Error("starting a job worker", "worker", n, "err", err)
		return
	}
	defer cl.Close() // leaves the group: its partitions move at once
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollRecords(pctx, 1)
		cancel()
		if fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(t string, part int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				p.log.Warn("fetching jobs", "topic", t, "partition", part, "err", err)
			}
		})
		for _, r := range fetches.Records() {
			if err := p.process(ctx, cl, r); err != nil {
				if ctx.Err() != nil {
					break // stopping: the job stays uncommitted
				}
				p.log.Warn("a job's outcome could not be recorded; it runs again", "partition", r.Partition, "offset", r.Offset, "err", err)
				cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{r.Topic: {r.Partition: {Epoch: -1, Offset: r.Offset}}})
				sleep(ctx, p.cfg.Backoff)
				break
			}
			commit(ctx, cl, r, p.log)
		}
		cl.AllowRebalance()
	}
}

// process runs one job and records its outcome: done, scheduled again on
// the retry topic, or failed for good. An error means none of them could
// be recorded.
func (p *Pool) process(ctx context.Context, cl *kgo.Client, r *kgo.Record) error {
	j, err := decode(r.Value)
	if err != nil {
		// A record no worker can read would stop the partition for ever.
		p.log.Error("skipping an undecodable job", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return nil
	}
	k, ok := p.kinds[j.Kind]
	if !ok {
		// Another worker's version may know it (a rolling upgrade): an
		// attempt that failed, retried like any other.
		err = fmt.Errorf("no handler for jobs of kind %q in this worker", j.Kind)
	} else {
		hctx, cancel := context.WithTimeout(ctx, p.cfg.JobTimeout)
		start := time.Now()
		err = k.Handle(hctx, j)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err() // stopped mid-job: redelivered, not a failure
		}
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		p.m.duration.WithLabelValues(j.Kind, outcome).Observe(time.Since(start).Seconds())
	}
	if err == nil {
		return nil
	}
	return p.failedAttempt(ctx, cl, k, j, err)
}

// maxReason bounds the failure reason a job carries and records.
const maxReason = 500

func reasonOf(err error) string {
	s := err.Error()
	if len(s) > maxReason {
		s = s[:maxReason]
	}
	return s
}

func (p *Pool) failedAttempt(ctx context.Context, cl *kgo.Client, k Kind, j Job, cause error) error {
	last := IsPermanent(cause) || j.Attempt >= p.cfg.MaxAttempts
	p.log.Warn("job attempt failed", "kind", j.Kind, "document_id", j.DocumentID, "version", j.Version,
		"attempt", j.Attempt, "max_attempts", p.cfg.MaxAttempts, "final", last, "err", cause)
	if last {
		if k.Failed != nil {
			if err := k.Failed(ctx, j, cause); err != nil {
				return fmt.Errorf("recording the failure of job %s: %w", j, err)
			}
		}
		p.m.failures.WithLabelValues(j.Kind).Inc()
		p.log.Error("job failed for good", "kind", j.Kind, "document_id", j.DocumentID, "version", j.Version,
			"attempts", j.Attempt, "reason", reasonOf(cause))
		return nil
	}
	next := j
	next.Attempt++
	next.LastError = reasonOf(cause)
	next.DueAt = time.Now().UTC().Add(backoff(p.cfg.Backoff, p.cfg.MaxBackoff, j.Attempt))
	v, err := encode(next)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(pctx, &kgo.Record{Topic: p.cfg.RetryTopic(), Key: []byte(j.DocumentID), Value: v}).FirstErr(); err != nil {
		return fmt.Errorf("scheduling job %s again: %w", j, err)
	}
	p.m.retries.WithLabelValues(j.Kind).Inc()
	return nil
}

// commit commits r's offset; a failed commit only means r may be handled
// again by the partition's next owner.
func commit(ctx context.Context, cl *kgo.Client, r *kgo.Record, log *slog.Logger) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := cl.CommitRecords(cctx, r); err != nil {
		log.Warn("committing a job's offset (it may run again)", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
