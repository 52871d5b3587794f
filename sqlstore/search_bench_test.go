package sqlstore_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"docplat/accounts"
	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/loadgen/scenario"
	"docplat/sqlstore"
)

// BenchmarkSearchCorpus measures what an uncached relevance search costs in
// CPU, database server included, over the shared corpus (2,291 real manual
// pages; DOCPLAT_BENCH_SEARCH_DOCS=100000 cycles it up to that many, with
// numbered titles; DOCPLAT_BENCH_SEARCH_BACKEND=mariadb or sqlite seeds and
// measures only that one), against a primary-key SELECT of the same run:
//
//	go test -run '^$' -bench SearchCorpus -benchtime 2000x ./sqlstore/
//
// Every search is one of CorpusQueries (distinct queries, cycled, so
// Groonga's select cache of 100 entries never answers one). The MariaDB
// server may be shared with other work (other tests, other engineers), so
// its CPU is the run time (/proc/<tid>/schedstat) of the thread
// serving the benchmark's one connection, not the whole process's. Reported:
// cpu-us/op is the mean (that thread plus this whole process, divided by
// operations); p50-cpu-us and p90-cpu-us are per operation (that thread
// plus this goroutine's locked thread); x-pk-select is the ratio to the
// same figure for a SELECT of one documents row by primary key. On MariaDB,
// search-sql-form measures the SQL form the Groonga path replaced, with the
// same queries (it has no cache that could answer them).
func BenchmarkSearchCorpus(b *testing.B) {
	n := 2291
	if v := os.Getenv("DOCPLAT_BENCH_SEARCH_DOCS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("DOCPLAT_BENCH_SEARCH_DOCS=%q", v)
		}
	}
	files := corpus(b, n)
	queries := distinctQueries(scenario.CorpusQueries(files[:min(len(files), 2291)], 6000, 1))
	for _, backend := range testdb.Backends {
		if only := os.Getenv("DOCPLAT_BENCH_SEARCH_BACKEND"); only != "" && only != string(backend) {
			continue // seeding is the slow part: skip it for a backend not asked for
		}
		ctx := context.Background()
		db, err := sqlstore.Open(ctx, sqlstore.Config{MySQLDSN: testdb.DSNFor(b, backend), DataDir: b.TempDir(), MaxOpenConns: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = db.Close() })
		if _, err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		now := time.Now().UTC()
		owner := accounts.User{ID: accounts.NewID(), Username: "owner", Role: accounts.RoleMember, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
		if err := db.Accounts().CreateUser(ctx, owner); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		ids := seedCorpus(b, ctx, db, owner.ID, files)
		b.Logf("%s: seeded %d documents in %v; %d distinct queries", backend, len(ids), time.Since(start).Round(time.Second), len(queries))

		server := backend == testdb.MariaDB
		var pk cpuFigures
		b.Run(string(backend)+"/pk-select", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			pk = measureCPU(b, ctx, db, server, func() error {
				var title string
				return db.SQL().QueryRowContext(ctx, "SELECT title FROM documents WHERE id = ?", ids[rng.IntN(len(ids))]).Scan(&title)
			})
			pk.report(b, cpuFigures{})
		})
		search := func(b *testing.B) {
			i := 0
			found := 0
			s := measureCPU(b, ctx, db, server, func() error {
				q := queries[i%len(queries)]
				i++
				items, _, err := db.Documents().List(ctx, docs.Actor{}, docs.Query{Terms: q.terms, Sort: docs.SortRelevance, Page: 1, Size: 20})
				if len(items) > 0 {
					found++
				}
				return err
			})
			s.report(b, pk)
			s.logByKind(b, func(op int) string { return queries[op%len(queries)].kind })
			if found == 0 && b.N >= 20 {
				b.Fatal("no search found anything")
			}
		}
		b.Run(string(backend)+"/search", search)
		if backend == testdb.MariaDB {
			fallbacks := db.SearchFallbacks()
			sqlstore.AnswerSearchesWithSQL(db)
			b.Run(string(backend)+"/search-sql-form", search)
			if fallbacks != 0 {
				b.Errorf("%d searches fell back to the SQL form", fallbacks)
			}
		}
	}
}

