package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"testing"
	"time"

	"docplat/docs"
	"docplat/internal/failpoint"
	"docplat/internal/testdb"
	"docplat/internal/wait"
	"docplat/stats"
)

const adminPassword = "admin-password-1"

// testApp is a docplat built with main's own wiring on a real database,
// served over real HTTP on loopback.
type testApp struct {
	*app
	t   testing.TB
	srv *httptest.Server
}

func newTestApp(t testing.TB, backend testdb.Backend, mutate ...func(*config)) *testApp {
	t.Helper()
	cfg := testConfig(t, backend)
	for _, m := range mutate {
		m(&cfg)
	}
	return startApp(t, cfg)
}

// startApp builds and serves an app on cfg; several may share one database
// and data directory, as instances of one deployment do.
func startApp(t testing.TB, cfg config) *testApp {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("DOCPLAT_TEST_LOG") == "1" { // see the servers' warnings while debugging a test
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := build(ctx, cfg, log)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if _, _, err := a.accounts.EnsureAdmin(ctx, adminPassword); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.runBackground(runCtx).Wait(); close(done) }()
	wait.For(t, wait.Limit, "the cache to follow invalidations", a.cache.Following)
	srv := httptest.NewServer(a.server)
	t.Cleanup(func() { srv.Close(); stop(); <-done; a.Close() })
	return &testApp{app: a, t: t, srv: srv}
}

