package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Retries wait on their own topic, not in the job topic's partitions.
//
// A failed attempt is written to <topic>.retry with its due time (its
// backoff from now) and the job's offset is committed at once, so the
// jobs behind it in its partition go on: a backoff never stalls the job
// topic. A mover (one per Pool, members of the group <group>.retry)
// reads the retry topic in order and, per partition, waits until the head
// record is due, then publishes it back to the job topic and commits it.
// Within one retry partition a record with a long backoff delays the ones
// behind it by at most MaxBackoff; they are retries, already late by
// design, and the fresh jobs never wait for them. A mover that stops while
// waiting leaves the record uncommitted: the next owner of the partition
// moves it (twice at worst, which handlers tolerate).
func (p *Pool) moveRetries(ctx context.Context) {
	cl, err := p.groupClient(p.cfg.RetryTopic(), p.cfg.Group+".retry", kgo.DefaultProduceTopic(p.cfg.Topic))
	if err != nil {
		p.log.Error("starting the job retry mover", "err", err)
		return
	}
	defer cl.Close()
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollRecords(pctx, 100)
		cancel()
		if fetches.IsClientClosed() {
			return
		}
		var wg sync.WaitGroup
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if len(fp.Records) > 0 {
				wg.Go(func() { p.movePartition(ctx, cl, fp.Records) })
			}
		})
		wg.Wait()
	}
}

// movePartition moves one partition's records in order, each when due.
func (p *Pool) movePartition(ctx context.Context, cl *kgo.Client, recs []*kgo.Record) {
	for _, r := range recs {
		j, err := decode(r.Value)
		if err != nil {
			p.log.Error("skipping an undecodable job retry", "partition", r.Partition, "offset", r.Offset, "err", err)
			commit(ctx, cl, r, p.log)
			continue
		}
		if wait := time.Until(j.DueAt); wait > 0 {
			sleep(ctx, wait)
		}
		if ctx.Err() != nil {
			return
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = cl.ProduceSync(pctx, &kgo.Record{Topic: p.cfg.Topic, Key: r.Key, Value: r.Value}).FirstErr()
		cancel()
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				p.log.Warn("moving a due job retry back to the job topic; trying again", "job", j.String(), "err", err)
			}
			// From this record again at the next poll.
			cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{r.Topic: {r.Partition: {Epoch: -1, Offset: r.Offset}}})
			sleep(ctx, time.Second)
			return
		}
		commit(ctx, cl, r, p.log)
	}
}
