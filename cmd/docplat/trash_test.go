package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"docplat/audit"
	"docplat/docs"
	"docplat/hotspot"
	"docplat/internal/failpoint"
	"docplat/internal/testdb"
	"docplat/internal/testhttp"
	"docplat/internal/wait"
	"docplat/nginx"
	"docplat/txn"
)

// trashItem is an item of GET /api/v1/trash.
type trashItem struct {
	document
	DeletedAt *time.Time `json:"deleted_at"`
	DeletedBy string     `json:"deleted_by"`
	PurgeAt   *time.Time `json:"purge_at"`
}

func (c *client) trash(query string) (items []trashItem) {
	c.app.t.Helper()
	var out struct{ Items []trashItem }
	c.doJSON("GET", "/api/v1/trash?"+query, nil, 200, &out)
	return out.Items
}

func trashIDs(items []trashItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// TestTrashHidesRestoresAndPurgesWithTheQuotaCounted walks a document
// through the trash on both databases: DELETE hides it from every read
// (metadata, content, versions, lists, search in the index and by LIKE,
// stats top and hot, share links, read tokens) while its bytes stay
// counted everywhere; only its owner (and admins) see it in the trash and
// may restore it; a restore brings it back with a new revision; a purge
// before its time does nothing, after it removes it once, returns its
// bytes, and the garbage collector then takes its blob.
func TestTrashHidesRestoresAndPurgesWithTheQuotaCounted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		ctx := context.Background()
		admin := a.admin()
		dept, owner := setupDepartment(a, "Trash", 1<<20)
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "trashmate", "password": "trashmate-password", "department_id": dept}, 201, nil)
		colleague := a.login("trashmate", "trashmate-password")
		me := owner.me()

		d := owner.mustUpload("handout.txt", "trashword 力学 handout body "+string(b), map[string]string{"visibility": "public", "title": "Trashable handout"})
		keep := owner.mustUpload("keep.txt", "trashword kept", map[string]string{"visibility": "public"})
		var share struct{ URL string }
		owner.doJSON("POST", "/api/v1/documents/"+d.ID+"/shares", map[string]any{"expires_in_s": 600}, 201, &share)
		var tok struct{ URL string }
		colleague.doJSON("POST", "/api/v1/documents/"+d.ID+"/read-token", nil, 201, &tok)
		for range 3 {
			a.anon().doJSON("GET", "/api/v1/documents/"+d.ID+"/content", nil, 200, nil)
		}
		type topItems struct {
			Items []struct{ Document struct{ ID string } }
		}
		inTop := func() bool {
			var top topItems
			admin.doJSON("GET", "/api/v1/stats/top?window=1h&limit=100", nil, 200, &top)
			for _, it := range top.Items {
				if it.Document.ID == d.ID {
					return true
				}
			}
			return false
		}
		wait.For(t, wait.Limit, "the document in the top list", inTop)
		if err := a.hotSet.Put(ctx, []hotspot.Entry{{ID: d.ID, RatePerSec: 100, Since: time.Now(), LeaseUntil: time.Now().Add(time.Hour)}}, nil); err != nil {
			t.Fatal(err)
		}
		inHot := func(c *client) bool {
			var hot struct {
				Items []struct {
					ID string `json:"document_id"`
				}
			}
			c.doJSON("GET", "/api/v1/stats/hot", nil, 200, &hot)
			for _, it := range hot.Items {
				if it.ID == d.ID {
					return true
				}
			}
			return false
		}
		if !inHot(admin) || !inHot(a.anon()) {
			t.Fatal("the document is not in stats/hot before the trash")
		}
		visible := func(why string, want bool) {
			t.Helper()
			status := map[bool]int{true: 200, false: 404}[want]
			for name, c := range map[string]*client{"owner": owner, "admin": admin, "colleague": colleague, "anonymous": a.anon()} {
				for _, path := range []string{"/api/v1/documents/" + d.ID, "/api/v1/documents/" + d.ID + "/content", "/api/v1/documents/" + d.ID + "/versions",
					"/api/v1/documents/" + d.ID + "/versions/1/content", "/api/v1/documents/" + d.ID + "/stats"} {
					if r := c.do("GET", path, nil, nil); r.status != status || !want && r.errorCode() != "not_found" {
						t.Errorf("%s: %s GET %s = %d %s, want %d", why, name, path, r.status, r.body, status)
					}
				}
				for _, q := range []string{"q=trashword", "q=力学", "q=handout", "page_size=100", "owner_id=" + me.ID} {
					l := c.search(q)
					// Gone from search at once (a cached ranking is re-checked
					// item by item); back in it, like a new upload, once the
					// caller's cached ranking of before expires.
					for deadline := time.Now().Add(a.cfg.SearchCacheTTL + 2*time.Second); want && !slices.Contains(ids(l), d.ID) && time.Now().Before(deadline); {
						time.Sleep(100 * time.Millisecond)
						l = c.search(q)
					}
					if got := slices.Contains(ids(l), d.ID); got != want {
						t.Errorf("%s: %s lists ?%s with it: %v, want %v", why, name, q, got, want)
					}
					if strings.HasPrefix(q, "q=trashword") && !slices.Contains(ids(l), keep.ID) {
						t.Errorf("%s: %s's search lost the other document", why, name)
					}
				}
			}
			if got := inTop(); got != want {
				t.Errorf("%s: in stats/top %v, want %v", why, got, want)
			}
			if got := inHot(admin) || inHot(a.anon()); got != want {
				t.Errorf("%s: in stats/hot %v, want %v", why, got, want)
			}
			if r := a.anon().do("GET", share.URL, nil, nil); r.status != status {
				t.Errorf("%s: share link %d, want %d", why, r.status, status)
			}
		}
		visible("before the trash", true)
		docsBefore, bytesBefore, _, _, _, _ := a.usageEverywhere(dept)
		usage := func(why string, wantDocs, wantBytes int64) {
			t.Helper()
			docs, bytes, reserved, statsDocs, statsBytes, adminBytes := a.usageEverywhere(dept)
			if docs != wantDocs || bytes != wantBytes || statsDocs != wantDocs || statsBytes != wantBytes || adminBytes != wantBytes || reserved != 0 {
				t.Fatalf("%s: rows %d documents %d bytes; stats %d documents %d bytes (%d reserved); admin API %d bytes; want %d documents %d bytes",
					why, docs, bytes, statsDocs, statsBytes, reserved, adminBytes, wantDocs, wantBytes)
			}
			if u := admin.usage(dept); u.Documents != wantDocs || u.BytesUsed != wantBytes {
				t.Fatalf("%s: /stats/departments %+v, want %d documents %d bytes", why, u, wantDocs, wantBytes)
			}
		}
		usage("before the trash", docsBefore, bytesBefore)

		// Trash: only a manager may (the colleague reads it, may not manage it).
		colleague.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 403, nil)
		owner.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
		visible("in the trash", false)
		if r := send(t, "GET", a.srv.URL+tok.URL, nil); r.Status != 404 {
			t.Errorf("a read token of before the trash: %d", r.Status)
		}
		for _, w := range []struct{ method, path, body string }{{"PATCH", "", `{"title":"x"}`}, {"DELETE", "", ""}, {"PUT", "/grants", `{"items":[]}`},
			{"POST", "/shares", `{"expires_in_s":60}`}, {"POST", "/read-token", ""}} {
			if r := owner.do(w.method, "/api/v1/documents/"+d.ID+w.path, strings.NewReader(w.body),
				map[string]string{"Content-Type": "application/json"}); r.status != 404 {
				t.Errorf("%s %s on a trashed document: %d %s", w.method, w.path, r.status, r.body)
			}
		}
		usage("in the trash", docsBefore, bytesBefore)

		// The trash: the owner's own, with when, who and until when.
		items := owner.trash("")
		if len(items) != 1 || items[0].ID != d.ID || items[0].DeletedBy != me.ID || items[0].DeletedAt == nil || items[0].PurgeAt == nil ||
			items[0].PurgeAt.Sub(*items[0].DeletedAt) != docs.DefaultTrashRetention || items[0].Title != "Trashable handout" {
			t.Fatalf("owner's trash: %+v", items)
		}
		if got := trashIDs(colleague.trash("")); len(got) != 0 {
			t.Errorf("the colleague's trash shows %v", got)
		}
		if got := trashIDs(admin.trash("owner_id=" + me.ID)); !slices.Equal(got, []string{d.ID}) {
			t.Errorf("admin's trash of the owner: %v", got)
		}
		if got := trashIDs(admin.trash("owner_id=nobody")); len(got) != 0 {
			t.Errorf("admin's trash of nobody: %v", got)
		}
		a.anon().doJSON("GET", "/api/v1/trash", nil, 401, nil)

		// Restore: refused to a non-owner (as if it did not exist), 401 anonymous.
		for _, c := range []*client{colleague} {
			if r := c.do("POST", "/api/v1/documents/"+d.ID+"/restore", nil, nil); r.status != 404 || r.errorCode() != "not_found" {
				t.Errorf("restore by a non-owner: %d %s", r.status, r.body)
			}
			if r := c.do("DELETE", "/api/v1/trash/"+d.ID, nil, nil); r.status != 404 || r.errorCode() != "not_found" {
				t.Errorf("purge by a non-owner: %d %s", r.status, r.body)
			}
		}
		a.anon().doJSON("POST", "/api/v1/documents/"+d.ID+"/restore", nil, 401, nil)
		var restored document
		keyed := map[string]string{"Idempotency-Key": "restore-key-0001"}
		r := owner.do("POST", "/api/v1/documents/"+d.ID+"/restore", nil, keyed)
		if r.status != 200 {
			t.Fatalf("restore: %d %s", r.status, r.body)
		}
		_ = json.Unmarshal(r.body, &restored)
		// A retry under the same key gets the first answer, not a 409.
		if again := owner.do("POST", "/api/v1/documents/"+d.ID+"/restore", nil, keyed); again.status != 200 || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("a restore retried under its Idempotency-Key: %d %s", again.status, again.body)
		}
		if other := owner.do("POST", "/api/v1/documents/"+keep.ID+"/restore", nil, keyed); other.status != 422 || other.errorCode() != "idempotency_key_reused" {
			t.Errorf("the key reused for another document's restore: %d %s", other.status, other.body)
		}
		if restored.ID != d.ID || restored.Revision <= d.Revision+1 || restored.Version != 1 || restored.Title != "Trashable handout" {
			t.Fatalf("restored: %+v (uploaded at revision %d)", restored, d.Revision)
		}
		if r := owner.do("POST", "/api/v1/documents/"+d.ID+"/restore", nil, nil); r.status != 409 || r.errorCode() != "conflict" {
			t.Errorf("restoring a document that is not trashed: %d %s", r.status, r.body)
		}
		if r := owner.do("DELETE", "/api/v1/trash/"+d.ID, nil, nil); r.status != 404 || r.errorCode() != "not_found" {
			t.Errorf("purging a document that is not trashed: %d %s", r.status, r.body)
		}
		if r := owner.do("POST", "/api/v1/documents/nosuchdocument/restore", nil, nil); r.status != 404 {
			t.Errorf("restoring an unknown id: %d %s", r.status, r.body)
		}
		visible("restored", true)
		usage("restored", docsBefore, bytesBefore)
		if len(owner.trash("")) != 0 {
			t.Error("the restored document is still in the trash")
		}

		// Purge by the job: not before the retention ends, once after it.
		deleted := time.Now().UTC()
		owner.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
		if n, err := a.docs.PurgeExpired(ctx, deleted.Add(docs.DefaultTrashRetention-time.Minute)); err != nil || n != 0 {
			t.Fatalf("purge before the retention ended: %d, %v", n, err)
		}
		usage("trashed again", docsBefore, bytesBefore)
		if n, err := a.docs.PurgeExpired(ctx, deleted.Add(docs.DefaultTrashRetention+time.Minute)); err != nil || n != 1 {
			t.Fatalf("purge after the retention: %d, %v", n, err)
		}
		if n, err := a.docs.PurgeExpired(ctx, deleted.Add(docs.DefaultTrashRetention+time.Minute)); err != nil || n != 0 {
			t.Fatalf("a second purge: %d, %v", n, err)
		}
		if m := a.metric(`docplat_trash_purged_total{reason="expired"}`); m != "1" {
			t.Errorf("docplat_trash_purged_total{reason=\"expired\"} = %q after one purge by the job, want 1", m)
		}
		usage("purged", docsBefore-1, bytesBefore-d.Size)
		if len(owner.trash("")) != 0 {
			t.Error("the purged document is still in the trash")
		}
		owner.doJSON("POST", "/api/v1/documents/"+d.ID+"/restore", nil, 404, nil)
		owner.doJSON("DELETE", "/api/v1/trash/"+d.ID, nil, 404, nil)
		for action, want := range map[audit.Action]int64{audit.DocumentTrash: 2, audit.DocumentRestore: 1, audit.DocumentPurge: 1, audit.DocumentDelete: 0} {
			if n := a.auditEntries(action, d.ID); n != want {
				t.Errorf("%d %s entries, want %d", n, action, want)
			}
		}
		// The purged document's blob goes with the next collection after the grace.
		if _, err := a.blobs.Open(d.SHA256); err != nil {
			t.Fatalf("the blob is gone before it was collected: %v", err)
		}
		if r, err := withClock(a, 2*a.cfg.Docs.BlobGrace).CollectGarbage(ctx); err != nil || r.Blobs != 1 {
			t.Fatalf("gc = %+v, %v", r, err)
		}
		if _, err := a.blobs.Open(d.SHA256); err == nil {
			t.Fatal("the purged document's blob survived the collection")
		}
		// The other document was never touched.
		owner.doJSON("GET", "/api/v1/documents/"+keep.ID, nil, 200, nil)
		// Purged at its owner's request, counted as such.
		owner.doJSON("DELETE", "/api/v1/documents/"+keep.ID, nil, 204, nil)
		owner.doJSON("DELETE", "/api/v1/trash/"+keep.ID, nil, 204, nil)
		if m := a.metric(`docplat_trash_purged_total{reason="requested"}`); m != "1" {
			t.Errorf("docplat_trash_purged_total{reason=\"requested\"} = %q after one purge from the trash, want 1", m)
		}
	})
}

