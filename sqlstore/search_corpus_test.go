package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/blob"
	"docplat/docs"
	"docplat/loadgen/scenario"
	"docplat/sqlstore"
)

// corpus loads n pages of the shared corpus (../shared/corpus), or skips
// when this checkout has none beside it; DOCPLAT_CORPUS set and wrong fails.
func corpus(tb testing.TB, n int) []scenario.SeedFile {
	tb.Helper()
	dir, err := scenario.FindCorpus(".")
	if err != nil {
		if os.Getenv("DOCPLAT_CORPUS") != "" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	files, err := scenario.CorpusFiles(dir, n)
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// seedCorpus stores files as public documents of owner (indexed as an
// upload indexes them, without blobs: search reads the index only) and
// returns their ids.
func seedCorpus(tb testing.TB, ctx context.Context, db *sqlstore.DB, owner string, files []scenario.SeedFile) []string {
	tb.Helper()
	ids := make([]string, len(files))
	base := time.Now().UTC().Add(-time.Duration(len(files)) * time.Second)
	for i, f := range files {
		sum := sha256.Sum256(append([]byte(f.Title+"\x00"), f.Content...))
		at := base.Add(time.Duration(i) * time.Second)
		c := docs.NewContent{
			Version: docs.Version{Version: 1, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(f.Content)),
				Mime: "text/plain; charset=utf-8", Filename: f.Name, CreatedBy: owner, CreatedAt: at},
			Text: string(f.Content),
		}
		d := docs.Document{ID: docs.NewID(), Title: f.Title, Tags: strings.Split(f.Tags, ","), Visibility: docs.Public,
			OwnerID: owner, Filename: f.Name, Size: c.Version.Size, Mime: c.Version.Mime, SHA256: c.Version.SHA256,
			Version: 1, Revision: 1, CreatedAt: at, UpdatedAt: at}
		if err := sqlstore.SeedDocument(ctx, db, d, c.Version, c.Text); err != nil {
			tb.Fatalf("Create(%s): %v", f.Name, err)
		}
		ids[i] = d.ID
	}
	return ids
}

// TestSearchFindsTheRightCorpusPageFirst searches the 2,291 real manual
// pages, Chinese and English, as a user would (through docs.Service, so
// the snippet is marked up), on both databases; then the generated corpus
// queries each find their page.
func TestSearchFindsTheRightCorpusPageFirst(t *testing.T) {
	files := corpus(t, 2291)
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "owner", accounts.RoleMember, "")
		ids := seedCorpus(t, e.ctx, e.db, owner.ID, files)
		bs, err := blob.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		svc := docs.NewService(e.repo(t), bs, docs.Options{})
		for _, tc := range []struct {
			name, q   string
			wantTitle string // the first result's title has this
			mark      string // the snippet marks this
		}{
			{"Chinese phrase from a title", "增强选项", "Button - 有增强选项的按钮组件", "<mark>增强选项</mark>"},
			{"Chinese word of three characters", "剪贴板", "clipboard - 操纵 Tk 剪贴板", "<mark>剪贴板</mark>"},
			{"Chinese two-character word: a page with it in its title first", "游标", "游标", "<mark>游标</mark>"},
			{"English word", "lsof", "lsof - list open files", "<mark>lsof</mark>"},
			{"fragment inside a word", "soeli", "zsoelim", "<mark>soeli</mark>"},
			{"two English terms, any case", "Pluggable AUTHENTICATION", "PAM, pam - Pluggable Authentication Modules", "<mark>"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				items, total, err := svc.List(e.ctx, docs.Actor{}, docs.ListInput{Q: tc.q})
				if err != nil {
					t.Fatalf("List(%q): %v", tc.q, err)
				}
				if len(items) == 0 || total < int64(len(items)) {
					t.Fatalf("search %q found %d (total %d)", tc.q, len(items), total)
				}
				if !strings.Contains(items[0].Title, tc.wantTitle) {
					var got []string
					for _, d := range items[:min(3, len(items))] {
						got = append(got, d.Title)
					}
					t.Fatalf("search %q ranks %q first, want a title with %q", tc.q, got, tc.wantTitle)
				}
				if !strings.Contains(items[0].Snippet, tc.mark) {
					t.Fatalf("snippet of %q = %q, want %q in it", items[0].Title, items[0].Snippet, tc.mark)
				}
			})
		}
		// The queries the benchmark and the load generator send each find
		// the page they were taken from.
		for _, q := range scenario.CorpusQueries(files, 60, 3) {
			terms, err := docs.ParseTerms(q.Q)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for page := 1; !found; page++ {
				items, total := e.list(t, docs.Actor{}, docs.Query{Terms: terms, Sort: docs.SortRelevance, Page: page, Size: 100})
				for _, d := range items {
					found = found || d.ID == ids[q.From]
				}
				if int64(page*100) >= total {
					break
				}
			}
			if !found {
				t.Errorf("%s query %q does not find %s", q.Kind, q.Q, files[q.From].Name)
			}
		}
		noFallback(t, e)
	})
}