func testConfig(t testing.TB, backend testdb.Backend) config {
	cfg, err := parseServe(nil, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store.DB.DataDir = t.TempDir()
	cfg.Store.DB.MySQLDSN = testdb.DSNFor(t, backend)
	cfg.Stats.DB.MySQLDSN = testdb.DSNFor(t, backend)
	cfg.Store.Migrate = true
	cfg.Docs.MaxUploadBytes = 1 << 20
	return cfg
}

// noEnv is an empty environment.
func noEnv(k string) (string, bool) { return noEnvironment(k) }

// testStatsConfig is `docplat stats` as the tests run it, on its own
// database of the backend.
func testStatsConfig(t testing.TB, backend testdb.Backend) stats.ProcessConfig {
	b, _, cfg := processFlags[stats.ProcessConfig]("stats", noEnv)
	if err := b.Parse(nil); err != nil {
		t.Fatal(err)
	}
	cfg.DB.DataDir = t.TempDir()
	cfg.DB.MySQLDSN = testdb.DSNFor(t, backend)
	return *cfg
}

// client speaks the HTTP contract as a given user (token "" is anonymous).
type client struct {
	app   *testApp
	token string
}

func (a *testApp) anon() *client { return &client{app: a} }

func (a *testApp) login(username, password string) *client {
	a.t.Helper()
	var out struct{ Token string }
	a.anon().doJSON("POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password}, 200, &out)
	return &client{app: a, token: out.Token}
}

func (a *testApp) admin() *client { return a.login("admin", adminPassword) }

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errorCode() string {
	var e struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (c *client) do(method, path string, body io.Reader, header map[string]string) response {
	c.app.t.Helper()
	req, err := http.NewRequest(method, c.app.srv.URL+path, body)
	if err != nil {
		c.app.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.app.srv.Client().Do(req)
	if err != nil {
		c.app.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// doJSON sends in as JSON (unless nil), checks the status and decodes into out.
func (c *client) doJSON(method, path string, in any, want int, out any) response {
	c.app.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	r := c.do(method, path, body, map[string]string{"Content-Type": "application/json"})
	if r.status != want {
		c.app.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			c.app.t.Fatalf("%s %s: decoding %s: %v", method, path, r.body, err)
		}
	}
	return r
}

// multipartBody builds an upload: the file part (named filename) and fields.
func multipartBody(filename string, content []byte, fields map[string]string) (io.Reader, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if filename != "" || content != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+strings.ReplaceAll(filename, `"`, `\"`)+`"`)
		h.Set("Content-Type", "application/octet-stream")
		p, _ := w.CreatePart(h)
		_, _ = p.Write(content)
	}
	_ = w.Close()
	return &buf, w.FormDataContentType()
}

type document struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Visibility   string   `json:"visibility"`
	OwnerID      string   `json:"owner_id"`
	DepartmentID string   `json:"department_id"`
	Mime         string   `json:"mime"`
	SHA256       string   `json:"sha256"`
	Snippet      string   `json:"snippet"`
	Tags         []string `json:"tags"`
	Size         int64    `json:"size"`
	Version      int      `json:"version"`
	Revision     int      `json:"revision"`
	TextState    string   `json:"text_state"`
}

func (c *client) upload(filename string, content []byte, fields map[string]string) (response, document) {
	c.app.t.Helper()
	body, ct := multipartBody(filename, content, fields)
	r := c.do("POST", "/api/v1/documents", body, map[string]string{"Content-Type": ct})
	var d document
	if r.status == http.StatusCreated {
		_ = json.Unmarshal(r.body, &d)
	}
	return r, d
}

func (c *client) mustUpload(filename, content string, fields map[string]string) document {
	c.app.t.Helper()
	r, d := c.upload(filename, []byte(content), fields)
	if r.status != http.StatusCreated {
		c.app.t.Fatalf("upload %s: %d %s", filename, r.status, r.body)
	}
	return d
}

// extracted waits until d's text is out of pending (its body searchable)
// and returns d with its text state. The extraction bumps no revision.
func (a *testApp) extracted(d document) document {
	a.t.Helper()
	var cur docs.Document
	wait.For(a.t, wait.Limit, "the text of "+d.ID+" to be extracted", func() bool {
		var err error
		cur, err = a.db.Documents().Get(context.Background(), d.ID)
		return err == nil && cur.TextState != docs.TextPending
	})
	if cur.Revision != d.Revision {
		a.t.Fatalf("the extraction of %s moved its revision from %d to %d", d.ID, d.Revision, cur.Revision)
	}
	d.TextState = string(cur.TextState)
	return d
}

type docList struct {
	Items []document
	Total int64
}

func (c *client) search(query string) docList {
	c.app.t.Helper()
	var l docList
	c.doJSON("GET", "/api/v1/documents?"+query, nil, 200, &l)
	return l
}

func ids(l docList) []string {
	out := []string{}
	for _, d := range l.Items {
		out = append(out, d.ID)
	}
	return out
}

// owns reports whether a failpoint's scope is one of a's databases (its
// documents database, where its coordinator logs too, or its stats one):
// apps of parallel tests pass each other's failpoints by.
func (a *testApp) owns(scope any) bool {
	return scope == a.db.Gorm() || (a.stats != nil && scope == a.stats.DB())
}

// onStep calls hit at the three-phase-commit step (txn's name) in a's
// processes until t ends; an error from hit is a crash there.
func (a *testApp) onStep(t testing.TB, step string, hit func(step string) error) {
	failpoint.Enable(t, failpoint.TxnStep(step), func(scope any) error {
		if !a.owns(scope) {
			return nil
		}
		return hit(step)
	})
}

// countRows counts rows of a table in the app's database.
func (a *testApp) countRows(table string) int64 {
	a.t.Helper()
	var n int64
	if err := a.db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// forEachBackend runs f against the embedded SQLite mode and MariaDB.
func forEachBackend(t *testing.T, f func(t *testing.T, b testdb.Backend)) {
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) { f(t, b) })
	}
}

// withClock returns a document service over the app's stores whose clock
// runs ahead by skew (to step past grace periods without sleeping).
func withClock(a *testApp, skew time.Duration) *docs.Service {
	return docs.NewService(docs.WithThreePhaseCommit(a.db.Documents(), a.coord, 0), a.blobs, docs.Options{
		MaxUploadBytes: a.cfg.Docs.MaxUploadBytes, BlobGrace: a.cfg.Docs.BlobGrace,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    func() time.Time { return time.Now().UTC().Add(skew) },
	})
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
