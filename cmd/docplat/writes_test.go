package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"docplat/internal/failpoint"
	"docplat/internal/testdb"
	"docplat/internal/testredis"
	"docplat/txn"
)

// stallingFailpoints holds the documents database busy for longer than the
// coordinator's ack timeout (3 s) just before some of the documents
// participant's DoCommits, as the loaded embedded database did in issue 10
// (SQLITE_BUSY, "interrupted", "context deadline exceeded"): on SQLite by
// taking the write lock, on MariaDB by locking the open barrier rows.
type stallingFailpoints struct {
	db      atomic.Pointer[sql.DB]
	mysql   bool
	every   int32 // stall the DoCommits numbered 1, 1+every, ...
	max     int32
	hits    atomic.Int32
	stalls  atomic.Int32
	holding atomic.Bool
	hold    time.Duration
	wg      sync.WaitGroup
}

func (f *stallingFailpoints) Hit(step string) error {
	db := f.db.Load()
	if step != "documents.before-commit-persist" || db == nil {
		return nil
	}
	n := f.hits.Add(1)
	if (n-1)%f.every != 0 || f.stalls.Load() >= f.max || !f.holding.CompareAndSwap(false, true) {
		return nil
	}
	f.stalls.Add(1)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		f.holding.Store(false)
		return nil
	}
	lock := "BEGIN IMMEDIATE"
	if f.mysql {
		lock = "START TRANSACTION"
	}
	if _, err := conn.ExecContext(ctx, lock); err == nil && f.mysql {
		rows, qerr := conn.QueryContext(ctx, "SELECT txid FROM txn_participant WHERE participant = 'documents' AND state IN ('ready','precommitted') FOR UPDATE")
		if qerr == nil {
			rows.Close()
		}
	}
	f.wg.Go(func() {
		time.Sleep(f.hold)
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		f.holding.Store(false)
	})
	return nil
}

// TestAcknowledgedWritesAreReadableAtOnceUnderLoad: writers upload, replace
// and delete documents while others keep the database busy and the
// documents participant's commit is stalled past the coordinator's ack
// timeout now and then; after every acknowledged write its owner reads it
// at once, from the other instance where there are two (MariaDB), and sees
// exactly what the answer said: the document and its version, in the list,
// or gone. Before the coordinator waited for the documents participant, a
// stalled commit was answered 201 and read 404 until recovery ran.
func TestAcknowledgedWritesAreReadableAtOnceUnderLoad(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		cfg := testConfig(t, b)
		if b == testdb.MariaDB {
			sharedRedisConfig(t, &cfg) // two instances: one cache, one invalidation channel
		}
		fp := &stallingFailpoints{mysql: b == testdb.MariaDB, every: 4, max: 3, hold: 3500 * time.Millisecond}
		writeApp := startApp(t, cfg)
		writeApp.onStep(t, "documents.before-commit-persist", fp.Hit)
		readApp := writeApp
		if b == testdb.MariaDB {
			readApp = startApp(t, cfg)
		}
		t.Cleanup(fp.wg.Wait)
		fp.db.Store(writeApp.db.SQL())
		_, member := setupDepartment(writeApp, "Ryw", 1<<30)
		reader := &client{app: readApp, token: member.token}

		// Load: uploads and lists that nobody checks, until the writers are done.
		var stop atomic.Bool
		var load sync.WaitGroup
		for i := range 2 {
			load.Go(func() {
				for n := 0; !stop.Load(); n++ {
					member.upload(fmt.Sprintf("load-%d-%d.txt", i, n), []byte(strings.Repeat("load ", 50)), nil)
					reader.do("GET", "/api/v1/documents?page_size=50", nil, nil)
				}
			})
		}
		listed := func(id string) bool {
			var l docList
			reader.doJSON("GET", "/api/v1/documents?owner_id="+member.me().ID+"&page_size=100&sort=created_at", nil, 200, &l)
			return slices.Contains(ids(l), id)
		}
		var acked, refused atomic.Int64
		var writers sync.WaitGroup
		for w := range 3 {
			writers.Go(func() {
				for n := range 3 {
					title := fmt.Sprintf("ryw-%d-%d", w, n)
					var d document
					r := truthfully(t, &refused, "upload", func() response {
						var r response
						r, d = member.upload(title+".txt", []byte(fmt.Sprintf("first %d %d", w, n)), nil)
						return r
					}, func() bool {
						var exists int64
						writeApp.db.SQL().QueryRow("SELECT COUNT(*) FROM documents WHERE title = ?", title).Scan(&exists)
						return exists == 0
					})
					if r.status != http.StatusCreated {
						t.Errorf("upload: %d %s", r.status, r.body)
						return
					}
					acked.Add(1)
					if g := reader.do("GET", "/api/v1/documents/"+d.ID, nil, nil); g.status != 200 {
						t.Errorf("upload answered 201, then GET %s: %d %s", d.ID, g.status, g.body)
						return
					}
					if !listed(d.ID) {
						t.Errorf("upload answered 201, but %s is not in its owner's list", d.ID)
					}
					unchanged := func(version int) func() bool {
						return func() bool {
							var got document
							g := reader.do("GET", "/api/v1/documents/"+d.ID, nil, nil)
							return g.status == 200 && json.Unmarshal(g.body, &got) == nil && got.Version == version
						}
					}
					v := truthfully(t, &refused, "new version", func() response {
						body, ct := multipartBody("v2.txt", []byte(fmt.Sprintf("second %d %d", w, n)), nil)
						return member.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct})
					}, unchanged(1))
					if v.status != 200 {
						t.Errorf("new version: %d %s", v.status, v.body)
						return
					}
					acked.Add(1)
					var got document
					if g := reader.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &got); got.Version != 2 {
						t.Errorf("new version answered 200, then GET shows version %d: %s", got.Version, g.body)
					}
					if c := reader.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil); string(c.body) != fmt.Sprintf("second %d %d", w, n) {
						t.Errorf("new version answered 200, then the content is %d %q", c.status, c.body)
					}
					del := truthfully(t, &refused, "delete", func() response {
						return member.do("DELETE", "/api/v1/documents/"+d.ID, nil, nil)
					}, unchanged(2))
					if del.status != 204 {
						t.Errorf("delete: %d %s", del.status, del.body)
						return
					}
					acked.Add(1)
					if g := reader.do("GET", "/api/v1/documents/"+d.ID, nil, nil); g.status != 404 {
						t.Errorf("delete answered 204, then GET: %d %s", g.status, g.body)
					}
					if listed(d.ID) {
						t.Errorf("delete answered 204, but %s is still in its owner's list", d.ID)
					}
				}
			})
		}
		writers.Wait()
		stop.Store(true)
		load.Wait()
		if fp.stalls.Load() == 0 {
			t.Fatal("no commit was stalled: the test proved nothing")
		}
		t.Logf("%d acknowledged writes checked, %d truthfully refused, %d commits stalled %v past the ack timeout",
			acked.Load(), refused.Load(), fp.stalls.Load(), fp.hold)
	})
}

