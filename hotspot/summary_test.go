package hotspot

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// checkHeap fails when the heap order or the slot/position links are broken.
func checkHeap(t *testing.T, s *summary) {
	t.Helper()
	if len(s.heap) != len(s.slots) || len(s.index) != len(s.slots) {
		t.Fatalf("heap %d, slots %d, index %d entries", len(s.heap), len(s.slots), len(s.index))
	}
	for pos, slot := range s.heap {
		if got := int(s.slots[slot].pos); got != pos {
			t.Fatalf("slot %d says position %d, is at %d", slot, got, pos)
		}
		if pos > 0 && s.less(pos, (pos-1)/2) {
			t.Fatalf("heap order broken at %d", pos)
		}
	}
	for id, slot := range s.index {
		if s.slots[slot].id != id {
			t.Fatalf("index maps %q to slot holding %q", id, s.slots[slot].id)
		}
	}
}

func TestSummaryBoundsAgainstExactCounts(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		ids      int
		events   int
		maxN     uint64
		zipf     float64
	}{
		{"roomy", 64, 50, 5000, 1, 1.1},
		{"tight zipf", 32, 10000, 20000, 1, 1.1},
		{"tight zipf weighted", 32, 10000, 20000, 7, 1.3},
		{"one counter", 1, 100, 1000, 3, 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			z := rand.NewZipf(r, tt.zipf, 1, uint64(tt.ids-1))
			s := newSummary(tt.capacity)
			exact := map[string]uint64{}
			var total uint64
			for range tt.events {
				id := strconv.FormatUint(z.Uint64(), 10)
				n := 1 + r.Uint64N(tt.maxN)
				s.add(id, n)
				exact[id] += n
				total += n
			}
			checkHeap(t, s)
			if s.total != total {
				t.Fatalf("total %d, want %d", s.total, total)
			}
			if s.len() > tt.capacity {
				t.Fatalf("tracks %d ids, capacity %d", s.len(), tt.capacity)
			}
			bound := total / uint64(tt.capacity)
			if s.min() > bound {
				t.Fatalf("min %d exceeds total/capacity %d", s.min(), bound)
			}
			for id, n := range exact {
				slot, tracked := s.index[id]
				if !tracked {
					if n > s.min() {
						t.Fatalf("%q counted %d > min %d but untracked", id, n, s.min())
					}
					continue
				}
				c := s.slots[slot]
				if lb := s.lowerBound(id); lb > n || c.count < n || c.err > s.min() {
					t.Fatalf("%q: exact %d, lower bound %d, count %d, err %d, min %d", id, n, lb, c.count, c.err, s.min())
				}
			}
		})
	}
}

func TestSummaryRemoveAndReset(t *testing.T) {
	s := newSummary(8)
	for i := range 8 {
		s.add(strconv.Itoa(i), uint64(i+1))
	}
	for _, id := range []string{"3", "0", "7", "missing", "3"} {
		s.remove(id)
		checkHeap(t, s)
		if s.lowerBound(id) != 0 {
			t.Fatalf("%q still counted after remove", id)
		}
	}
	if s.len() != 5 {
		t.Fatalf("len %d after removing 3, want 5", s.len())
	}
	if got := s.lowerBound("5"); got != 6 {
		t.Fatalf("untouched id 5 counts %d, want 6", got)
	}
	// Room again: a new id is inserted, not swapped with the minimum.
	s.add("new", 1)
	if got := s.lowerBound("new"); got != 1 {
		t.Fatalf("new id lower bound %d, want 1", got)
	}
	checkHeap(t, s)
	s.reset()
	checkHeap(t, s)
	if s.len() != 0 || s.total != 0 || s.lowerBound("5") != 0 {
		t.Fatal("reset left counts behind")
	}
}
