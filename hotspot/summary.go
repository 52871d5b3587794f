package hotspot

import "strings"

// summary is one Space-Saving stream summary (Metwally, Agrawal, El Abbadi,
// 2005) with weighted increments. It holds at most a fixed number of
// counters; an id that is not tracked takes over the counter with the
// smallest count and inherits that count as its possible overestimate.
//
// The classic stream-summary structure gives O(1) updates only for
// increments of one; events here carry a count (nginx aggregates hits), so
// the counters sit in a binary min-heap instead: O(log capacity) per update,
// a few hundred nanoseconds at the capacities used here.
//
// For every tracked id: count - err <= true count <= count, and err is at
// most the smallest count, which is at most total/capacity. An untracked id
// has a true count of at most the smallest count.
type summary struct {
	index map[string]int32 // id -> slot
	slots []counter        // dense; len is the number of tracked ids
	heap  []int32          // slots ordered as a min-heap on count
	total uint64           // sum of every n added since the last reset
}

type counter struct {
	id    string
	count uint64 // upper bound of the id's true count
	err   uint64 // count - err is a lower bound of the id's true count
	pos   int32  // position of this slot in heap
}

func newSummary(capacity int) *summary {
	return &summary{
		index: make(map[string]int32, capacity),
		slots: make([]counter, 0, capacity),
		heap:  make([]int32, 0, capacity),
	}
}

// add counts n occurrences of id.
func (s *summary) add(id string, n uint64) {
	s.total += n
	if slot, ok := s.index[id]; ok {
		c := &s.slots[slot]
		c.count += n
		s.down(int(c.pos))
		return
	}
	// The id is kept beyond this call, so it must not pin the caller's
	// buffer (a Kafka record, a request line): copy it.
	id = strings.Clone(id)
	if len(s.slots) < cap(s.slots) {
		slot := int32(len(s.slots))
		pos := int32(len(s.heap))
		s.slots = append(s.slots, counter{id: id, count: n, pos: pos})
		s.heap = append(s.heap, slot)
		s.index[id] = slot
		s.up(int(pos))
		return
	}
	slot := s.heap[0]
	c := &s.slots[slot]
	delete(s.index, c.id)
	c.id = id
	c.err = c.count
	c.count += n
	s.index[id] = slot
	s.down(0)
}

// lowerBound returns a count that id certainly reached: count - err when it
// is tracked, zero otherwise.
func (s *summary) lowerBound(id string) uint64 {
	if slot, ok := s.index[id]; ok {
		c := &s.slots[slot]
		return c.count - c.err
	}
	return 0
}

// min is the smallest tracked count: the largest count an untracked id may
// have, and the largest overestimate of a tracked one. Zero while the
// summary has room.
func (s *summary) min() uint64 {
	if len(s.slots) < cap(s.slots) || len(s.heap) == 0 {
		return 0
	}
	return s.slots[s.heap[0]].count
}

// len is the number of tracked ids.
func (s *summary) len() int { return len(s.slots) }

// remove stops tracking id, if it is tracked.
func (s *summary) remove(id string) {
	slot, ok := s.index[id]
	if !ok {
		return
	}
	delete(s.index, id)
	// Take the slot out of the heap: the last element fills its place.
	pos := int(s.slots[slot].pos)
	last := len(s.heap) - 1
	if pos != last {
		s.swap(pos, last)
	}
	s.heap = s.heap[:last]
	if pos < last {
		s.down(pos)
		s.up(pos)
	}
	// Keep slots dense: the last slot moves into the freed one.
	lastSlot := int32(len(s.slots) - 1)
	if slot != lastSlot {
		s.slots[slot] = s.slots[lastSlot]
		s.index[s.slots[slot].id] = slot
		s.heap[s.slots[slot].pos] = slot
	}
	s.slots[lastSlot] = counter{}
	s.slots = s.slots[:lastSlot]
}

// reset empties the summary, keeping its memory for the next slice.
func (s *summary) reset() {
	clear(s.index)
	clear(s.slots) // drop the id strings
	s.slots = s.slots[:0]
	s.heap = s.heap[:0]
	s.total = 0
}

func (s *summary) less(i, j int) bool {
	return s.slots[s.heap[i]].count < s.slots[s.heap[j]].count
}

func (s *summary) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.slots[s.heap[i]].pos = int32(i)
	s.slots[s.heap[j]].pos = int32(j)
}

func (s *summary) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			return
		}
		s.swap(i, parent)
		i = parent
	}
}

func (s *summary) down(i int) {
	n := len(s.heap)
	for {
		smallest := i
		if l := 2*i + 1; l < n && s.less(l, smallest) {
			smallest = l
		}
		if r := 2*i + 2; r < n && s.less(r, smallest) {
			smallest = r
		}
		if smallest == i {
			return
		}
		s.swap(i, smallest)
		i = smallest
	}
}
