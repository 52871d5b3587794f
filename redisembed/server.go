// Package redisembed runs Redis-protocol servers inside the docplat process for
// the embedded mode: miniredis over loopback TCP, with keys expiring in real time.
//
// miniredis never expires keys on its own: TTLs only move when FastForward is
// called. Server runs a goroutine that, every tick, calls FastForward with the
// real (monotonic) time elapsed since the previous tick, so keys expire within
// about one tick of real time.
//
// Caveats of this design (miniredis v2.40.0):
//   - Expiry is quantised to the tick: a key set part-way through a tick
//     interval is charged the whole interval at the next tick, so it can expire
//     up to one tick EARLY (never meaningfully late, short of scheduling
//     delays). Lock TTLs used with this server should leave at least one tick
//     of margin (redsync's default drift of 1% of the expiry + 2ms covers the
//     default 50ms tick for expiries of ~5s and more).
//   - Each tick costs O(N log N) in the total number of keys N, not in the
//     number of keys with a TTL: miniredis' FastForward lists and sorts all
//     keys of every database, under the server lock. Measured (BenchmarkTickCost,
//     2-core AMD EPYC): ~4ms per tick at 20k keys (~8% of a 50ms tick, about
//     -15% SET+GET throughput) but ~70ms at 200k keys, which exceeds the
//     default tick and would keep the lock busy. Keep the embedded data set in
//     the tens of thousands of keys, or raise the tick.
//   - TIME and EXPIREAT/PEXPIREAT use the wall clock while TTLs follow the
//     ticker; they agree to within a tick.
package redisembed

import (
	"fmt"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// DefaultTick is the expiry tick used by Start.
const DefaultTick = 50 * time.Millisecond

// Server is an in-process Redis-protocol server listening on loopback TCP.
type Server struct {
	m    *miniredis.Miniredis
	addr string
	tick time.Duration

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// Start listens on 127.0.0.1 on a free port and starts the expiry ticker.
func Start() (*Server, error) {
	return StartTick(DefaultTick)
}

// StartTick is Start with a custom expiry tick (tests).
func StartTick(tick time.Duration) (*Server, error) {
	if tick <= 0 {
		return nil, fmt.Errorf("redisembed: tick must be positive, got %v", tick)
	}
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("redisembed: start miniredis: %w", err)
	}
	s := &Server{
		m:    m,
		addr: m.Addr(),
		tick: tick,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go s.expireLoop()
	return s, nil
}

// expireLoop advances miniredis' TTLs by the real time elapsed. Elapsed time is
// measured against a single monotonic start instant, so rounding never
// accumulates and a late tick simply advances by more.
//
// The tick adapts: FastForward sorts every key under the server lock, so the
// next tick waits at least 20 times as long as the last one took. Expiry
// bookkeeping thus never holds the lock more than ~5% of the time, at the
// price of coarser expiry when the data set is large.
func (s *Server) expireLoop() {
	defer close(s.done)
	start := time.Now()
	var advanced time.Duration
	wait := s.tick
	for {
		select {
		case <-s.stop:
			return
		case <-time.After(wait):
			elapsed := time.Since(start)
			if d := elapsed - advanced; d > 0 {
				// FastForward takes the miniredis lock, so it is safe while
				// the server handles commands concurrently.
				t0 := time.Now()
				s.m.FastForward(d)
				wait = max(s.tick, 20*time.Since(t0))
				advanced = elapsed
			}
		}
	}
}

// Addr is host:port.
func (s *Server) Addr() string { return s.addr }

// Close stops the ticker and the server; safe to call twice.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.m.Close()
	})
}
