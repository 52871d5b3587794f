package events_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"docplat/events"
)

const testTopic = "docplat.access.test"

// startBroker runs an in-memory kfake broker with the test topic.
func startBroker(t testing.TB, partitions int) *events.Broker {
	t.Helper()
	b, err := events.StartBroker(context.Background(), events.BrokerConfig{Topic: testTopic, Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

var groupSeq atomic.Int64

func newGroup() string { return fmt.Sprintf("test-group-%d", groupSeq.Add(1)) }

// produceTo writes n accesses to partition p (documents doc-<p>-<i>).
func produceTo(t testing.TB, brokers []string, p int32, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(testTopic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		v, _ := events.Encode(events.Access{DocumentID: fmt.Sprintf("doc-%d-%d", p, i), Kind: "view", At: time.Unix(1_700_000_000, 0)})
		recs[i] = &kgo.Record{Partition: p, Value: v}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// committed reads the group's committed offsets of the test topic.
func committed(t testing.TB, brokers []string, group string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = testTopic
	for p := range int32(16) {
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			if p.Offset >= 0 {
				out[p.Partition] = p.Offset
			}
		}
	}
	return out
}

// runConsumer runs c until the returned stop is called (also at cleanup).
func runConsumer(t testing.TB, cfg events.ConsumerConfig) (stop func()) {
	t.Helper()
	c, err := events.NewConsumer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("consumer did not stop within 15s")
		}
	}
	t.Cleanup(stop)
	return stop
}
