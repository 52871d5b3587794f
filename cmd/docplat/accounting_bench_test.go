package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"docplat/internal/testdb"
	"docplat/internal/testredis"
)

// BenchmarkAccountingPerRead compares, in one run, the CPU of counting a
// read (publishing it, the broker, the stats counters and their database
// writes, the hot-document detector, the document's own views counter)
// with the CPU of serving an L1 hit. CPU is this process's (app, in-process
// Kafka broker, stats consumer, detector) plus MariaDB's and Redis', read
// from getrusage and /proc, so it does not move with the wall clock of a
// shared machine.
//
//	serve-l1-hit  the handler answering a cached 10 KB document's content,
//	              in process (no HTTP client), back to back; the counting
//	              of those reads that overlaps the loop is included, so
//	              this slightly overstates serving
//	accounting    docs.RecordAccess at a paced 1,000 reads/s, Zipf(1.1)
//	              over 200 documents (a lecture's handouts), then waiting
//	              until the stats counters, the documents' counters and
//	              the detector have all seen every read
//
// Both report cpu-µs/read net of a baseline measured just before: for
// serve-l1-hit, every process idling for 2 s; for accounting, the same
// paced loop reading nothing. accounting also reports its gross figure,
// the split by process and its ratio to serve-l1-hit (the target is at
// most 0.1). Run it with a fixed count:
//
//	go test -run '^$' -bench AccountingPerRead -benchtime 10000x ./cmd/docplat
func BenchmarkAccountingPerRead(b *testing.B) {
	body := strings.Repeat("0123456789abcdef", 640) // 10 KiB
	cfg := testConfig(b, testdb.MariaDB)
	nodes := testredis.Start(b, 4)
	cfg.Redis.Addr = nodes[0].Addr()
	cfg.Redis.LockAddrs = []string{nodes[1].Addr(), nodes[2].Addr(), nodes[3].Addr()}
	a := startApp(b, cfg)
	admin := a.admin()
	const docsN = 200
	ids := make([]string, docsN)
	for i := range ids {
		ids[i] = admin.mustUpload(fmt.Sprintf("handout%d.txt", i), body, map[string]string{"visibility": "public"}).ID
	}
	docsDB, err := sql.Open("mysql", cfg.Store.DB.MySQLDSN)
	if err != nil {
		b.Fatal(err)
	}
	defer docsDB.Close()
	probe := &cpuProbe{mariadb: mariadbPID(b, docsDB), db: docsDB}
	for _, n := range nodes {
		probe.redis = append(probe.redis, n.PID())
	}
	for _, dsn := range []string{cfg.Store.DB.MySQLDSN, cfg.Stats.DB.MySQLDSN} {
		c, err := mysqldriver.ParseDSN(dsn)
		if err != nil {
			b.Fatal(err)
		}
		probe.dbNames = append(probe.dbNames, c.DBName)
	}
	var last cpuUse
	cpuNow := func(b *testing.B) cpuUse {
		last = probe.snapshot(b, last)
		return last
	}
	// counted waits until every sink has seen want reads in all.
	counted := func(b *testing.B, want int64) {
		b.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var inStats, onDocs int64
			_ = a.stats.DB().Raw("SELECT COALESCE(SUM(views + downloads), 0) FROM document_counters").Scan(&inStats).Error
			_ = docsDB.QueryRow("SELECT COALESCE(SUM(views + downloads), 0) FROM documents").Scan(&onDocs)
			detected := gatherCounter(a, "docplat_hotspot_events_total")
			if inStats >= want && onDocs >= want && detected >= float64(want) {
				if inStats != want || onDocs != want {
					b.Fatalf("counted %d in stats and %d on the documents, want %d", inStats, onDocs, want)
				}
				return
			}
			if time.Now().After(deadline) {
				b.Fatalf("after 60s: %d counted in stats, %d on the documents, %.0f seen by the detector; want %d", inStats, onDocs, detected, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// settle is longer than every accounting window with their defaults.
	const settle = 2500 * time.Millisecond
	var total int64
	// Warm L1 and let the first reads' accounting settle.
	for _, id := range ids {
		serveContent(b, a, id, len(body))
	}
	total += docsN
	counted(b, total)

	// idle is the CPU a second of every process while nothing is read
	// (timers, pollers, Redis' and MariaDB's own housekeeping), measured
	// over d just before the phase it is subtracted from, the machine
	// being shared.
	idle := func(b *testing.B, d time.Duration) cpuUse {
		before := cpuNow(b)
		time.Sleep(d)
		u := cpuNow(b).minus(before).per(d.Seconds())
		b.Logf("idle CPU per second: app %.1f ms, MariaDB %.1f ms, Redis %.1f ms", u.app*1e3, u.mariadb*1e3, u.redis*1e3)
		return u
	}

	var serve float64
	b.Run("serve-l1-hit", func(b *testing.B) {
		idle := idle(b, 2*time.Second)
		before := cpuNow(b)
		start := time.Now()
		for b.Loop() {
			serveContent(b, a, ids[0], len(body))
		}
		used := cpuNow(b).minus(before).minus(idle.times(time.Since(start).Seconds()))
		serve = used.total() / float64(b.N) * 1e6
		b.ReportMetric(serve, "cpu-µs/read")
		total += int64(b.N)
		counted(b, total)
	})
	b.Run("accounting", func(b *testing.B) {
		const rate = 1000 // reads/s
		// paced calls read b.N times at rate, Zipf(1.1) over the
		// documents, waits out the accounting windows (aggregation, the
		// stats and documents flushes: polling for the counts meanwhile
		// would count the polling) and returns the CPU used meanwhile.
		paced := func(read func(id string)) cpuUse {
			zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, docsN-1)
			before := cpuNow(b)
			start := time.Now()
			for i := range b.N {
				// Paced in steps of 10 ms (10 reads), not one sleep per read.
				if due := start.Add(time.Duration(i) * time.Second / rate); time.Until(due) > 10*time.Millisecond {
					time.Sleep(time.Until(due))
				}
				read(ids[zipf.Uint64()])
			}
			time.Sleep(settle)
			return cpuNow(b).minus(before)
		}
		// The baseline: the same loop reading nothing (the pacing, the
		// draws, and every process idling for as long).
		base := paced(func(string) {})
		if path := os.Getenv("DOCPLAT_BENCH_ACCOUNTING_PROFILE"); path != "" { // a CPU profile of this phase only
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				b.Fatal(err)
			}
			defer pprof.StopCPUProfile()
		}
		eventsBefore := gatherCounter(a, "docplat_access_aggregated_events_total")
		gross := paced(func(id string) { a.docs.RecordAccess(id, "view", int64(len(body))) })
		if ev := gatherCounter(a, "docplat_access_aggregated_events_total"); ev > 0 { // 0 without the aggregator
			b.ReportMetric((ev-eventsBefore)/float64(b.N), "events/read")
		}
		total += int64(b.N)
		counted(b, total)
		net := gross.minus(base)
		per := func(s float64) float64 { return s / float64(b.N) * 1e6 }
		b.Logf("baseline (same loop, no reads): app %.1f ms, MariaDB %.1f ms, Redis %.1f ms", base.app*1e3, base.mariadb*1e3, base.redis*1e3)
		b.ReportMetric(per(gross.total()), "gross-cpu-µs/read")
		b.ReportMetric(per(net.total()), "cpu-µs/read")
		b.ReportMetric(per(net.app), "app-µs/read")
		b.ReportMetric(per(net.mariadb), "mariadb-µs/read")
		b.ReportMetric(per(net.redis), "redis-µs/read")
		if serve > 0 {
			b.ReportMetric(per(net.total())/serve, "x-l1-hit")
		}
	})

}

func serveContent(b *testing.B, a *testApp, id string, size int) {
	rec := httptest.NewRecorder()
	a.server.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/documents/"+id+"/content", nil))
	if rec.Code != 200 || rec.Body.Len() != size {
		b.Fatalf("content of %s: status %d, %d bytes", id, rec.Code, rec.Body.Len())
	}
}

func gatherCounter(a *testApp, name string) float64 {
	mfs, err := a.reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			sum := 0.0
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	return 0
}

// cpuUse is CPU seconds (user+system) of this process (the app with its
// in-process broker, stats consumer and detector), of the MariaDB threads
// serving its two databases and of the Redis servers.
type cpuUse struct{ app, mariadb, redis float64 }

func (u cpuUse) total() float64 { return u.app + u.mariadb + u.redis }
func (u cpuUse) minus(v cpuUse) cpuUse {
	return cpuUse{u.app - v.app, u.mariadb - v.mariadb, u.redis - v.redis}
}
func (u cpuUse) times(f float64) cpuUse { return cpuUse{u.app * f, u.mariadb * f, u.redis * f} }
func (u cpuUse) per(d float64) cpuUse   { return u.times(1 / d) }

// cpuProbe reads the CPU of the processes a benchmark drives. MariaDB is
// shared with whatever else runs on the machine, so only the threads of
// the connections to this benchmark's databases are counted (MariaDB runs
// a thread per connection; information_schema.PROCESSLIST names it): that
// leaves out InnoDB's background threads (purge, log writes), part of
// what a write costs.
type cpuProbe struct {
	mariadb int
	redis   []int
	db      *sql.DB
	dbNames []string
	before  map[int]float64 // MariaDB thread -> CPU seconds at the last snapshot
}

// snapshot is the CPU used so far; for MariaDB, the CPU the threads alive
// now used since the previous snapshot (added to the previous total).
func (p *cpuProbe) snapshot(b *testing.B, prev cpuUse) cpuUse {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	u := cpuUse{app: float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9, mariadb: prev.mariadb}
	for _, pid := range p.redis {
		u.redis += procCPU(b, fmt.Sprintf("/proc/%d/stat", pid))
	}
	q := "SELECT TID FROM information_schema.PROCESSLIST WHERE DB IN (?" + strings.Repeat(", ?", len(p.dbNames)-1) + ")"
	args := make([]any, len(p.dbNames))
	for i, n := range p.dbNames {
		args[i] = n
	}
	rows, err := p.db.Query(q, args...)
	if err != nil {
		b.Fatal(err)
	}
	now := map[int]float64{}
	for rows.Next() {
		var tid int
		if err := rows.Scan(&tid); err != nil {
			b.Fatal(err)
		}
		if raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", p.mariadb, tid)); err == nil {
			now[tid] = statCPU(raw)
		}
	}
	rows.Close()
	for tid, c := range now {
		u.mariadb += c - p.before[tid] // a new connection's thread counts from 0
	}
	p.before = now
	return u
}

func procCPU(b *testing.B, path string) float64 {
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return statCPU(raw)
}

// statCPU is utime+stime of a /proc stat line: the 14th and 15th fields,
// in clock ticks (100 a second), counted after the command in parentheses.
func statCPU(raw []byte) float64 {
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

// mariadbPID is the process id of the MariaDB server db is connected to
// (there may be other mariadbd processes on the machine): the one with
// a thread of db's connection.
func mariadbPID(b *testing.B, db *sql.DB) int {
	conn, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var tid int
	if err := conn.QueryRowContext(context.Background(), "SELECT TID FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()").Scan(&tid); err != nil {
		b.Skipf("no thread id from MariaDB: %v", err)
	}
	matches, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, m := range matches {
		comm, err := os.ReadFile(m)
		if err != nil || strings.TrimSpace(string(comm)) != "mariadbd" {
			continue
		}
		dir := filepath.Dir(m)
		if _, err := os.Stat(fmt.Sprintf("%s/task/%d", dir, tid)); err == nil {
			pid, _ := strconv.Atoi(filepath.Base(dir))
			return pid
		}
	}
	b.Skip("no local mariadbd process to measure")
	return 0
}
