package hotspot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"docplat/events"
	"docplat/redisembed"
)

func newHotSet(t *testing.T) *HotSet {
	t.Helper()
	srv, err := redisembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	return NewHotSet(rdb, "test:hot")
}

// fakeEdge enforces the nginx admin API's fence: a push older than the
// entry or than a purge's tombstone is refused.
type fakeEdge struct {
	name       string
	mu         sync.Mutex
	held       map[string]int
	tombstones map[string]int
	purges     []string
	failPurge  error
}

func newEdge(name string) *fakeEdge {
	return &fakeEdge{name: name, held: map[string]int{}, tombstones: map[string]int{}}
}

func (e *fakeEdge) Name() string { return e.name }

func (e *fakeEdge) Push(_ context.Context, c Content) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.held[c.ID] > c.Rev || e.tombstones[c.ID] > c.Rev {
		return ErrStale
	}
	e.held[c.ID] = c.Rev
	return nil
}

func (e *fakeEdge) Purge(_ context.Context, id string, rev int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failPurge != nil {
		return e.failPurge
	}
	e.purges = append(e.purges, id)
	e.tombstones[id] = max(e.tombstones[id], rev)
	if held, ok := e.held[id]; ok && held <= rev {
		delete(e.held, id)
	}
	return nil
}

func (e *fakeEdge) List(context.Context) ([]EdgeEntry, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []EdgeEntry
	for id, rev := range e.held {
		out = append(out, EdgeEntry{ID: id, Rev: rev})
	}
	return out, nil
}

func (e *fakeEdge) holds() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for k, v := range e.held {
		out[k] = v
	}
	return out
}

// fakeSource is the documents' source of truth; beforeReturn runs between
// reading a document and handing it to the promoter (a write racing it).
type fakeSource struct {
	mu           sync.Mutex
	revs         map[string]int
	beforeReturn func(id string)
	contentReads int
}

func (s *fakeSource) HotRevision(_ context.Context, id string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rev, ok := s.revs[id]
	if !ok {
		return 0, ErrNotPromotable
	}
	return rev, nil
}

func (s *fakeSource) reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contentReads
}

func (s *fakeSource) HotContent(_ context.Context, id string) (Content, error) {
	s.mu.Lock()
	rev, ok := s.revs[id]
	hook := s.beforeReturn
	s.contentReads++
	s.mu.Unlock()
	if !ok {
		return Content{}, ErrNotPromotable
	}
	if hook != nil {
		hook(id)
	}
	return Content{ID: id, Rev: rev, Body: []byte(fmt.Sprintf("%s@%d", id, rev))}, nil
}