// TestTwoInstancesPurgingAtOncePurgeEachDocumentOnce runs the purge job of
// two instances of one deployment at the same moment over the same expired
// trash: every document is purged once (one audit entry, its bytes
// returned once) and usage agrees everywhere.
func TestTwoInstancesPurgingAtOncePurgeEachDocumentOnce(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	a, b := startApp(t, cfg), startApp(t, cfg)
	dept, member := setupDepartment(a, "TwoPurgers", 0)
	const n = 12
	var ids []string
	for i := range n {
		d := member.mustUpload(fmt.Sprintf("p%d.txt", i), strings.Repeat("x", 10+i), nil)
		member.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
		ids = append(ids, d.ID)
	}
	later := time.Now().UTC().Add(docs.DefaultTrashRetention + time.Hour)
	var wg sync.WaitGroup
	var counts [2]int
	for i, app := range []*testApp{a, b} {
		wg.Go(func() {
			got, err := app.docs.PurgeExpired(context.Background(), later)
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
			counts[i] = got
		})
	}
	wg.Wait()
	if counts[0]+counts[1] != n {
		t.Fatalf("the instances purged %d and %d documents, want %d in all", counts[0], counts[1], n)
	}
	for _, id := range ids {
		if e := a.auditEntries(audit.DocumentPurge, id); e != 1 {
			t.Errorf("%s: %d document.purge entries", id, e)
		}
	}
	docs, bytes, reserved, statsDocs, statsBytes, adminBytes := a.usageEverywhere(dept)
	if docs != 0 || bytes != 0 || statsDocs != 0 || statsBytes != 0 || adminBytes != 0 || reserved != 0 {
		t.Fatalf("after the purge: rows %d/%d, stats %d/%d (%d reserved), admin %d", docs, bytes, statsDocs, statsBytes, reserved, adminBytes)
	}
	t.Logf("instance A purged %d, instance B %d", counts[0], counts[1])
}

