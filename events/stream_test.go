package events_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"docplat/events"
)

// TestStreamWithoutBrokersRunsTheDevelopmentBroker: with no brokers the
// stream starts the development broker, with its log in DevBroker.DataDir,
// and a read handed to Reads reaches the topic once Close flushes it.
func TestStreamWithoutBrokersRunsTheDevelopmentBroker(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kafka")
	s, err := events.OpenStream(context.Background(), events.StreamConfig{Topic: testTopic,
		DevBroker: events.BrokerConfig{Partitions: 2, DataDir: dir}, Reads: events.AggregatorConfig{Window: time.Hour, BurstCount: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Brokers) != 1 || s.Topic != testTopic {
		t.Fatalf("brokers %v topic %q, want the development broker and %q", s.Brokers, s.Topic, testTopic)
	}
	brokers := s.Brokers
	s.Reads.Publish(events.Access{DocumentID: "doc-1", Kind: "view", Count: 3})

	// Read the topic while the broker still runs: Close flushes the
	// aggregator and the producer before it stops the broker.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(testTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := make(chan events.Access, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for ctx.Err() == nil {
			f := cl.PollFetches(ctx)
			f.EachRecord(func(r *kgo.Record) {
				if a, err := events.Decode(r.Value); err == nil {
					got <- a
				}
			})
			if len(got) > 0 {
				return
			}
		}
		close(got)
	}()
	time.Sleep(100 * time.Millisecond) // the window is an hour: only Flush publishes
	if len(got) != 0 {
		t.Fatal("a read was published before the window ended or the stream closed")
	}
	s.Reads.Flush()
	a, ok := <-got
	s.Close()
	if !ok || a.DocumentID != "doc-1" || a.Count != 3 {
		t.Fatalf("topic holds %+v (ok %v), want doc-1 read 3 times", a, ok)
	}
}

// TestStreamConfigValidation: brokers are checked by the stream, the
// development broker and the aggregation by their own Validate.
func TestStreamConfigValidation(t *testing.T) {
	if err := (events.StreamConfig{Brokers: []string{"no-port"}}).Validate(); err == nil {
		t.Fatal("a broker without a port was accepted")
	}
	if err := (events.StreamConfig{Brokers: []string{"127.0.0.1:9092"}}).Validate(); err != nil {
		t.Fatal(err)
	}
}
