package stats_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"docplat/events"
	"docplat/internal/wait"
	"docplat/stats"
)

const streamTopic = "docplat.access"

// streamFixture is a kfake broker with the access topic and a producer.
type streamFixture struct {
	broker *events.Broker
	prod   *events.Producer
	reg    *prometheus.Registry // the counters' metrics, across restarts
}

func newStream(t *testing.T) *streamFixture {
	t.Helper()
	b, err := events.StartBroker(context.Background(), events.BrokerConfig{Topic: streamTopic, Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	p, err := events.NewProducer(events.ProducerConfig{Brokers: b.Addrs(), Topic: streamTopic})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(time.Second) })
	return &streamFixture{broker: b, prod: p, reg: prometheus.NewRegistry()}
}

// publish publishes accesses [from, to) and waits until the broker has them.
func (f *streamFixture) publish(t *testing.T, base time.Time, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		f.prod.Publish(accessAt(base, i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// consume runs ConsumeStream until the returned stop is called.
func (f *streamFixture) consume(t *testing.T, s *stats.Service) (stop func()) {
	t.Helper()
	return f.consumeEvery(t, s, 0)
}

// consumeEvery is consume with the counters written every flush (0: the default).
func (f *streamFixture) consumeEvery(t *testing.T, s *stats.Service, flush time.Duration) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ConsumeStream(ctx, stats.StreamConfig{Brokers: f.broker.Addrs(), Topic: streamTopic, SessionTimeout: time.Second,
			FlushInterval: flush, Registerer: f.reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Error("ConsumeStream did not return within 15s of its context ending")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// resetGroup commits offset 0 for every partition of the stats group, as an
// operator replaying the topic would (the group has no members).
func (f *streamFixture) resetGroup(t *testing.T) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.broker.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation = stats.DefaultGroup, -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = streamTopic
	if rt.TopicID, err = events.TopicID(context.Background(), f.broker.Addrs(), streamTopic); err != nil {
		t.Fatal(err) // OffsetCommit v10+ names topics by id
	}
	for p := range int32(4) {
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = p, 0
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			if p.ErrorCode != 0 {
				t.Fatalf("resetting partition %d: error code %d", p.Partition, p.ErrorCode)
			}
		}
	}
}

// TestStreamCountsOnceAcrossRestartAndReplay: accesses published while the
// counters consume the topic are counted exactly once although the
// consumer is stopped and restarted in the middle of the stream, and a
// replay (the group's Kafka offsets reset to 0, then a restart) changes no
// count while what comes after it is still counted.
func TestStreamCountsOnceAcrossRestartAndReplay(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		f := newStream(t)
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		const first, total, after = 150, 400, 30

		stop := f.consume(t, s)
		f.publish(t, base, 0, first)
		var pub sync.WaitGroup
		pub.Go(func() {
			for i := first; i < total; i += 25 {
				f.publish(t, base, i, min(i+25, total))
				time.Sleep(5 * time.Millisecond) // spread the rest over the restart
			}
		})
		wait.For(t, wait.Limit, "part of the stream to be counted", func() bool {
			var n int64
			for _, c := range allTotals(t, s) {
				n += c.Views + c.Downloads
			}
			return n > 0
		})
		stop() // mid-stream
		stop = f.consume(t, s)
		pub.Wait()
		want := expectedTotals(0, total)
		wait.For(t, wait.Limit, "every access to be counted after the restart", func() bool { return reflect.DeepEqual(allTotals(t, s), want) })
		stop()
		if got := allTotals(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("after the restart: %v, want %v", got, want)
		}

		f.resetGroup(t)
		stop = f.consume(t, s)
		f.publish(t, base, total, total+after)
		want = expectedTotals(0, total+after)
		wait.For(t, wait.Limit, "the accesses published after the replay to be counted", func() bool { return reflect.DeepEqual(allTotals(t, s), want) })
		stop()
		if got := allTotals(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("after the replay: %v, want %v (a replay must not count again)", got, want)
		}
	})
}

// TestAggregatedReadsCountedOnce: reads summed by two instances'
// aggregators (one event per document and kind per window) and counted by
// the windowed counters add up to exactly the reads made, within one
// flush interval of the last read, although the counters are restarted in
// the middle of the stream and the stream is then replayed.
func TestAggregatedReadsCountedOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		f := newStream(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var aggs [2]*events.Aggregator
		var running sync.WaitGroup
		for i := range aggs {
			a, err := events.NewAggregator(f.prod, events.AggregatorConfig{Window: 20 * time.Millisecond, Instance: fmt.Sprint("app-", i)})
			if err != nil {
				t.Fatal(err)
			}
			aggs[i] = a
			running.Go(func() { a.Run(ctx) })
		}
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		const flush = 200 * time.Millisecond
		read := func(from, to int) {
			for i := from; i < to; i++ {
				a := accessAt(base, i)
				for range a.N() { // one Publish per read
					aggs[i%2].Publish(events.Access{DocumentID: a.DocumentID, Kind: a.Kind, At: a.At})
				}
				if i%10 == 0 {
					time.Sleep(2 * time.Millisecond)
				}
			}
		}
		waitCounted := func(what string, want map[string]totals) {
			t.Helper()
			start := time.Now()
			wait.For(t, wait.Limit, what, func() bool { return reflect.DeepEqual(allTotals(t, s), want) })
			t.Logf("%s: counted %v after the last read", what, time.Since(start).Round(time.Millisecond))
		}
		const first, total, after = 300, 800, 100
		stop := f.consumeEvery(t, s, flush)
		read(0, first)
		var pub sync.WaitGroup
		pub.Go(func() { read(first, total) })
		wait.For(t, wait.Limit, "part of the reads to be counted", func() bool { return len(allTotals(t, s)) > 0 })
		stop() // mid-stream: a clean stop writes what it summed
		stop = f.consumeEvery(t, s, flush)
		pub.Wait()
		waitCounted("every read, across the restart", expectedTotals(0, total))

		stop()
		f.resetGroup(t)
		stop = f.consumeEvery(t, s, flush)
		read(total, total+after)
		waitCounted("the reads after the replay, and none twice", expectedTotals(0, total+after))
		stop()
		if got, want := allTotals(t, s), expectedTotals(0, total+after); !reflect.DeepEqual(got, want) {
			t.Fatalf("after the replay: %v, want %v", got, want)
		}
		mfs, err := f.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "docplat_stats_counter_flushes_total" {
				for _, m := range mf.GetMetric() {
					// the first consumer's and the last one's at least: the
					// metrics outlive a restart in the same process
					if m.GetLabel()[0].GetValue() == "ok" && m.GetCounter().GetValue() < 2 {
						t.Errorf("%g successful flushes counted; want those of the first and the last consumer", m.GetCounter().GetValue())
					}
				}
			}
		}
		cancel()
		running.Wait()
	})
}