// TestPurgeCrashMatrixKeepsDocumentsAndUsageAtomic injects a failure at
// every step of a purge's three-phase commit and checks, once recovery ran,
// that the document's rows and its department's usage (rows, stats
// service, admin API) agree, that nothing stays reserved or in doubt, that
// one document.purge entry exists exactly when the document is gone, and
// that a retry under the same Idempotency-Key finishes the job.
func TestPurgeCrashMatrixKeepsDocumentsAndUsageAtomic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		for _, step := range uploadCrashSteps {
			t.Run(step, func(t *testing.T) {
				t.Parallel()
				cfg := testConfig(t, b)
				cfg.TxnTimeout, cfg.TxnRecover = 300*time.Millisecond, 50*time.Millisecond
				a := startApp(t, cfg)
				dept, member := setupDepartment(a, "PurgeCrash", 10000)
				d := member.mustUpload("purge.txt", strings.Repeat("p", 100), nil)
				member.mustUpload("other.txt", strings.Repeat("o", 50), nil)
				member.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
				fp := failpoint.Crash(t, txn.ErrCrash, a.owns, failpoint.TxnStep(step))
				purge := func() response {
					return member.do("DELETE", "/api/v1/trash/"+d.ID, nil, map[string]string{"Idempotency-Key": "purge-crash-1"})
				}
				r := purge()
				if len(fp.Fired()) == 0 {
					t.Fatalf("failpoint %s never fired", step)
				}
				if r.status != 204 && r.status != 503 {
					t.Fatalf("purge with a crash at %s: %d %s", step, r.status, r.body)
				}
				wait.For(t, wait.Limit, "every branch to be decided", func() bool { return a.inDoubt() == 0 })
				docs, bytes, reserved, statsDocs, statsBytes, adminBytes := a.usageEverywhere(dept)
				if docs != statsDocs || bytes != statsBytes || bytes != adminBytes || reserved != 0 {
					t.Fatalf("not atomic after a crash at %s: documents %d (%d bytes), stats %d documents %d bytes (%d reserved), admin %d bytes",
						step, docs, bytes, statsDocs, statsBytes, reserved, adminBytes)
				}
				gone := docs == 1
				if entries := a.auditEntries(audit.DocumentPurge, d.ID); entries != map[bool]int64{true: 1, false: 0}[gone] {
					t.Fatalf("after a crash at %s: purged %v, %d document.purge entries", step, gone, entries)
				}
				if r.status == 204 && !gone {
					t.Fatalf("the purge was answered 204 but the document is still there")
				}
				if !gone && strings.Contains(string(r.body), "nothing was changed") && r.status != 503 {
					t.Fatalf("unexpected answer %d %s", r.status, r.body)
				}
				if gone && strings.Contains(string(r.body), "nothing was changed") {
					t.Fatalf("the client was told nothing changed but the document is purged: %s", r.body)
				}
				// A retry under the same key finishes it (or says it is in doubt).
				retry := purge()
				after, afterBytes, _, _, _, _ := a.usageEverywhere(dept)
				if !(retry.status == 204 && after == 1 && afterBytes == 50 || retry.status == 409 && after == docs) {
					t.Fatalf("retry after a crash at %s: %d %s, %d document(s) %d bytes", step, retry.status, retry.body, after, afterBytes)
				}
				t.Logf("%s: status %d, purged %v; retry %d", step, r.status, gone, retry.status)
			})
		}
	})
}

