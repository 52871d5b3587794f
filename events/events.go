// Package events carries access events (a document was viewed or
// downloaded) from the request path to their consumers. Log is the
// in-process stand-in for a Kafka partition: an append-only sequence with
// offsets that consumers read from and commit themselves. It never blocks
// or fails a request: when full, the oldest records are overwritten and a
// consumer that fell behind skips them (counted).
package events

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// Access is one read of a document.
type Access struct {
	DocumentID string    `json:"document_id"`
	Kind       string    `json:"kind"` // view | download
	Bytes      int64     `json:"bytes"`
	At         time.Time `json:"at"`
	Instance   string    `json:"instance,omitempty"`
}

// Record is an Access at an offset.
type Record struct {
	Offset int64
	Access Access
}

// Log is a bounded in-memory log of accesses.
type Log struct {
	id      string
	mu      sync.Mutex
	cond    *sync.Cond
	buf     []Access
	next    int64 // offset of the next append
	dropped int64
}

// NewLog keeps the last capacity records.
func NewLog(capacity int) *Log {
	var b [8]byte
	_, _ = rand.Read(b[:])
	l := &Log{buf: make([]Access, capacity), id: hex.EncodeToString(b[:])}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// ID names this log: offsets restart at 0 with every process, so a
// consumer keeps its position per log, not across logs.
func (l *Log) ID() string { return l.id }

// Append adds a record; it never blocks.
func (l *Log) Append(a Access) {
	l.mu.Lock()
	l.buf[l.next%int64(len(l.buf))] = a
	l.next++
	l.mu.Unlock()
	l.cond.Broadcast()
}

// Read returns up to max records from offset on, and the offset to read
// next. Records already overwritten are skipped (and reported as lost).
func (l *Log) Read(from int64, max int) (recs []Record, next int64, lost int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	oldest := max64(0, l.next-int64(len(l.buf)))
	if from < oldest {
		lost = oldest - from
		from = oldest
	}
	for o := from; o < l.next && len(recs) < max; o++ {
		recs = append(recs, Record{Offset: o, Access: l.buf[o%int64(len(l.buf))]})
	}
	return recs, from + int64(len(recs)), lost
}

// Wait blocks until a record at or after offset exists or timeout passes.
func (l *Log) Wait(offset int64, timeout time.Duration) {
	done := make(chan struct{})
	// done closes under the lock, so a waiter cannot miss the timeout's
	// broadcast between checking done and sleeping.
	t := time.AfterFunc(timeout, func() {
		l.mu.Lock()
		close(done)
		l.mu.Unlock()
		l.cond.Broadcast()
	})
	defer t.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.next <= offset {
		select {
		case <-done:
			return
		default:
		}
		l.cond.Wait()
	}
}

// End is the offset of the next append.
func (l *Log) End() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
