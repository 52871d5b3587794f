package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"docplat/events"
	"docplat/internal/testdb"
	"docplat/internal/wait"
)

// bigText is a text file over the text kept for search (1 MiB), so
// extracted by a job, with word at its start.
func bigText(word string) []byte {
	return append([]byte("The "+word+" lecture.\n"), handout(1<<20)...)
}

// bigUploads lets a test app take bigText.
func bigUploads(cfg *config) { cfg.Docs.MaxUploadBytes = 2 << 20 }

// TestAnUploadIsFoundByItsBodyOnceExtracted: over HTTP, a plain text
// upload answers text_state ready and a word of its body finds it as soon
// as it is answered (read with the upload, no job). A text bigger than
// the text kept answers pending, is found by its title at once, and the
// in-process workers extract its body. What a client took while it was
// pending stays valid after: its ETag as an If-Match, a read token; the
// metadata ETag changes, so a revalidating reader sees the new state.
func TestAnUploadIsFoundByItsBodyOnceExtracted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b, bigUploads, func(c *config) { c.Hot.ReadTokenSecret = "0123456789abcdef-test-secret" })
		admin := a.admin()
		r, d := admin.upload("handout.txt", []byte("Kinematics: the zyxwavelet method of the week"), map[string]string{"title": "week three handout"})
		if r.status != 201 || d.TextState != "ready" || r.header.Get("ETag") != `"r1"` {
			t.Fatalf("upload: %d, text_state %q, ETag %q", r.status, d.TextState, r.header.Get("ETag"))
		}
		if !slices.Contains(ids(admin.search("q=zyxwavelet")), d.ID) {
			t.Fatal("a word of the body does not find the upload when it is answered")
		}

		r, big := admin.upload("notes.txt", bigText("qzbigwave"), map[string]string{"title": "long lecture notes"})
		if r.status != 201 || big.TextState != "pending" {
			t.Fatalf("big upload: %d, text_state %q", r.status, big.TextState)
		}
		pendingTag := r.header.Get("ETag")
		if pendingTag != `"r1-pending"` {
			t.Fatalf("ETag of a pending upload %q, want \"r1-pending\"", pendingTag)
		}
		if !slices.Contains(ids(admin.search("q=long")), big.ID) {
			t.Fatal("the title is not searchable at once")
		}
		var tok struct{ URL string }
		admin.doJSON("POST", "/api/v1/documents/"+big.ID+"/read-token", nil, 201, &tok)
		// On MariaDB the index (Mroonga, not transactional) shows the body
		// a moment before the row's text_state commits: both are waited for.
		wait.For(t, wait.Limit, "a body word to find the big upload, and text_state ready", func() bool {
			var got document
			admin.doJSON("GET", "/api/v1/documents/"+big.ID, nil, 200, &got)
			return got.TextState == "ready" && slices.Contains(ids(admin.search("q=qzbigwave")), big.ID)
		})
		r = admin.do("GET", "/api/v1/documents/"+big.ID, nil, map[string]string{"If-None-Match": pendingTag})
		if r.status != 200 || r.header.Get("ETag") != `"r1"` {
			t.Fatalf("revalidating the pending ETag after the extraction: %d, ETag %q; want 200, \"r1\"", r.status, r.header.Get("ETag"))
		}
		if r := a.anon().do("GET", tok.URL, nil, nil); r.status != 200 || len(r.body) != len(bigText("qzbigwave")) {
			t.Fatalf("the read token taken while the text was pending: %d (%d bytes)", r.status, len(r.body))
		}
		r = admin.do("PATCH", "/api/v1/documents/"+big.ID, strings.NewReader(`{"description":"edited"}`),
			map[string]string{"If-Match": pendingTag, "Content-Type": "application/json"})
		if r.status != 200 || r.header.Get("ETag") != `"r2"` {
			t.Fatalf("PATCH with the ETag taken while the text was pending: %d %s", r.status, r.body)
		}

		// A type with no text says so.
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
		if r, p := admin.upload("dot.png", png, nil); r.status != 201 || p.TextState != "none" {
			t.Fatalf("png upload: %d, text_state %q", r.status, p.TextState)
		}
	})
}

