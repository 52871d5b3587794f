package docs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"docplat/blob"
	"docplat/hotspot"
)

// rowRepo is a Store holding rows by id; only Get is used.
type rowRepo struct {
	Store // nil: calling anything but Get panics
	rows  map[string]Document
}

func (r rowRepo) Get(_ context.Context, id string) (Document, error) {
	d, ok := r.rows[id]
	if !ok {
		return Document{}, ErrNotFound
	}
	return d, nil
}

// TestHotSourceReadsTheStoreAndRefusesWhatTheEdgeMustNotHold: a document
// within the size limit comes with its bytes, its revision and the headers
// ContentPolicy decides for a view and a download; a gone or too large one
// is ErrNotPromotable; a blob shorter than its row is an error, never a
// truncated entry.
func TestHotSourceReadsTheStoreAndRefusesWhatTheEdgeMustNotHold(t *testing.T) {
	blobs, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := blobs.Stage(strings.NewReader("hot bytes"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	sha := st.SHA256
	doc := Document{ID: "D1", Revision: 4, Version: 2, Size: 9, SHA256: sha, Mime: "text/plain; charset=utf-8",
		Filename: "讲义.txt", Visibility: Department}
	big, short := doc, doc
	big.ID, big.Size = "BIG", 11
	short.ID, short.Size = "SHORT", 10
	src := NewHotSource(rowRepo{rows: map[string]Document{"D1": doc, "BIG": big, "SHORT": short}}, blobs, 10)
	ctx := context.Background()

	c, err := src.HotContent(ctx, "D1")
	if err != nil {
		t.Fatal(err)
	}
	p := ContentPolicy(doc, currentVersion(doc))
	if c.ID != "D1" || c.Rev != 4 || c.Version != 2 || c.Visibility != "department" || string(c.Body) != "hot bytes" {
		t.Fatalf("content = %+v", c)
	}
	for name, got := range map[string][]string{"view": c.View.Values("Content-Disposition"), "download": c.Download.Values("Content-Disposition")} {
		want := p.Header(name == "download").Get("Content-Disposition")
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s disposition = %q, want %q", name, got, want)
		}
	}
	if c.View.Get("ETag") != `"`+sha+`"` || c.View.Get("Cache-Control") != "private, no-cache" {
		t.Errorf("view headers = %v", c.View)
	}
	if rev, err := src.HotRevision(ctx, "D1"); rev != 4 || err != nil {
		t.Errorf("HotRevision = %d, %v", rev, err)
	}
	for _, id := range []string{"GONE", "BIG"} {
		if _, err := src.HotContent(ctx, id); !errors.Is(err, hotspot.ErrNotPromotable) {
			t.Errorf("HotContent(%s) = %v, want ErrNotPromotable", id, err)
		}
		if _, err := src.HotRevision(ctx, id); !errors.Is(err, hotspot.ErrNotPromotable) {
			t.Errorf("HotRevision(%s) = %v, want ErrNotPromotable", id, err)
		}
	}
	if _, err := src.HotContent(ctx, "SHORT"); err == nil || errors.Is(err, hotspot.ErrNotPromotable) {
		t.Errorf("a blob shorter than its row: %v, want an error", err)
	}
}