// truthfully runs a write, retrying it while it is refused under the load
// (503: a vote or a lock timed out); each refusal must say that nothing was
// changed, carry Retry-After, and be true (unchanged reports it).
func truthfully(t *testing.T, refused *atomic.Int64, what string, write func() response, unchanged func() bool) response {
	t.Helper()
	r := write()
	for try := 0; r.status == http.StatusServiceUnavailable && try < 5; try++ {
		if !strings.Contains(string(r.body), "nothing was changed") || r.header.Get("Retry-After") == "" {
			t.Errorf("%s refused untruthfully: %d %s", what, r.status, r.body)
			return r
		}
		if !unchanged() {
			t.Errorf("%s answered 503 'nothing was changed', but it changed", what)
			return r
		}
		refused.Add(1)
		r = write()
	}
	return r
}

// me is the caller's own user.
func (c *client) me() (u struct{ ID string }) {
	c.app.t.Helper()
	c.doJSON("GET", "/api/v1/me", nil, 200, &u)
	return u
}

// killingFailpoints stops a redis-server right after the documents
// participant committed: the cache node dies between commit and reply.
type killingFailpoints struct {
	node  *testredis.Node
	armed atomic.Bool
}

func (f *killingFailpoints) Hit(step string) error {
	if step == "documents.after-commit-persist" && f.armed.CompareAndSwap(true, false) {
		f.node.Stop()
	}
	return nil
}

