package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/internal/testhttp"
	"docplat/nginx"
	"docplat/shares"
)

type createdShare struct {
	ID, Token, URL string
	ExpiresAt      time.Time `json:"expires_at"`
}

type listedShare struct {
	ID           string
	CreatedBy    string `json:"created_by"`
	HasPassword  bool   `json:"has_password"`
	MaxDownloads *int64 `json:"max_downloads"`
	Downloads    int64
	Revoked      bool
}

// shareWorld is a teacher, a colleague in the teacher's department and a
// member of another, with a private and a department document of the teacher's.
type shareWorld struct {
	app                       *testApp
	teacher, colleague, other *client
	private, department       document
}

func newShareWorld(t *testing.T, a *testApp) shareWorld {
	admin := a.admin()
	var physics, chemistry struct{ ID string }
	admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Physics"}, 201, &physics)
	admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Chemistry"}, 201, &chemistry)
	for _, u := range []struct{ name, dept string }{{"teacher", physics.ID}, {"colleague", physics.ID}, {"other", chemistry.ID}} {
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": u.name, "password": "password-" + u.name, "role": "member", "department_id": u.dept}, 201, nil)
	}
	w := shareWorld{app: a, teacher: a.login("teacher", "password-teacher"), colleague: a.login("colleague", "password-colleague"), other: a.login("other", "password-other")}
	w.private = w.teacher.mustUpload("handout.txt", "0123456789 lecture handout", map[string]string{"title": `<script>alert(1)</script> 讲义`})
	w.department = w.teacher.mustUpload("dept.txt", "department notes", map[string]string{"visibility": "department"})
	return w
}

func (w shareWorld) share(c *client, docID string, body map[string]any, want int) createdShare {
	var out createdShare
	c.doJSON("POST", "/api/v1/documents/"+docID+"/shares", body, want, &out)
	return out
}

func (w shareWorld) list(docID string) []listedShare {
	var out struct{ Items []listedShare }
	r := w.teacher.doJSON("GET", "/api/v1/documents/"+docID+"/shares", nil, 200, &out)
	if strings.Contains(string(r.body), "token") {
		w.app.t.Fatalf("the list shows tokens: %s", r.body)
	}
	return out.Items
}

func wantNotFound(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != 404 || r.errorCode() != "not_found" {
		t.Fatalf("%s: %d %s, want 404 not_found", what, r.status, r.body)
	}
}

