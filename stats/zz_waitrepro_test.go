package stats_test

import (
	"testing"
	"time"

	"docplat/events"
)

func TestZZWaitRepro(t *testing.T) {
	l := events.NewLog(10)
	done := make(chan int)
	go func() {
		for i := 0; i < 20000; i++ {
			l.Wait(0, 10*time.Microsecond)
		}
		done <- 0
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("hung")
	}
}
