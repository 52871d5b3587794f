package hotspot

// window is a ring of Slices+1 summaries, one per slice of time. The
// current slice is partly elapsed, so the window [now-Window, now] also
// covers the part of the oldest slice that has not yet slid out; that slice
// is kept and weighted by the fraction still inside (the sliding-window
// counter approximation, which assumes events spread evenly over a slice).
// Without it, each rotation would drop a whole slice at once and a steady
// rate would read as a saw-tooth.
//
// Times are Unix nanoseconds.
type window struct {
	ring     []*summary
	cur      int   // index in ring of the current slice
	curStart int64 // start of the current slice
	sliceLen int64
	started  bool
	late     uint64 // events older than the window, dropped
}

func newWindow(slices int, sliceLen int64, capacity int) window {
	ring := make([]*summary, slices+1)
	for i := range ring {
		ring[i] = newSummary(capacity)
	}
	return window{ring: ring, sliceLen: sliceLen}
}

// floorSlice is the start of the slice holding t.
func (w *window) floorSlice(t int64) int64 {
	q := t / w.sliceLen
	if t%w.sliceLen < 0 {
		q--
	}
	return q * w.sliceLen
}

// rotateTo makes the slice holding now the current one. Time never moves
// back: an earlier now leaves the window as it is.
func (w *window) rotateTo(now int64) {
	if !w.started {
		w.curStart = w.floorSlice(now)
		w.started = true
		return
	}
	if now < w.curStart+w.sliceLen {
		return
	}
	steps := (now - w.curStart) / w.sliceLen
	if steps >= int64(len(w.ring)) {
		// Every slice is outside the window: a gap in the stream.
		for _, s := range w.ring {
			s.reset()
		}
	} else {
		for range steps {
			w.cur = (w.cur + 1) % len(w.ring)
			w.ring[w.cur].reset()
		}
	}
	w.curStart += steps * w.sliceLen
}

// add counts n occurrences of id at time at. An event later than the
// current slice is counted in it (only rotateTo moves time, so that one
// producer's skewed clock cannot empty the window); an earlier one goes to
// the slice it belongs to, or is dropped when that slice has slid out.
func (w *window) add(id string, n uint64, at int64) {
	if !w.started {
		w.rotateTo(at)
	}
	slot := w.cur
	if at < w.curStart {
		back := (w.curStart - at + w.sliceLen - 1) / w.sliceLen
		if back >= int64(len(w.ring)) {
			w.late += n
			return
		}
		slot = (w.cur - int(back) + len(w.ring)) % len(w.ring)
	}
	w.ring[slot].add(id, n)
}

// oldestWeight is the fraction of the oldest slice still inside the window
// at time now.
func (w *window) oldestWeight(now int64) float64 {
	elapsed := now - w.curStart
	switch {
	case elapsed <= 0:
		return 1
	case elapsed >= w.sliceLen:
		return 0
	}
	return 1 - float64(elapsed)/float64(w.sliceLen)
}

// count is id's certain count over the window ending at now, the oldest
// slice weighted by its share inside the window.
func (w *window) count(id string, now int64) float64 {
	oldest := (w.cur + 1) % len(w.ring)
	var sum float64
	for i, s := range w.ring {
		lb := s.lowerBound(id)
		if lb == 0 {
			continue
		}
		if i == oldest {
			sum += w.oldestWeight(now) * float64(lb)
		} else {
			sum += float64(lb)
		}
	}
	return sum
}

// candidates calls fn for every tracked id whose certain count in some
// slice is at least min (an id may come more than once). An id whose count
// over the window reaches min*(Slices+1) is among them, so the caller need
// not sum every counter of every slice at each Advance.
func (w *window) candidates(min uint64, fn func(id string)) {
	for _, s := range w.ring {
		for j := range s.slots {
			if c := &s.slots[j]; c.count-c.err >= min {
				fn(c.id)
			}
		}
	}
}

// tracked is the number of counters in use across the ring.
func (w *window) tracked() int {
	n := 0
	for _, s := range w.ring {
		n += s.len()
	}
	return n
}

// capacity is the most counters the ring can hold.
func (w *window) capacity() int {
	n := 0
	for _, s := range w.ring {
		n += cap(s.slots)
	}
	return n
}

// removeIf stops tracking, in every slice, the ids for which drop is true,
// and records them in ids.
func (w *window) removeIf(drop func(id string) bool, ids map[string]struct{}) {
	for _, s := range w.ring {
		for j := range s.slots {
			if id := s.slots[j].id; drop(id) {
				ids[id] = struct{}{}
			}
		}
	}
	for _, s := range w.ring {
		for id := range ids {
			s.remove(id)
		}
	}
}
