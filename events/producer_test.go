package events_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"docplat/events"
	"docplat/internal/wait"
)

// TestPublishedEventsAreKeyedByDocument: every published event reaches the
// topic with its document id as the key, one document's events all on one
// partition and in publication order, and each is counted as produced.
func TestPublishedEventsAreKeyedByDocument(t *testing.T) {
	b := startBroker(t, 6)
	reg := prometheus.NewRegistry()
	p, err := events.NewProducer(events.ProducerConfig{Brokers: b.Addrs(), Topic: testTopic, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	const docs, each = 8, 25
	for i := range each {
		for d := range docs {
			p.Publish(events.Access{DocumentID: fmt.Sprintf("doc-%d", d), Kind: "view", Bytes: int64(i), Count: int64(i % 3)})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close(time.Second)

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...), kgo.ConsumeTopics(testTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	partOf := map[string]int32{}
	nextBytes := map[string]int64{}
	for n := 0; n < docs*each; {
		f := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", n, docs*each, err)
		}
		f.EachRecord(func(r *kgo.Record) {
			n++
			a, err := events.Decode(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Key) != a.DocumentID {
				t.Fatalf("record key %q, document %q", r.Key, a.DocumentID)
			}
			if p, ok := partOf[a.DocumentID]; ok && p != r.Partition {
				t.Fatalf("%s on partitions %d and %d", a.DocumentID, p, r.Partition)
			}
			partOf[a.DocumentID] = r.Partition
			if a.Bytes != nextBytes[a.DocumentID] || a.Count != a.Bytes%3 {
				t.Fatalf("%s: event %+v out of order or altered, want bytes %d", a.DocumentID, a, nextBytes[a.DocumentID])
			}
			nextBytes[a.DocumentID]++
		})
	}
	if len(partOf) != docs {
		t.Fatalf("saw %d documents, want %d", len(partOf), docs)
	}
	if got := metric(t, reg, "docplat_access_events_produced_total", ""); got != docs*each {
		t.Fatalf("produced counter %v, want %d", got, docs*each)
	}
}

// TestPublishNeverBlocksWithoutBroker: with the broker unreachable from the
// start, or stopped after a first event went through, 100,000 Publish calls
// return (the test finishes) and the events beyond the buffer are counted
// as dropped.
func TestPublishNeverBlocksWithoutBroker(t *testing.T) {
	cases := []struct {
		name   string
		broker func(t *testing.T) (addrs []string, stop func())
	}{
		{"unreachable", func(t *testing.T) ([]string, func()) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close() // nothing listens there any more
			return []string{addr}, func() {}
		}},
		{"stopped", func(t *testing.T) ([]string, func()) {
			b := startBroker(t, 3)
			return b.Addrs(), b.Close
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addrs, stop := tc.broker(t)
			reg := prometheus.NewRegistry()
			const buffered = 1000
			p, err := events.NewProducer(events.ProducerConfig{Brokers: addrs, Topic: testTopic, MaxBuffered: buffered, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					p.Close(10 * time.Millisecond)
				}
			}()
			initial := 0 // events delivered before the broker stops
			if tc.name == "stopped" {
				initial = 1
				p.Publish(events.Access{DocumentID: "first"})
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := p.Flush(ctx)
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				stop()
			}
			const calls = 100_000
			for i := range calls {
				p.Publish(events.Access{DocumentID: fmt.Sprintf("doc-%d", i%100), Kind: "view"})
			}
			// The buffer refused what did not fit: the loop did not queue
			// 100,000 events (how many slots turned over while it ran, as
			// records failed, depends on the machine's load, so it is not
			// asserted).
			if full := metric(t, reg, "docplat_access_events_dropped_total", events.DropBufferFull); full == 0 {
				t.Fatalf("no event dropped for a full buffer after %d calls with a %d-record buffer", calls, buffered)
			}
			// And every event is accounted for: with no broker none is
			// delivered, so each one is dropped and counted, none lost
			// silently (what the buffer still holds is dropped at Close).
			p.Close(10 * time.Millisecond)
			closed = true
			dropped := func() float64 {
				var n float64
				for _, r := range []string{events.DropBufferFull, events.DropUndelivered, events.DropEncode, events.DropClosed} {
					n += metric(t, reg, "docplat_access_events_dropped_total", r)
				}
				return n
			}
			wait.For(t, 20*time.Second, "every event dropped and counted", func() bool { return dropped() == calls })
			if got := metric(t, reg, "docplat_access_events_produced_total", ""); got > float64(initial) {
				t.Fatalf("%v events produced with no broker, want at most %d", got, initial)
			}
		})
	}
}

// metric is a registered counter's value (with the given reason label, if any).
func metric(t *testing.T, reg *prometheus.Registry, name, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := reason == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					match = true
				}
			}
			if match {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no metric %s{reason=%q}", name, reason)
	return 0
}
