package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"docplat/events"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// BenchmarkEncode: the cost of the wire format per event, encode plus
// decode: the binary format in use and the JSON one it replaced (still
// decoded), in the same run.
func BenchmarkEncode(b *testing.B) {
	a := events.Access{DocumentID: "01JD3QZ6Q4W5N8K2M7V9X0Y1Z2", Kind: "view", Bytes: 10240, At: time.Now(), Instance: "web-1", Count: 12}
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, _ := events.Encode(a)
			if _, err := events.Decode(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, _ := json.Marshal(a)
			if _, err := events.Decode(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkProduce: Publish to an in-process kfake broker, including the
// flush, reported as records/s.
func BenchmarkProduce(b *testing.B) {
	br := startBroker(b, 6)
	p, err := events.NewProducer(events.ProducerConfig{Brokers: br.Addrs(), Topic: testTopic, MaxBuffered: 1 << 20, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(time.Second)
	docs := make([]string, 1000)
	for i := range docs {
		docs[i] = fmt.Sprintf("doc-%04d", i)
	}
	at := time.Now()
	start := time.Now()
	for i := range b.N {
		p.Publish(events.Access{DocumentID: docs[i%len(docs)], Kind: "view", Bytes: 10240, At: at})
	}
	if err := p.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkConsume: the consumer helper reading b.N records (6 partitions,
// produced beforehand) into a handler that only counts, reported as records/s.
func BenchmarkConsume(b *testing.B) {
	br := startBroker(b, 6)
	p, err := events.NewProducer(events.ProducerConfig{Brokers: br.Addrs(), Topic: testTopic, MaxBuffered: 1 << 20, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	at := time.Now()
	for i := range b.N {
		p.Publish(events.Access{DocumentID: fmt.Sprintf("doc-%d", i%1000), Kind: "view", At: at})
	}
	p.Close(time.Minute)
	var n atomic.Int64
	done := make(chan struct{})
	b.ResetTimer()
	start := time.Now()
	stop := runConsumer(b, events.ConsumerConfig{Brokers: br.Addrs(), Topic: testTopic, Group: newGroup(), Logger: quiet,
		SessionTimeout: time.Second, MaxBatch: 5000,
		Handler: func(_ context.Context, _ int32, recs []events.Record) error {
			if n.Add(int64(len(recs))) == int64(b.N) {
				close(done)
			}
			return nil
		}})
	<-done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
	b.StopTimer()
	stop()
}

// BenchmarkRebalance: how long a member joining a group of one waits for
// its first partitions, per balancer (ms/join).
func BenchmarkRebalance(b *testing.B) {
	for _, bal := range []struct {
		name string
		mk   func() kgo.GroupBalancer
	}{
		{"eager-range", kgo.RangeBalancer},
		{"cooperative-sticky", kgo.CooperativeStickyBalancer},
	} {
		b.Run(bal.name, func(b *testing.B) {
			br := startBroker(b, 6)
			var total time.Duration
			for range b.N {
				group := newGroup()
				cfg := func(assigned chan struct{}) events.ConsumerConfig {
					var once atomic.Bool
					return events.ConsumerConfig{Brokers: br.Addrs(), Topic: testTopic, Group: group, Logger: quiet,
						SessionTimeout: time.Second, Balancer: bal.mk(),
						Handler: func(context.Context, int32, []events.Record) error { return nil },
						OnAssigned: func(context.Context, []int32) {
							if once.CompareAndSwap(false, true) {
								close(assigned)
							}
						}}
				}
				first := make(chan struct{})
				stopA := runConsumer(b, cfg(first))
				<-first
				second := make(chan struct{})
				start := time.Now()
				stopB := runConsumer(b, cfg(second))
				<-second
				total += time.Since(start)
				stopB()
				stopA()
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/join")
		})
	}
}