func (s *fakeSource) set(id string, rev int) {
	s.mu.Lock()
	s.revs[id] = rev
	s.mu.Unlock()
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestPromoterMakesEveryEdgeHoldExactlyTheHotSet(t *testing.T) {
	ctx := context.Background()
	hs := newHotSet(t)
	src := &fakeSource{revs: map[string]int{"A": 3, "B": 1, "C": 1}}
	e1, e2 := newEdge("e1"), newEdge("e2")
	e1.held["A"], e1.held["C"] = 2, 1 // A stale, C no longer hot
	p := NewPromoter(PromoterConfig{HotSet: hs, Edges: []Edge{e1, e2}, Source: src, Logger: quietLogger()})
	lease := time.Now().Add(time.Minute)
	if err := hs.Put(ctx, []Entry{{ID: "A", LeaseUntil: lease}, {ID: "B", LeaseUntil: lease}, {ID: "D", LeaseUntil: lease}}, nil); err != nil {
		t.Fatal(err)
	}
	p.Reconcile(ctx)
	want := map[string]int{"A": 3, "B": 1}
	for _, e := range []*fakeEdge{e1, e2} {
		if got := e.holds(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s holds %v, want %v", e.name, got, want)
		}
	}
	entries, _ := hs.List(ctx)
	for _, e := range entries {
		if e.ID == "D" {
			t.Errorf("D cannot be promoted (deleted) but stays in the hot set")
		}
	}
}

// TestPromoterReadsBytesOnlyForAnEdgeThatNeedsThem: once every edge holds
// the current revision, reconcile rounds read revisions, not blobs; a new
// revision is read once and pushed to every edge; a deleted document leaves
// the hot set without its bytes being read.
func TestPromoterReadsBytesOnlyForAnEdgeThatNeedsThem(t *testing.T) {
	ctx := context.Background()
	hs := newHotSet(t)
	src := &fakeSource{revs: map[string]int{"A": 1, "B": 1}}
	e1, e2 := newEdge("e1"), newEdge("e2")
	p := NewPromoter(PromoterConfig{HotSet: hs, Edges: []Edge{e1, e2}, Source: src, Logger: quietLogger()})
	lease := time.Now().Add(time.Minute)
	if err := hs.Put(ctx, []Entry{{ID: "A", LeaseUntil: lease}, {ID: "B", LeaseUntil: lease}}, nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name      string
		change    func()
		wantReads int // content reads in this round
		wantHeld  map[string]int
	}{
		{"first round pushes both", func() {}, 2, map[string]int{"A": 1, "B": 1}},
		{"nothing changed", func() {}, 0, map[string]int{"A": 1, "B": 1}},
		{"A written", func() { src.set("A", 2) }, 1, map[string]int{"A": 2, "B": 1}},
		{"one edge lost A", func() { e2.mu.Lock(); delete(e2.held, "A"); e2.mu.Unlock() }, 1, map[string]int{"A": 2, "B": 1}},
		{"B deleted", func() { src.mu.Lock(); delete(src.revs, "B"); src.mu.Unlock() }, 0, map[string]int{"A": 2, "B": 1}},
		{"B purged next round", func() {}, 0, map[string]int{"A": 2}},
	}
	for _, st := range steps {
		st.change()
		before := src.reads()
		p.Reconcile(ctx)
		if got := src.reads() - before; got != st.wantReads {
			t.Errorf("%s: %d content reads, want %d", st.name, got, st.wantReads)
		}
		for _, e := range []*fakeEdge{e1, e2} {
			if got := e.holds(); fmt.Sprint(got) != fmt.Sprint(st.wantHeld) {
				t.Errorf("%s: %s holds %v, want %v", st.name, e.name, got, st.wantHeld)
			}
		}
	}
}

// TestDemotedDocumentComesBackAtOnce: a document that cools (a lecture's
// break) and heats up again is pushed again at the same revision; the
// demotion's purge must not fence it out.
func TestDemotedDocumentComesBackAtOnce(t *testing.T) {
	ctx := context.Background()
	hs := newHotSet(t)
	src := &fakeSource{revs: map[string]int{"A": 4}}
	edge := newEdge("e1")
	p := NewPromoter(PromoterConfig{HotSet: hs, Edges: []Edge{edge}, Source: src, Logger: quietLogger()})
	hot := []Entry{{ID: "A", LeaseUntil: time.Now().Add(time.Minute)}}
	steps := []struct {
		name   string
		change func() error
		want   map[string]int
	}{
		{"promoted", func() error { return hs.Put(ctx, hot, []string{"A"}) }, map[string]int{"A": 4}},
		{"demoted", func() error { return hs.Remove(ctx, "A") }, map[string]int{}},
		{"promoted again", func() error { return hs.Put(ctx, hot, []string{"A"}) }, map[string]int{"A": 4}},
	}
	for _, st := range steps {
		if err := st.change(); err != nil {
			t.Fatal(err)
		}
		p.Reconcile(ctx)
		if got := edge.holds(); fmt.Sprint(got) != fmt.Sprint(st.want) {
			t.Fatalf("%s: edge holds %v, want %v", st.name, got, st.want)
		}
	}
}

// TestStalePushNeverWinsOverAWrite replays the race the promoter's comment
// argues about: a write commits between the promoter's read and its push.
func TestStalePushNeverWinsOverAWrite(t *testing.T) {
	ctx := context.Background()
	hs := newHotSet(t)
	edge := newEdge("e")
	src := &fakeSource{revs: map[string]int{"A": 1}}
	purger := EdgePurger{HotSet: hs, Edges: []Edge{edge}}
	src.beforeReturn = func(id string) {
		src.beforeReturn = nil
		// The writer commits revision 2 and, seeing A hot, purges with it.
		src.revs["A"] = 2
		if err := purger.Purge(ctx, id, 2); err != nil {
			t.Error(err)
		}
	}
	if err := hs.Put(ctx, []Entry{{ID: "A", LeaseUntil: time.Now().Add(time.Minute)}}, []string{"A"}); err != nil {
		t.Fatal(err)
	}
	p := NewPromoter(PromoterConfig{HotSet: hs, Edges: []Edge{edge}, Source: src, Logger: quietLogger()})
	p.Reconcile(ctx)
	if got := edge.holds(); len(got) != 0 {
		t.Fatalf("the edge took the stale revision: %v", got)
	}
	p.Reconcile(ctx)
	if got := edge.holds(); got["A"] != 2 {
		t.Fatalf("the next round did not push the new revision: %v", got)
	}
}

func TestEdgePurgerPurgesHotDocumentsOnly(t *testing.T) {
	ctx := context.Background()
	hs := newHotSet(t)
	_ = hs.Put(ctx, []Entry{{ID: "hot", LeaseUntil: time.Now().Add(time.Minute)}}, nil)
	cases := []struct {
		name      string
		id        string
		failPurge error
		wantErr   bool
		purged    bool
	}{
		{"cold document: no call", "cold", nil, false, false},
		{"hot document: purged", "hot", nil, false, true},
		{"edge refusing connections is down: skipped", "hot", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false, false},
		{"any other failure fails the write", "hot", errors.New("timeout"), true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			edge := newEdge("e")
			edge.failPurge = tc.failPurge
			err := EdgePurger{HotSet: hs, Edges: []Edge{edge}}.Purge(ctx, tc.id, 5)
			if (err != nil) != tc.wantErr || (len(edge.purges) == 1) != tc.purged {
				t.Fatalf("err %v, purges %v", err, edge.purges)
			}
		})
	}
}