// TestCommittedWriteIsNotAnsweredUnavailableWhenTheCacheNodeDies: the L2
// Redis node is killed after the commit and before the answer. The write
// happened, so the answer is its success (not 503 "nothing was changed",
// which made clients pay twice), and a read shows it.
func TestCommittedWriteIsNotAnsweredUnavailableWhenTheCacheNodeDies(t *testing.T) {
	for _, op := range []string{"upload", "version", "delete"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t, testdb.MariaDB)
			l2, _ := sharedRedisConfig(t, &cfg)
			fp := &killingFailpoints{node: l2}
			a := startApp(t, cfg)
			a.onStep(t, "documents.after-commit-persist", fp.Hit)
			dept, member := setupDepartment(a, "Kill"+op, 1<<20)
			var d document
			if op != "upload" {
				d = member.mustUpload("before.txt", "before", nil)
				member.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, nil) // cached in L1 and L2
			}
			fp.armed.Store(true)
			var r response
			switch op {
			case "upload":
				r, d = member.upload("killed.txt", []byte("after"), nil)
			case "version":
				body, ct := multipartBody("v2.txt", []byte("after"), nil)
				r = member.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct})
			case "delete":
				r = member.do("DELETE", "/api/v1/documents/"+d.ID, nil, nil)
			}
			if fp.armed.Load() || l2.Running() {
				t.Fatal("the cache node was not killed during the write")
			}
			want := map[string]int{"upload": 201, "version": 200, "delete": 204}[op]
			if r.status != want {
				t.Fatalf("%s committed while the cache node died: answered %d %s, want %d", op, r.status, r.body, want)
			}
			g := member.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil)
			switch {
			case op == "delete" && g.status != 404:
				t.Fatalf("deleted, then read: %d %s", g.status, g.body)
			case op != "delete" && (g.status != 200 || string(g.body) != "after"):
				t.Fatalf("%s answered %d, then read: %d %q", op, r.status, g.status, g.body)
			}
			docs, bytes, reserved, statsDocs, statsBytes, _ := a.usageEverywhere(dept)
			if docs != statsDocs || bytes != statsBytes || reserved != 0 {
				t.Fatalf("usage out of step: %d documents (%d bytes), stats %d (%d bytes, %d reserved)", docs, bytes, statsDocs, statsBytes, reserved)
			}
		})
	}
}

// TestIdempotentRetriesAcrossInstances: an upload, a new version and a
// delete made under an Idempotency-Key on one instance and retried on the
// other get the first outcome back, and the write happens once. A key is
// the caller's own, bound to its request, and validated; a retry whose
// first attempt committed but lost its answer gets the committed outcome.
func TestIdempotentRetriesAcrossInstances(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	a, b := startApp(t, cfg), startApp(t, cfg)
	dept, onA := setupDepartment(a, "Idem", 1<<20)
	onB := &client{app: b, token: onA.token}
	// Documents outside the trash (the delete below moves one there).
	count := func() int64 {
		return a.countRows("documents WHERE deleted_at IS NULL AND department_id = '" + dept + "'")
	}

	uploadWith := func(c *client, key, name, content string) response {
		body, ct := multipartBody(name, []byte(content), nil)
		return c.do("POST", "/api/v1/documents", body, map[string]string{"Content-Type": ct, "Idempotency-Key": key})
	}
	same := func(what string, first, retry response) {
		t.Helper()
		if retry.status != first.status || string(retry.body) != string(first.body) || retry.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("%s retried on the other instance: %d %s (replayed %q), first was %d %s",
				what, retry.status, retry.body, retry.header.Get("Idempotent-Replayed"), first.status, first.body)
		}
	}

	up := uploadWith(onA, "upload-key-0001", "idem.txt", "one")
	if up.status != 201 {
		t.Fatalf("upload: %d %s", up.status, up.body)
	}
	same("upload", up, uploadWith(onB, "upload-key-0001", "idem.txt", "one"))
	if n := count(); n != 1 {
		t.Fatalf("%d documents after a retried upload, want 1", n)
	}
	var d document
	_ = json.Unmarshal(up.body, &d)

	putWith := func(c *client, key, content string) response {
		body, ct := multipartBody("v.txt", []byte(content), nil)
		return c.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct, "Idempotency-Key": key})
	}
	v := putWith(onA, "version-key-0001", "two")
	if v.status != 200 {
		t.Fatalf("new version: %d %s", v.status, v.body)
	}
	same("new version", v, putWith(onB, "version-key-0001", "two"))
	var versions docList
	onB.doJSON("GET", "/api/v1/documents/"+d.ID+"/versions", nil, 200, &versions)
	if versions.Total != 2 {
		t.Fatalf("%d versions after a retried new version, want 2", versions.Total)
	}

	// The key is bound to its request, validated, and scoped to the user.
	if r := putWith(onB, "upload-key-0001", "x"); r.status != 422 || r.errorCode() != "idempotency_key_reused" {
		t.Fatalf("a key reused for another request: %d %s", r.status, r.body)
	}
	if r := uploadWith(onA, "no spaces allowed", "x.txt", "x"); r.status != 400 || r.errorCode() != "bad_request" {
		t.Fatalf("an invalid key: %d %s", r.status, r.body)
	}
	_, other := setupDepartment(a, "Idem2", 1<<20)
	if r := uploadWith(other, "upload-key-0001", "idem.txt", "one"); r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("another user's same key: %d %s", r.status, r.body)
	}

	del := onA.do("DELETE", "/api/v1/documents/"+d.ID, nil, map[string]string{"Idempotency-Key": "delete-key-0001"})
	if del.status != 204 {
		t.Fatalf("delete: %d %s", del.status, del.body)
	}
	same("delete", del, onB.do("DELETE", "/api/v1/documents/"+d.ID, nil, map[string]string{"Idempotency-Key": "delete-key-0001"}))

	// The first attempt commits and its answer is lost (the coordinator
	// fails after DoCommit): the retry on B answers from the commit mark
	// written with the change, and the upload is not done twice.
	failpoint.Crash(t, txn.ErrCrash, a.owns, failpoint.TxnStep("coord.after-docommit"))
	lost := uploadWith(onA, "lost-answer-0001", "lost.txt", "lost")
	if lost.status == 201 || strings.Contains(string(lost.body), "nothing was changed") {
		t.Fatalf("the failed answer: %d %s", lost.status, lost.body)
	}
	before := count()
	if r := uploadWith(onB, "lost-answer-0001", "lost.txt", "other"); r.status != 422 || r.errorCode() != "idempotency_key_reused" {
		t.Fatalf("another file under the key of a committed write whose answer was lost: %d %s", r.status, r.body)
	}
	retry := uploadWith(onB, "lost-answer-0001", "lost.txt", "lost")
	var rd document
	if retry.status != 201 || json.Unmarshal(retry.body, &rd) != nil || rd.Title != "lost" {
		t.Fatalf("retry after a lost answer: %d %s", retry.status, retry.body)
	}
	if n := count(); n != before || n != 1 {
		t.Fatalf("%d documents after the retry (%d before), want 1", n, before)
	}
	if again := uploadWith(onA, "lost-answer-0001", "lost.txt", "lost"); again.status != 201 || string(again.body) != string(retry.body) {
		t.Fatalf("second retry: %d %s", again.status, again.body)
	}
}

