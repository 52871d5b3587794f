package events_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"docplat/events"
	"docplat/internal/wait"
)

// TestConsumerBatchesPerPartitionAndCommitsAfterHandler: every handler call
// holds records of one partition in offset order; a refused batch is
// redelivered from its first record and its partition's offset is not
// committed while the handler refuses; in the end every record was
// accepted exactly once and the committed offsets are the partitions' ends.
func TestConsumerBatchesPerPartitionAndCommitsAfterHandler(t *testing.T) {
	b := startBroker(t, 3)
	perPart := map[int32]int{0: 40, 1: 25, 2: 60}
	for p, n := range perPart {
		produceTo(t, b.Addrs(), p, n)
	}
	group := newGroup()
	var mu sync.Mutex
	refuse1 := true                   // partition 1 is refused until this turns false
	refusedFirst := map[int32]int64{} // first offset of each refused batch
	refusals := 0
	accepted := map[int32][]int64{}
	var problems []string
	handler := func(_ context.Context, part int32, recs []events.Record) error {
		mu.Lock()
		defer mu.Unlock()
		for i, r := range recs {
			if r.Partition != part || (i > 0 && r.Offset != recs[i-1].Offset+1) {
				problems = append(problems, "batch mixes partitions or skips offsets")
			}
		}
		if part == 1 && refuse1 {
			if f, ok := refusedFirst[1]; ok && f != recs[0].Offset {
				problems = append(problems, "a refused batch was redelivered from another offset")
			}
			refusedFirst[1] = recs[0].Offset
			refusals++
			return errors.New("refused")
		}
		for _, r := range recs {
			accepted[part] = append(accepted[part], r.Offset)
		}
		return nil
	}
	runConsumer(t, events.ConsumerConfig{Brokers: b.Addrs(), Topic: testTopic, Group: group, Handler: handler,
		MaxBatch: 16, SessionTimeout: time.Second, RetryBackoff: 20 * time.Millisecond})

	wait.For(t, 20*time.Second, "partitions 0 and 2 to be committed", func() bool {
		c := committed(t, b.Addrs(), group)
		return c[0] == 40 && c[2] == 60
	})
	wait.For(t, 20*time.Second, "partition 1's refused batch to be redelivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return refusals >= 3
	})
	if c, ok := committed(t, b.Addrs(), group)[1]; ok {
		t.Fatalf("partition 1 committed at %d while its handler refused every batch", c)
	}
	mu.Lock()
	refuse1 = false
	mu.Unlock()
	wait.For(t, 20*time.Second, "partition 1 to be committed once accepted", func() bool { return committed(t, b.Addrs(), group)[1] == 25 })

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if refusedFirst[1] != 0 {
		t.Fatalf("refused batch started at %d, want 0", refusedFirst[1])
	}
	for p, n := range perPart {
		want := make([]int64, n)
		for i := range want {
			want[i] = int64(i)
		}
		if !slices.Equal(accepted[p], want) {
			t.Errorf("partition %d accepted offsets %v, want 0..%d once each", p, accepted[p], n-1)
		}
	}
}

// members records which partitions a consumer holds, from its callbacks.
type members struct {
	mu   sync.Mutex
	held map[string]map[int32]bool
	log  []string
}

func (m *members) callbacks(name string) (assigned, revoked func(context.Context, []int32)) {
	m.mu.Lock()
	m.held[name] = map[int32]bool{}
	m.mu.Unlock()
	return func(_ context.Context, ps []int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range ps {
				m.held[name][p] = true
			}
			m.log = append(m.log, name+" assigned")
		}, func(_ context.Context, ps []int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range ps {
				delete(m.held[name], p)
			}
			m.log = append(m.log, name+" revoked")
		}
}

func (m *members) count(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.held[name])
}

// TestConsumerCallbacksWhenMembersJoinAndLeave: a lone member is assigned
// all 6 partitions; when a second joins, the first's revoke and both
// assigns fire and the partitions are split between them without overlap;
// when the second leaves, its revoke fires and the first holds all 6 again.
func TestConsumerCallbacksWhenMembersJoinAndLeave(t *testing.T) {
	b := startBroker(t, 6)
	group := newGroup()
	m := &members{held: map[string]map[int32]bool{}}
	cfg := func(name string) events.ConsumerConfig {
		as, rv := m.callbacks(name)
		return events.ConsumerConfig{Brokers: b.Addrs(), Topic: testTopic, Group: group, SessionTimeout: time.Second,
			Handler: func(context.Context, int32, []events.Record) error { return nil }, OnAssigned: as, OnRevoked: rv}
	}
	runConsumer(t, cfg("a"))
	wait.For(t, 20*time.Second, "a to hold all 6 partitions", func() bool { return m.count("a") == 6 })

	stopB := runConsumer(t, cfg("b"))
	wait.For(t, 20*time.Second, "a and b to split the 6 partitions", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.held["a"]) == 0 || len(m.held["b"]) == 0 || len(m.held["a"])+len(m.held["b"]) != 6 {
			return false
		}
		for p := range m.held["a"] {
			if m.held["b"][p] {
				return false
			}
		}
		return true
	})
	m.mu.Lock()
	if !slices.Contains(m.log, "a revoked") {
		t.Errorf("a's revoke callback did not fire when b joined: %v", m.log)
	}
	m.mu.Unlock()

	stopB()
	wait.For(t, 20*time.Second, "a to hold all 6 partitions again after b left", func() bool { return m.count("a") == 6 && m.count("b") == 0 })
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Contains(m.log, "b revoked") {
		t.Errorf("b's revoke callback did not fire when it left: %v", m.log)
	}
}