// TestRunnerPromotesAndTheNextOwnerKeepsItHot: a detector promotes a
// bursting document into the shared hot set; when its partition moves to
// another detector, that one seeds from the hot set and keeps renewing it;
// an entry nobody renews is demoted when its lease ends.
func TestRunnerPromotesAndTheNextOwnerKeepsItHot(t *testing.T) {
	ctx := context.Background()
	hs := newHotSet(t)
	cfg := DefaultConfig()
	cfg.HotRate, cfg.CoolRate, cfg.MinHotDuration = 100, 50, 5*time.Second
	newRunner := func() *Runner {
		r, err := NewRunner(RunnerConfig{Detector: cfg, HotSet: hs, Lease: 3 * time.Second, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := newRunner()
	first.Assigned(ctx, []int32{0})
	now := time.Now()
	var recs []events.Record
	for i := range 50 {
		recs = append(recs, events.Record{Partition: 0, Offset: int64(i),
			Access: events.Access{DocumentID: "lecture", Kind: "view", At: now, Count: 10}})
	}
	if err := first.Handle(ctx, 0, recs); err != nil {
		t.Fatal(err)
	}
	if err := first.step(ctx, now, false); err != nil {
		t.Fatal(err)
	}
	entries, _ := hs.List(ctx)
	if len(entries) != 1 || entries[0].ID != "lecture" || entries[0].Partition != 0 {
		t.Fatalf("hot set after the burst: %+v", entries)
	}
	first.Revoked(ctx, []int32{0})

	second := newRunner()
	second.Assigned(ctx, []int32{0})
	if err := second.step(ctx, now.Add(500*time.Millisecond), true); err != nil {
		t.Fatal(err)
	}
	entries, _ = hs.List(ctx)
	if len(entries) != 1 || !entries[0].LeaseUntil.After(now.Add(3*time.Second)) {
		t.Fatalf("the new owner did not keep the document hot with a fresh lease: %+v", entries)
	}
	// Nobody owns partition 0 any more: the lease runs out and the entry goes.
	second.Revoked(ctx, []int32{0})
	second.expire(ctx, now.Add(10*time.Second))
	if entries, _ = hs.List(ctx); len(entries) != 0 {
		t.Fatalf("an entry nobody renews was kept: %+v", entries)
	}
	if len(second.parts) != 0 {
		t.Fatal("revoked partitions kept their detectors")
	}
}
