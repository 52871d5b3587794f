package main

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
// Both report cpu-µs/read; accounting also reports its ratio to serve-l1-hit
// (the target is at most 0.1). Run it with a fixed count:
//
//	go test -run '^$' -bench AccountingPerRead -benchtime 10000x ./cmd/docplat
func BenchmarkAccountingPerRead(b *testing.B) {
	body := strings.Repeat("0123456789abcdef", 640) // 10 KiB
	cfg := testConfig(b, testdb.MariaDB)
	nodes := testredis.Start(b, 4)
	cfg.RedisAddr = nodes[0].Addr()
	cfg.LockRedisAddrs = nodes[1].Addr() + "," + nodes[2].Addr() + "," + nodes[3].Addr()
	a := startApp(b, cfg)
	admin := a.admin()
	const docsN = 200
	ids := make([]string, docsN)
	for i := range ids {
		ids[i] = admin.mustUpload(fmt.Sprintf("handout%d.txt", i), body, map[string]string{"visibility": "public"}).ID
	}
	docsDB, err := sql.Open("mysql", cfg.MySQLDSN)
	if err != nil {
		b.Fatal(err)
	}
	defer docsDB.Close()
	pids := []int{mariadbPID(b)}
	for _, n := range nodes {
		pids = append(pids, n.PID())
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
	var total int64
	// Warm L1 and let the first reads' accounting settle.
	for _, id := range ids {
		serveContent(b, a, id, len(body))
	}
	total += docsN
	counted(b, total)

	var serve float64
	b.Run("serve-l1-hit", func(b *testing.B) {
		before := cpuSeconds(b, pids)
		for b.Loop() {
			serveContent(b, a, ids[0], len(body))
		}
		serve = (cpuSeconds(b, pids) - before) / float64(b.N) * 1e6
		b.ReportMetric(serve, "cpu-µs/read")
		total += int64(b.N)
		counted(b, total)
	})
	b.Run("accounting", func(b *testing.B) {
		const rate = 1000 // reads/s
		zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, docsN-1)
		before := cpuSeconds(b, pids)
		start := time.Now()
		for i := range b.N {
			if due := start.Add(time.Duration(i) * time.Second / rate); time.Until(due) > time.Millisecond {
				time.Sleep(time.Until(due))
			}
			a.docs.RecordAccess(ids[zipf.Uint64()], "view", int64(len(body)))
		}
		total += int64(b.N)
		counted(b, total)
		acct := (cpuSeconds(b, pids) - before) / float64(b.N) * 1e6
		b.ReportMetric(acct, "cpu-µs/read")
		if serve > 0 {
			b.ReportMetric(acct/serve, "x-l1-hit")
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

// cpuSeconds is the user+system CPU of this process and of pids.
func cpuSeconds(b *testing.B, pids []int) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	s := float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Fatal(err)
		}
		// Fields after the command (in parentheses): utime and stime are
		// the 14th and 15th of the line, in clock ticks (100 a second).
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		s += (ut + st) / 100
	}
	return s
}

// mariadbPID is the local MariaDB server's process id.
func mariadbPID(b *testing.B) int {
	matches, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, m := range matches {
		comm, err := os.ReadFile(m)
		if err == nil && strings.TrimSpace(string(comm)) == "mariadbd" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(m)))
			return pid
		}
	}
	b.Skip("no local mariadbd process to measure")
	return 0
}

