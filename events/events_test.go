package events

import (
	"testing"
	"time"
)

func TestLogReadsInOrderAndSkipsOverwritten(t *testing.T) {
	l := NewLog(4)
	for i := range 6 {
		l.Append(Access{DocumentID: string(rune('a' + i))})
	}
	cases := []struct {
		from, max       int64
		wantFirst, next int64
		lost            int64
	}{
		{0, 10, 2, 6, 2}, // offsets 0 and 1 were overwritten
		{3, 2, 3, 5, 0},
		{6, 10, -1, 6, 0}, // nothing new yet
	}
	for _, tc := range cases {
		recs, next, lost := l.Read(tc.from, int(tc.max))
		if next != tc.next || lost != tc.lost || (tc.wantFirst >= 0 && (len(recs) == 0 || recs[0].Offset != tc.wantFirst)) {
			t.Fatalf("Read(%d,%d) = %v next %d lost %d", tc.from, tc.max, recs, next, lost)
		}
	}
	start := time.Now()
	l.Wait(6, 30*time.Millisecond)
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("Wait returned before a record or the timeout")
	}
	go l.Append(Access{})
	l.Wait(6, 5*time.Second)
	if l.End() != 7 {
		t.Fatalf("End = %d", l.End())
	}
}