func TestShareLinksServeRevokeExpireAndRefuse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		w := newShareWorld(t, a)
		anon := a.anon()

		// Who may create: manage only; no existence leak.
		w.share(w.other, w.private.ID, map[string]any{"expires_in_s": 3600}, 404)
		w.share(w.colleague, w.private.ID, map[string]any{"expires_in_s": 3600}, 404)
		w.share(w.colleague, w.department.ID, map[string]any{"expires_in_s": 3600}, 403)
		anon.doJSON("POST", "/api/v1/documents/"+w.private.ID+"/shares", map[string]any{"expires_in_s": 3600}, 401, nil)
		for _, bad := range []map[string]any{{}, {"expires_in_s": 59}, {"expires_in_s": 366 * 86400}, {"expires_in_s": 3600, "max_downloads": -1}} {
			w.share(w.teacher, w.private.ID, bad, 400)
		}
		w.other.doJSON("GET", "/api/v1/documents/"+w.private.ID+"/shares", nil, 404, nil)
		w.colleague.doJSON("GET", "/api/v1/documents/"+w.department.ID+"/shares", nil, 403, nil)

		// A plain link: bytes, ETag, 304, Range; what counts as a download.
		l := w.share(w.teacher, w.private.ID, map[string]any{"expires_in_s": 3600}, 201)
		if l.URL != "/s/"+l.Token || len(l.Token) != 43 || time.Until(l.ExpiresAt) < 59*time.Minute {
			t.Fatalf("created %+v", l)
		}
		r := anon.do("GET", l.URL, nil, nil)
		if r.status != 200 || string(r.body) != "0123456789 lecture handout" || r.header.Get("ETag") == "" || r.header.Get("Cache-Control") != "private, no-cache" {
			t.Fatalf("GET share: %d %q %v", r.status, r.body, r.header)
		}
		if got := anon.do("GET", l.URL, nil, map[string]string{"If-None-Match": r.header.Get("ETag")}); got.status != 304 {
			t.Fatalf("If-None-Match: %d", got.status)
		}
		if got := anon.do("GET", l.URL, nil, map[string]string{"Range": "bytes=2-4"}); got.status != 206 || string(got.body) != "234" {
			t.Fatalf("Range 2-4: %d %q", got.status, got.body)
		}
		if got := anon.do("GET", l.URL, nil, map[string]string{"Range": "bytes=0-1"}); got.status != 206 || string(got.body) != "01" {
			t.Fatalf("Range 0-1: %d %q", got.status, got.body)
		}
		if got := anon.do("HEAD", l.URL, nil, nil); got.status != 200 {
			t.Fatalf("HEAD: %d", got.status)
		}
		if ls := w.list(w.private.ID); len(ls) != 1 || ls[0].Downloads != 2 || ls[0].HasPassword || ls[0].MaxDownloads != nil || ls[0].Revoked {
			t.Fatalf("listed %+v, want 2 downloads (the 200 and the Range from 0)", ls)
		}

		// Browsers get a landing page, escaped, in their language.
		page := anon.do("GET", l.URL, nil, map[string]string{"Accept": "text/html,*/*", "Accept-Language": "zh-CN,zh;q=0.9"})
		if page.status != 200 || !strings.Contains(string(page.body), "&lt;script&gt;") || strings.Contains(string(page.body), "<script>alert") ||
			!strings.Contains(string(page.body), "下载") || !strings.Contains(string(page.body), "?download=1") {
			t.Fatalf("landing page: %d %s", page.status, page.body)
		}
		if page := anon.do("GET", l.URL, nil, map[string]string{"Accept": "text/html", "Accept-Language": "en"}); !strings.Contains(string(page.body), "Download") {
			t.Fatalf("English landing page: %s", page.body)
		}
		if dl := anon.do("GET", l.URL+"?download=1", nil, map[string]string{"Accept": "text/html"}); dl.status != 200 ||
			!strings.HasPrefix(dl.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download button: %d %v", dl.status, dl.header)
		}

		// Bad tokens: forged, truncated, garbage, another document's path.
		wantNotFound(t, "forged", anon.do("GET", "/s/"+shares.NewToken(), nil, nil))
		wantNotFound(t, "truncated", anon.do("GET", l.URL[:len(l.URL)-1], nil, nil))
		wantNotFound(t, "garbage", anon.do("GET", "/s/%2e%2e", nil, nil))
		wantNotFound(t, "id as token", anon.do("GET", "/s/"+w.list(w.private.ID)[0].ID, nil, nil))

		// Passwords: 401 without or wrong, the right one by header or query.
		p := w.share(w.teacher, w.private.ID, map[string]any{"expires_in_s": 600, "password": "open sesame"}, 201)
		if r := anon.do("GET", p.URL, nil, nil); r.status != 401 || r.errorCode() != "unauthorized" {
			t.Fatalf("no password: %d %s", r.status, r.body)
		}
		if r := anon.do("GET", p.URL, nil, map[string]string{"X-Share-Password": "wrong"}); r.status != 401 {
			t.Fatalf("wrong password: %d", r.status)
		}
		if r := anon.do("GET", p.URL, nil, map[string]string{"X-Share-Password": "open sesame"}); r.status != 200 {
			t.Fatalf("password header: %d %s", r.status, r.body)
		}
		if r := anon.do("GET", p.URL+"?password=open%20sesame", nil, nil); r.status != 200 {
			t.Fatalf("password query: %d %s", r.status, r.body)
		}
		if page := anon.do("GET", p.URL, nil, map[string]string{"Accept": "text/html"}); page.status != 401 ||
			!strings.Contains(string(page.body), `type="password"`) || strings.Contains(string(page.body), "lecture") {
			t.Fatalf("password landing page: %d %s", page.status, page.body)
		}
		// A browser that gave the password gets a short-lived grant and downloads natively with it.
		var grant struct{ URL, Grant string }
		if r := anon.do("GET", p.URL+"?grant=new", nil, map[string]string{"X-Share-Password": "open sesame", "Accept": "application/json"}); r.status != 201 {
			t.Fatalf("grant: %d %s", r.status, r.body)
		} else if err := json.Unmarshal(r.body, &grant); err != nil || !strings.HasPrefix(grant.URL, p.URL+"?download=1&grant=") {
			t.Fatalf("grant: %s", r.body)
		}
		if r := anon.do("GET", grant.URL, nil, map[string]string{"Accept": "text/html"}); r.status != 200 || string(r.body) != "0123456789 lecture handout" ||
			!strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download with the grant: %d %v", r.status, r.header)
		}
		if r := anon.do("GET", p.URL+"?grant=new", nil, map[string]string{"X-Share-Password": "wrong"}); r.status != 401 {
			t.Fatalf("grant for a wrong password: %d", r.status)
		}
		if r := anon.do("GET", p.URL+"?download=1&grant="+url.QueryEscape(grant.Grant+"0"), nil, nil); r.status != 401 {
			t.Fatalf("forged grant: %d", r.status)
		}
		p2 := w.share(w.teacher, w.private.ID, map[string]any{"expires_in_s": 600, "password": "open sesame"}, 201)
		if r := anon.do("GET", p2.URL+"?download=1&grant="+url.QueryEscape(grant.Grant), nil, nil); r.status != 401 {
			t.Fatalf("another link's grant: %d", r.status)
		}
		if r := anon.do("GET", "/api/v1/documents/"+w.private.ID+"/content?token="+url.QueryEscape(grant.Grant), nil, nil); r.status != 404 {
			t.Fatalf("a grant as a read token: %d", r.status)
		}

		// Guessing is limited per link: 10 wrong (the grant's one above and
		// 9 more), then 429 even for the right one.
		for i := range 9 {
			if r := anon.do("GET", p.URL, nil, map[string]string{"X-Share-Password": "guess"}); r.status != 401 {
				t.Fatalf("guess %d: %d", i, r.status)
			}
		}
		if r := anon.do("GET", p.URL, nil, map[string]string{"X-Share-Password": "open sesame"}); r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("after 10 guesses: %d %v", r.status, r.header)
		}
		if ls := w.list(w.private.ID); len(ls) != 3 || !ls[0].HasPassword {
			t.Fatalf("listed %+v", ls)
		}

		// A download limit: exactly that many, then 404.
		m := w.share(w.teacher, w.private.ID, map[string]any{"expires_in_s": 600, "max_downloads": 2}, 201)
		anon.doJSON("GET", m.URL, nil, 200, nil)
		if r := anon.do("GET", m.URL, nil, map[string]string{"Range": "bytes=5-"}); r.status != 206 {
			t.Fatalf("a Range from 5 on a limited link: %d", r.status)
		}
		anon.doJSON("GET", m.URL, nil, 200, nil)
		wantNotFound(t, "used up", anon.do("GET", m.URL, nil, nil))

		// Revocation: by token or id, only by who may manage.
		w.other.doJSON("DELETE", "/api/v1/shares/"+l.Token, nil, 404, nil)
		anon.doJSON("DELETE", "/api/v1/shares/"+l.Token, nil, 401, nil)
		d := w.share(w.teacher, w.department.ID, map[string]any{"expires_in_s": 600}, 201)
		w.colleague.doJSON("DELETE", "/api/v1/shares/"+d.Token, nil, 403, nil)
		w.teacher.doJSON("DELETE", "/api/v1/shares/"+l.Token, nil, 204, nil)
		wantNotFound(t, "revoked", anon.do("GET", l.URL, nil, nil))
		w.teacher.doJSON("DELETE", "/api/v1/shares/"+d.ID, nil, 204, nil)
		wantNotFound(t, "revoked by id", anon.do("GET", d.URL, nil, nil))
		w.teacher.doJSON("DELETE", "/api/v1/shares/"+shares.NewToken(), nil, 404, nil)

		// Expiry, and the document's deletion.
		e := w.share(w.teacher, w.department.ID, map[string]any{"expires_in_s": 600}, 201)
		anon.doJSON("GET", e.URL, nil, 200, nil)
		if _, err := a.db.SQL().Exec("UPDATE share_links SET expires_at = ? WHERE id = ?", time.Now().UTC().Add(-time.Second), e.ID); err != nil {
			t.Fatal(err)
		}
		wantNotFound(t, "expired", anon.do("GET", e.URL, nil, nil))
		x := w.share(w.teacher, w.department.ID, map[string]any{"expires_in_s": 600}, 201)
		w.teacher.doJSON("DELETE", "/api/v1/documents/"+w.department.ID, nil, 204, nil)
		wantNotFound(t, "deleted document", anon.do("GET", x.URL, nil, nil))
	})
}

