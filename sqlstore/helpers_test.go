package sqlstore_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/blob"
	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/sqlstore"
	"docplat/stats"
	"docplat/txn"
)

// env is one backend's fresh database with a blob store beside it.
type env struct {
	t       *testing.T // the test that owns the env
	backend testdb.Backend
	ctx     context.Context
	db      *sqlstore.DB
	blobs   *blob.Store
	mu      sync.Mutex
	writes  docs.Repository // see repo
}

// forEachBackend runs fn once per backend in testdb.Backends, each in its own
// parallel subtest with a fresh, migrated database. The calling test runs in
// parallel with the others too: every test has a database of its own.
func forEachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Parallel()
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := openEnv(t, b)
			if _, err := e.db.Migrate(e.ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			fn(t, e)
		})
	}
}

// openEnv opens a fresh, not yet migrated database for backend b.
func openEnv(t *testing.T, b testdb.Backend) *env {
	t.Helper()
	ctx := t.Context()
	db, err := sqlstore.Open(ctx, sqlstore.Config{MySQLDSN: testdb.DSNFor(t, b), DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open(%s): %v", b, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	bs, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatalf("blob.Open: %v", err)
	}
	return &env{t: t, backend: b, ctx: ctx, db: db, blobs: bs}
}

func (e *env) mariadb() bool { return e.backend == testdb.MariaDB }

// dept creates a department with the given quota (0 is unlimited).
func (e *env) dept(t *testing.T, name string, quota int64) string {
	t.Helper()
	now := time.Now().UTC()
	d := accounts.Department{ID: accounts.NewID(), Name: name, QuotaBytes: quota, CreatedAt: now, UpdatedAt: now}
	if err := e.db.Accounts().CreateDepartment(e.ctx, d); err != nil {
		t.Fatalf("CreateDepartment(%s): %v", name, err)
	}
	return d.ID
}

// user creates a member (or role) of department dept ("" for none).
func (e *env) user(t *testing.T, username string, role accounts.Role, dept string) accounts.User {
	t.Helper()
	now := time.Now().UTC()
	u := accounts.User{ID: accounts.NewID(), Username: username, DisplayName: "User " + username, Role: role,
		DepartmentID: dept, PasswordHash: "hash-of-" + username, CreatedAt: now, UpdatedAt: now}
	if err := e.db.Accounts().CreateUser(e.ctx, u); err != nil {
		t.Fatalf("CreateUser(%s): %v", username, err)
	}
	return u
}

// staged stages content in the blob store; it is discarded at cleanup
// unless committed.
func (e *env) staged(t *testing.T, content string) *blob.Staged {
	t.Helper()
	st, err := e.blobs.Stage(strings.NewReader(content), 1<<20)
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	t.Cleanup(func() { _ = st.Discard() })
	return st
}

// newContent stages content (also used as the indexed text) for version 1.
func (e *env) newContent(t *testing.T, content, filename, by string) (docs.NewContent, *blob.Staged) {
	t.Helper()
	st := e.staged(t, content)
	return docs.NewContent{
		Version: docs.Version{Version: 1, SHA256: st.SHA256, Size: st.Size, Mime: "text/plain; charset=utf-8",
			Filename: filename, CreatedBy: by, CreatedAt: time.Now().UTC()},
		Text:      content,
		TextState: docs.TextReady,
		Staged:    st.TempName(),
	}, st
}

// docSpec is what a test says about a document; the rest is defaulted.
type docSpec struct {
	Title       string
	Description string
	Body        string // file content and indexed text; defaults to a unique text
	Tags        []string
	Visibility  docs.Visibility
	Owner       string
	Dept        string
	CreatedAt   time.Time
	PublishAt   *time.Time
}

// document builds the Document and NewContent for spec without storing them.
func (e *env) document(t *testing.T, s docSpec) (docs.Document, docs.NewContent, *blob.Staged) {
	t.Helper()
	if s.Body == "" {
		s.Body = "body of " + s.Title + " " + accounts.NewID()
	}
	if s.Visibility == "" {
		s.Visibility = docs.Private
	}
	if s.Title == "" {
		s.Title = "untitled"
	}
	c, st := e.newContent(t, s.Body, strings.ReplaceAll(s.Title, " ", "_")+".txt", s.Owner)
	now := s.CreatedAt
	if now.IsZero() {
		now = c.Version.CreatedAt
	}
	c.Version.CreatedAt = now
	d := docs.Document{ID: docs.NewID(), Title: s.Title, Description: s.Description, Tags: s.Tags,
		Visibility: s.Visibility, OwnerID: s.Owner, DepartmentID: s.Dept, Filename: c.Version.Filename,
		Size: c.Version.Size, Mime: c.Version.Mime, SHA256: c.Version.SHA256, Version: 1, Revision: 1,
		TextState: c.TextState, CreatedAt: now, UpdatedAt: now, PublishAt: s.PublishAt}
	return d, c, st
}

// repo is the write path production uses, over e's database: content
// changes run as three-phase commits between its documents participant and
// a stats service with a database of its own, as cmd/docplat wires them.
func (e *env) repo(t *testing.T) docs.Repository {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.writes != nil {
		return e.writes
	}
	st, err := stats.Open(e.ctx, stats.Config{MySQLDSN: testdb.DSNFor(e.t, e.backend), DataDir: e.t.TempDir()})
	if err != nil {
		t.Fatalf("stats.Open: %v", err)
	}
	e.t.Cleanup(func() { _ = st.Close() })
	log := slog.New(slog.DiscardHandler)
	participants := map[string]txn.Participant{}
	peers := func(name string) txn.Participant { return participants[name] }
	coord := txn.NewCoordinator(txn.CoordinatorOptions{DB: e.db.Gorm(), Participants: participants, Logger: log,
		Synchronous: []string{docs.ParticipantDocuments}})
	participants[docs.ParticipantDocuments] = txn.NewParticipant(txn.ParticipantOptions{Name: docs.ParticipantDocuments,
		DB: e.db.Gorm(), Handler: e.db.DocsParticipant(e.blobs), ForUpdate: e.mariadb(), Coordinator: coord, Peers: peers, Logger: log})
	participants[stats.ParticipantName] = txn.NewParticipant(txn.ParticipantOptions{Name: stats.ParticipantName,
		DB: st.DB(), Handler: st.Usage(), ForUpdate: st.MySQL(), Coordinator: coord, Peers: peers, Logger: log})
	e.writes = docs.WithThreePhaseCommit(e.db.Documents(), coord, 0)
	return e.writes
}

// create stores a document described by s through the real write path and
// returns it as passed to Create.
func (e *env) create(t *testing.T, s docSpec) docs.Document {
	t.Helper()
	d, c, _ := e.document(t, s)
	if err := e.repo(t).Create(e.ctx, d, c); err != nil {
		t.Fatalf("Create(%q): %v", s.Title, err)
	}
	return d
}

// count runs a COUNT(*) query on the raw pool.
func (e *env) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.db.SQL().QueryRowContext(e.ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// rowsOf counts a document's rows in documents, document_versions and document_tags.
func (e *env) rowsOf(t *testing.T, id string) (docRows, versionRows, tagRows int64) {
	t.Helper()
	return e.count(t, "SELECT COUNT(*) FROM documents WHERE id = ?", id),
		e.count(t, "SELECT COUNT(*) FROM document_versions WHERE document_id = ?", id),
		e.count(t, "SELECT COUNT(*) FROM document_tags WHERE document_id = ?", id)
}

func (e *env) bytesUsed(t *testing.T, dept string) int64 {
	t.Helper()
	d, err := e.db.Accounts().DepartmentByID(e.ctx, dept)
	if err != nil {
		t.Fatalf("DepartmentByID: %v", err)
	}
	return d.BytesUsed
}

// blobExists reports whether the committed blob sha is on disk.
func (e *env) blobExists(t *testing.T, sha string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(e.blobs.Dir(), "blobs", sha[0:2], sha[2:4], sha))
	if err == nil {
		return true
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat blob: %v", err)
	}
	return false
}

// list runs Documents().List and fails the test on error.
func (e *env) list(t *testing.T, a docs.Actor, q docs.Query) ([]docs.Document, int64) {
	t.Helper()
	if q.Page == 0 {
		q.Page = 1
	}
	if q.Size == 0 {
		q.Size = 100
	}
	items, total, err := e.db.Documents().List(e.ctx, a, q)
	if err != nil {
		t.Fatalf("List(%+v, %+v): %v", a, q, err)
	}
	return items, total
}

// ids returns the sorted ids of documents.
func ids(ds []docs.Document) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	slices.Sort(out)
	return out
}

// sorted returns a sorted copy of ss.
func sorted(ss ...string) []string {
	out := slices.Clone(ss)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}

// names maps ids back to readable names for failure messages.
func names(idName map[string]string, idList []string) []string {
	out := make([]string, len(idList))
	for i, id := range idList {
		if n, ok := idName[id]; ok {
			out[i] = n
		} else {
			out[i] = id
		}
	}
	slices.Sort(out)
	return out
}

func noCheck(docs.Document) error { return nil }
