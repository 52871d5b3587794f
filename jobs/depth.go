package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"docplat/internal/periodic"
)

// watchDepth refreshes the queue depth gauge every LagEvery: the group's
// lag on each topic (end offsets minus committed offsets), what an
// operator reads to decide to run more workers.
func (p *Pool) watchDepth(ctx context.Context) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.cfg.Brokers...), kgo.DialTimeout(time.Second))
	if err != nil {
		p.log.Error("starting the job queue depth watch", "err", err)
		return
	}
	defer cl.Close()
	refresh := func(ctx context.Context) {
		for topic, group := range map[string]string{p.cfg.Topic: p.cfg.Group, p.cfg.RetryTopic(): p.cfg.Group + ".retry"} {
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			n, err := Depth(qctx, cl, topic, group)
			cancel()
			if err != nil {
				p.log.Debug("reading the job queue depth", "topic", topic, "err", err)
				continue
			}
			p.m.depth.WithLabelValues(topic).Set(float64(n))
		}
	}
	refresh(ctx)
	periodic.Run(ctx, p.cfg.LagEvery, refresh)
}

// Depth is group's lag on topic: the records past its committed offsets
// (from the start of a partition it never committed on).
func Depth(ctx context.Context, cl *kgo.Client, topic, group string) (int64, error) {
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		return 0, err
	}
	var parts []int32
	for _, t := range mresp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return 0, fmt.Errorf("topic %s: %w", topic, err)
		}
		for _, pt := range t.Partitions {
			parts = append(parts, pt.Partition)
		}
	}
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.ReplicaID = -1
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = topic
	for _, pt := range parts {
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Partition, lp.Timestamp = pt, -1 // the end
		lt.Partitions = append(lt.Partitions, lp)
	}
	lo.Topics = append(lo.Topics, lt)
	lresp, err := lo.RequestWith(ctx, cl)
	if err != nil {
		return 0, err
	}
	end := map[int32]int64{}
	for _, t := range lresp.Topics {
		for _, pt := range t.Partitions {
			if err := kerr.ErrorForCode(pt.ErrorCode); err != nil {
				return 0, fmt.Errorf("topic %s partition %d: %w", topic, pt.Partition, err)
			}
			end[pt.Partition] = pt.Offset
		}
	}
	of := kmsg.NewPtrOffsetFetchRequest()
	of.Group = group
	ot := kmsg.NewOffsetFetchRequestTopic()
	ot.Topic, ot.Partitions = topic, parts
	of.Topics = append(of.Topics, ot)
	oresp, err := of.RequestWith(ctx, cl)
	if err != nil {
		return 0, err
	}
	// A group that never committed (no worker ever ran) is behind by
	// everything.
	if err := kerr.ErrorForCode(oresp.ErrorCode); err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return 0, fmt.Errorf("group %s: %w", group, err)
	}
	var lag int64
	committed := map[int32]int64{}
	for _, t := range oresp.Topics {
		for _, pt := range t.Partitions {
			committed[pt.Partition] = max(pt.Offset, 0)
		}
	}
	for pt, e := range end {
		lag += max(e-committed[pt], 0)
	}
	return lag, nil
}