// TestAWorkerProcessExtractsForAServeWithoutWorkers: with Kafka brokers
// and --jobs-in-process=false, serve only enqueues; the text stays
// pending until a `docplat worker` process (its own app, the same
// database, Redis and brokers) joins the group and does the job, which
// its /metrics shows.
func TestAWorkerProcessExtractsForAServeWithoutWorkers(t *testing.T) {
	br, err := events.StartBroker(context.Background(), events.BrokerConfig{Topic: "docplat.access"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(br.Close)
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	cfg.Stream.Brokers, cfg.Counting.Brokers, cfg.Jobs.Brokers = br.Addrs(), br.Addrs(), br.Addrs()
	cfg.JobsInProcess = false
	bigUploads(&cfg)
	a := startApp(t, cfg)
	admin := a.admin()
	r, d := admin.upload("notes.txt", bigText("qwxoscillator"), nil)
	if r.status != 201 || d.TextState != "pending" {
		t.Fatalf("upload: %d %q", r.status, d.TextState)
	}
	time.Sleep(500 * time.Millisecond) // what an in-process worker would have needed
	if cur, err := a.db.Documents().Get(context.Background(), d.ID); err != nil || cur.TextState != "pending" {
		t.Fatalf("text state %q (%v) with no worker running", cur.TextState, err)
	}
	if slices.Contains(ids(admin.search("q=qwxoscillator")), d.ID) {
		t.Fatal("the body was extracted with no worker running")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	go func() {
		done <- workerCmd(ctx, []string{"--mysql-dsn", cfg.Store.DB.MySQLDSN, "--stats-mysql-dsn", cfg.Stats.DB.MySQLDSN,
			"--data-dir", cfg.Store.DB.DataDir, "--kafka-brokers", strings.Join(br.Addrs(), ","),
			"--redis-addr", cfg.Redis.Addr, "--lock-redis-addrs", strings.Join(cfg.Redis.LockAddrs, ","),
			"--jobs-workers", "1", "--log-level", "error", "--addr", metricsAddr}, noEnv)
	}()
	a.extracted(d)
	// The worker exports the queue and its jobs on --addr: with serve's
	// workers off, nobody else does.
	wait.For(t, wait.Limit, "the worker's /metrics to show its job", func() bool {
		r, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return false
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return strings.Contains(string(b), `docplat_jobs_queue_depth{topic="docplat.jobs"}`) &&
			strings.Contains(string(b), `docplat_job_duration_seconds_count{kind="extract",outcome="ok"} 1`)
	})
	// The search cache holds the ranking from before the extraction for
	// its TTL (search-cache-ttl).
	wait.For(t, wait.Limit, "a body word to find the upload", func() bool {
		return slices.Contains(ids(admin.search("q=qwxoscillator")), d.ID)
	})
	cancel()
	wait.Returned(t, done, "docplat worker")
}

// TestWorkerRefusesWhatOnlyServeCanRun: a worker without brokers, or on
// an embedded database or cache, would work alone on data nobody shares.
func TestWorkerRefusesWhatOnlyServeCanRun(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--kafka-brokers"},
		{[]string{"--kafka-brokers", "127.0.0.1:9"}, "--mysql-dsn and --redis-addr"},
		{[]string{"--kafka-brokers", "127.0.0.1:9", "--mysql-dsn", "u@tcp(127.0.0.1:3306)/x", "--stats-mysql-dsn", "u@tcp(127.0.0.1:3306)/y",
			"--redis-addr", "127.0.0.1:9", "--lock-redis-addrs", "127.0.0.1:9,127.0.0.1:9,127.0.0.1:9", "--jobs-workers", "0"}, "--jobs-workers"},
	} {
		err := workerCmd(context.Background(), tc.args, noEnv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("worker %v: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}