// TestTrashStopsTheHotTierAtOnce: a hot document served by nginx is not
// served by it any more as soon as its DELETE is answered (the trash purges
// the edge as every write does), and after its restore nginx does not
// bring back the entry of before (fenced by the revision): the app answers.
func TestTrashStopsTheHotTierAtOnce(t *testing.T) {
	if err := nginx.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and nginx is unusable: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	const tokenSecret, internalSecret = "trash-hot-tier-token-secret", "trash-hot-tier-admin-secret"
	listen, adminAddr := testhttp.FreeAddr(t), testhttp.FreeAddr(t)
	a := newTestApp(t, testdb.SQLite, func(c *config) {
		c.Hot.ReadTokenSecret = tokenSecret
		c.InternalSecret = internalSecret
		c.Hot.Admins = []string{"http://" + adminAddr}
	})
	base, edge := startHotTierAt(t, a, tokenSecret, internalSecret, listen, adminAddr, 1)
	_, owner := setupDepartment(a, "HotTrash", 0)
	d := owner.mustUpload("hot.txt", "a hot public handout", map[string]string{"visibility": "public"})
	ctx := context.Background()
	if err := a.hotSet.Put(ctx, []hotspot.Entry{{ID: d.ID, RatePerSec: 100, Since: time.Now(), LeaseUntil: time.Now().Add(time.Hour)}}, []string{d.ID}); err != nil {
		t.Fatal(err)
	}
	src := docs.NewHotSource(a.db.Documents(), a.blobs, 1<<20)
	c, err := src.HotContent(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := edge.Push(ctx, c); err != nil {
		t.Fatal(err)
	}
	path := base + "/api/v1/documents/" + d.ID + "/content"
	if r := send(t, "GET", path, nil); r.Status != 200 || r.Header.Get("X-Cache") != "HOT" {
		t.Fatalf("before the trash nginx answered %d, X-Cache %q", r.Status, r.Header.Get("X-Cache"))
	}
	owner.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
	if r := send(t, "GET", path, nil); r.Status != 404 || r.Header.Get("X-Cache") == "HOT" {
		t.Fatalf("after the trash nginx answered %d, X-Cache %q, want 404 from the app", r.Status, r.Header.Get("X-Cache"))
	}
	// The promoter cannot bring a trashed document back to the edge.
	if _, err := src.HotContent(ctx, d.ID); err != hotspot.ErrNotPromotable {
		t.Fatalf("HotContent of a trashed document: %v, want ErrNotPromotable", err)
	}
	if err := edge.Push(ctx, c); err == nil {
		if r := send(t, "GET", path, nil); r.Header.Get("X-Cache") == "HOT" {
			t.Fatal("nginx took back the entry of before the trash")
		}
	}
	owner.doJSON("POST", "/api/v1/documents/"+d.ID+"/restore", nil, 200, nil)
	// Readable again at once (from the app, or from nginx once the
	// promoter pushed the restored revision: the document is still hot).
	if r := send(t, "GET", path, nil); r.Status != 200 || r.Body != "a hot public handout" {
		t.Fatalf("after the restore: %d, X-Cache %q, %q", r.Status, r.Header.Get("X-Cache"), r.Body)
	}
}