// TestShareLinkDownloadLimitIsExactAcrossInstances races many downloads
// at a limited link through two instances: exactly the limit get 200.
func TestShareLinkDownloadLimitIsExactAcrossInstances(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	a, b := startApp(t, cfg), startApp(t, cfg)
	w := newShareWorld(t, a)
	const limit = 5
	l := w.share(w.teacher, w.private.ID, map[string]any{"expires_in_s": 600, "max_downloads": limit}, 201)
	var ok, gone, other atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		app := a
		if i%2 == 1 {
			app = b
		}
		wg.Go(func() {
			res, err := app.srv.Client().Get(app.srv.URL + l.URL)
			if err != nil {
				other.Add(1)
				return
			}
			res.Body.Close()
			switch res.StatusCode {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusNotFound:
				gone.Add(1)
			default:
				other.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != limit || gone.Load() != 40-limit || other.Load() != 0 {
		t.Fatalf("200s %d, 404s %d, others %d; want exactly %d 200s", ok.Load(), gone.Load(), other.Load(), limit)
	}
	if ls := w.list(w.private.ID); ls[0].Downloads != limit {
		t.Fatalf("downloads = %d, want %d", ls[0].Downloads, limit)
	}
}

// TestShareLinkThroughNginxStopsWhenRevoked: the app pushes a link without
// password or limit to the real nginx, which answers it from the hot entry
// with the app's headers; once DELETE /shares/{token} has answered, nginx
// no longer serves it (the app answers 404). A password link stays the
// app's.
func TestShareLinkThroughNginxStopsWhenRevoked(t *testing.T) {
	if err := nginx.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and nginx is unusable: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	const secret = "share-links-nginx-admin-secret"
	listen, adminAddr := testhttp.FreeAddr(t), testhttp.FreeAddr(t)
	const tokenSecret = "share-links-nginx-token-secret"
	a := newTestApp(t, testdb.SQLite, func(c *config) {
		c.Hot.Admins, c.InternalSecret, c.Hot.ReadTokenSecret = []string{"http://" + adminAddr}, secret, tokenSecret
	})
	base, edge := startHotTierAt(t, a, tokenSecret, secret, listen, adminAddr, 2)
	ctx := context.Background()

	w := newShareWorld(t, a)
	c, err := docs.NewHotSource(a.db.Documents(), a.blobs, 1<<20).HotContent(ctx, w.private.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := edge.Push(ctx, c); err != nil { // as the promoter does for a hot document
		t.Fatal(err)
	}
	l := w.share(w.teacher, w.private.ID, map[string]any{"expires_in_s": 600}, 201)
	viaNginx := testhttp.Fetch(t, "GET", base+l.URL, nil)
	direct := a.anon().do("GET", l.URL, nil, nil)
	if viaNginx.Header.Get("X-Cache") != "HOT" || viaNginx.Status != 200 || viaNginx.Body != "0123456789 lecture handout" {
		t.Fatalf("via nginx: %d %q X-Cache %q", viaNginx.Status, viaNginx.Body, viaNginx.Header.Get("X-Cache"))
	}
	for _, h := range []string{"Content-Type", "Content-Length", "Content-Disposition", "ETag", "Last-Modified", "Cache-Control", "X-Content-Type-Options", "Content-Security-Policy"} {
		if viaNginx.Header.Get(h) != direct.header.Get(h) {
			t.Errorf("%s: nginx %q, app %q", h, viaNginx.Header.Get(h), direct.header.Get(h))
		}
	}
	p := w.share(w.teacher, w.private.ID, map[string]any{"expires_in_s": 600, "password": "pw"}, 201)
	if r := testhttp.Fetch(t, "GET", base+p.URL, nil); r.Status != 401 || r.Header.Get("X-Cache") == "HOT" {
		t.Fatalf("password link via nginx: %d X-Cache %q", r.Status, r.Header.Get("X-Cache"))
	}

	w.teacher.doJSON("DELETE", "/api/v1/shares/"+l.Token, nil, 204, nil)
	for range 10 {
		if r := testhttp.Fetch(t, "GET", base+l.URL, nil); r.Status != 404 || r.Header.Get("X-Cache") == "HOT" {
			t.Fatalf("revoked link via nginx: %d X-Cache %q %q", r.Status, r.Header.Get("X-Cache"), r.Body)
		}
	}
}