// TestIdempotencyKeyIsBoundToItsRequestBody: a key's first outcome is
// replayed only to the same request, on either instance. The same key on
// the same path with another file (content or name), title, tags,
// visibility or If-Match is 422 idempotency_key_reused and changes
// nothing; the identical retry is still replayed afterwards, including a
// new version whose If-Match the first attempt made stale. A refusal given
// before the body was read is not recorded (the corrected request runs),
// and a record made before fingerprints were kept compares method and path
// only.
func TestIdempotencyKeyIsBoundToItsRequestBody(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend testdb.Backend) {
		cfg := testConfig(t, backend)
		sharedRedisConfig(t, &cfg)
		a := startApp(t, cfg)
		b := a
		if backend == testdb.MariaDB { // the embedded mode is one instance
			b = startApp(t, cfg)
		}
		dept, onA := setupDepartment(a, "Fingerprint", 1<<20)
		onB := &client{app: b, token: onA.token}
		// Documents outside the trash (the delete below moves one there).
		count := func() int64 {
			return a.countRows("documents WHERE deleted_at IS NULL AND department_id = '" + dept + "'")
		}
		fields := map[string]string{"title": "Notes", "tags": "a,b", "visibility": "private"}
		with := func(k, v string) map[string]string {
			m := maps.Clone(fields)
			m[k] = v
			return m
		}
		upload := func(c *client, key, name, content string, fields map[string]string) response {
			body, ct := multipartBody(name, []byte(content), fields)
			return c.do("POST", "/api/v1/documents", body, map[string]string{"Content-Type": ct, "Idempotency-Key": key})
		}
		replayed := func(what string, first, retry response) {
			t.Helper()
			if retry.status != first.status || string(retry.body) != string(first.body) || retry.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("%s: %d %s (replayed %q), first was %d %s", what, retry.status, retry.body,
					retry.header.Get("Idempotent-Replayed"), first.status, first.body)
			}
		}
		refused := func(what string, r response) {
			t.Helper()
			var e struct {
				Error struct{ Code, Message string }
			}
			_ = json.Unmarshal(r.body, &e)
			if r.status != 422 || e.Error.Code != "idempotency_key_reused" || !strings.Contains(e.Error.Message, "different body") ||
				r.header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("%s: %d %s, want 422 idempotency_key_reused saying the body differs", what, r.status, r.body)
			}
		}

		up := upload(onA, "body-key-0001", "notes.txt", "one", fields)
		if up.status != 201 {
			t.Fatalf("upload: %d %s", up.status, up.body)
		}
		var d document
		_ = json.Unmarshal(up.body, &d)
		replayed("identical upload retried", up, upload(onB, "body-key-0001", "notes.txt", "one", fields))
		for what, r := range map[string]response{
			"another file":       upload(onB, "body-key-0001", "notes.txt", "two", fields),
			"another file name":  upload(onB, "body-key-0001", "other.txt", "one", fields),
			"another title":      upload(onB, "body-key-0001", "notes.txt", "one", with("title", "Other")),
			"other tags":         upload(onB, "body-key-0001", "notes.txt", "one", with("tags", "a,c")),
			"another visibility": upload(onB, "body-key-0001", "notes.txt", "one", with("visibility", "public")),
			"a description":      upload(onA, "body-key-0001", "notes.txt", "one", with("description", "new")),
		} {
			refused("same key, "+what, r)
		}
		replayed("identical upload after the refusals", up, upload(onA, "body-key-0001", "notes.txt", "one", fields))
		if n := count(); n != 1 {
			t.Fatalf("%d documents, want 1", n)
		}

		put := func(c *client, key, ifMatch, content string) response {
			body, ct := multipartBody("v.txt", []byte(content), nil)
			return c.do("PUT", "/api/v1/documents/"+d.ID+"/content", body,
				map[string]string{"Content-Type": ct, "Idempotency-Key": key, "If-Match": ifMatch})
		}
		v := put(onA, "body-key-0002", `"1"`, "second")
		if v.status != 200 {
			t.Fatalf("new version: %d %s", v.status, v.body)
		}
		// Its If-Match no longer matches the document: still the first outcome.
		replayed("identical new version retried", v, put(onB, "body-key-0002", `"1"`, "second"))
		refused("same key, another version's content", put(onB, "body-key-0002", `"1"`, "third"))
		refused("same key, another If-Match", put(onB, "body-key-0002", `"2"`, "second"))
		var versions docList
		onB.doJSON("GET", "/api/v1/documents/"+d.ID+"/versions", nil, 200, &versions)
		if versions.Total != 2 {
			t.Fatalf("%d versions, want 2", versions.Total)
		}

		// Refused before its body was read (If-Match checked first): not
		// recorded, so the corrected request runs under the same key.
		if r := put(onA, "body-key-0003", `"1"`, "third"); r.status != 412 {
			t.Fatalf("stale If-Match: %d %s", r.status, r.body)
		}
		if r := put(onB, "body-key-0003", `"2"`, "third"); r.status != 200 || r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("corrected new version under the same key: %d %s", r.status, r.body)
		}

		del := func(c *client, key, ifMatch string) response {
			return c.do("DELETE", "/api/v1/documents/"+d.ID, nil, map[string]string{"Idempotency-Key": key, "If-Match": ifMatch})
		}
		if r := onA.do("DELETE", "/api/v1/documents/"+d.ID, nil, map[string]string{"If-Match": `"r1"`}); r.status != 412 {
			t.Fatalf("delete with a stale If-Match: %d %s", r.status, r.body)
		}
		gone := del(onA, "body-key-0004", `"3"`)
		if gone.status != 204 {
			t.Fatalf("delete: %d %s", gone.status, gone.body)
		}
		replayed("identical delete retried", gone, del(onB, "body-key-0004", `"3"`))
		refused("same key, delete with another If-Match", del(onB, "body-key-0004", `"r9"`))
		refused("same key, delete without If-Match", del(onB, "body-key-0004", ""))

		// A record made before fingerprints were kept: method and path decide.
		legacy := upload(onA, "body-key-0005", "old.txt", "old", nil)
		if legacy.status != 201 {
			t.Fatalf("upload: %d %s", legacy.status, legacy.body)
		}
		if err := a.db.Gorm().Exec("UPDATE idempotency_keys SET fingerprint = NULL WHERE idem_key = ?", "body-key-0005").Error; err != nil {
			t.Fatal(err)
		}
		replayed("another file under a key recorded without a fingerprint", legacy, upload(onB, "body-key-0005", "new.txt", "new", nil))
		if n := count(); n != 1 {
			t.Fatalf("%d documents at the end, want 1", n)
		}
	})
}