// benchQuery is a corpus query's terms and kind (scenario.CorpusQuery.Kind).
type benchQuery struct {
	terms []string
	kind  string
}

// distinctQueries parses the queries, dropping repeats.
func distinctQueries(qs []scenario.CorpusQuery) []benchQuery {
	seen := map[string]bool{}
	var out []benchQuery
	for _, q := range qs {
		terms, err := docs.ParseTerms(q.Q)
		key := strings.Join(terms, "\x00")
		if err != nil || len(terms) == 0 || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, benchQuery{terms, q.Kind})
	}
	return out
}

// cpuFigures are a measurement's CPU per operation.
type cpuFigures struct {
	mean, p50, p90 time.Duration
	perOp          []time.Duration // in the order run
}

// logByKind logs the p50 CPU of the operations of each kind.
func (c cpuFigures) logByKind(b *testing.B, kind func(op int) string) {
	if len(c.perOp) < 20 {
		return // the benchmark's probing run
	}
	by := map[string][]time.Duration{}
	for i, d := range c.perOp {
		by[kind(i)] = append(by[kind(i)], d)
	}
	for _, k := range slices.Sorted(maps.Keys(by)) {
		v := by[k]
		slices.Sort(v)
		b.Logf("%-12s %5d searches, p50 CPU %v", k, len(v), v[len(v)/2].Round(time.Microsecond))
	}
}

func (c cpuFigures) report(b *testing.B, baseline cpuFigures) {
	b.ReportMetric(float64(c.mean)/1e3, "cpu-us/op")
	b.ReportMetric(float64(c.p50)/1e3, "p50-cpu-us")
	b.ReportMetric(float64(c.p90)/1e3, "p90-cpu-us")
	if baseline.mean > 0 {
		b.ReportMetric(float64(c.mean)/float64(baseline.mean), "x-pk-select")
		b.ReportMetric(float64(c.p50)/float64(baseline.p50), "p50-x-pk-select")
	}
}

// measureCPU runs op b.N times on one locked thread and returns its CPU per
// operation: the mean over this process and the server thread serving the
// pool's one connection (if server), and per-operation percentiles of the
// two threads doing the work.
func measureCPU(b *testing.B, ctx context.Context, db *sqlstore.DB, server bool, op func() error) cpuFigures {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	serverThread := ""
	if server {
		// A thread id names the thread in /proc directly, whichever local
		// server process it belongs to.
		var tid int
		if err := db.SQL().QueryRowContext(ctx, "SELECT TID FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()").Scan(&tid); err != nil {
			b.Fatal(err)
		}
		serverThread = fmt.Sprintf("/proc/%d/schedstat", tid)
	}
	per := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	before := runTime(b, serverThread) + processCPU(b)
	for range b.N {
		t0 := threadCPU(b) + runTime(b, serverThread)
		if err := op(); err != nil {
			b.Fatal(err)
		}
		per = append(per, threadCPU(b)+runTime(b, serverThread)-t0)
	}
	total := runTime(b, serverThread) + processCPU(b) - before
	b.StopTimer()
	inOrder := slices.Clone(per)
	slices.Sort(per)
	return cpuFigures{mean: total / time.Duration(b.N), p50: per[len(per)/2], p90: per[len(per)*9/10], perOp: inOrder}
}

// runTime is a thread's time on a CPU so far (first field of schedstat, ns).
// It is current for a thread that is not running, as the server's is once
// it has answered.
func runTime(b *testing.B, path string) time.Duration {
	if path == "" {
		return 0
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	ns, err := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return time.Duration(ns)
}

// processCPU is this process's user+system CPU.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPU is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID, exact
// to the nanosecond, unlike RUSAGE_THREAD's tick-sampled split).
func threadCPU(b *testing.B) time.Duration {
	const clockThreadCPUTime = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		b.Fatal(errno)
	}
	return time.Duration(ts.Nano())
}
