package docs

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"docplat/blob"
)

// recordingRepo is a Repository that records the Query List receives and
// answers it with fixed items. Other methods are not used by these tests.
type recordingRepo struct {
	Repository // nil: calling anything but List panics

	calls int
	actor Actor
	query Query
	items []Document
	next  time.Time // NextPublication's answer (zero: nothing scheduled)
}

func (r *recordingRepo) NextPublication(_ context.Context, after time.Time) (time.Time, bool, error) {
	return r.next, r.next.After(after), nil
}

func (r *recordingRepo) List(_ context.Context, actor Actor, q Query) ([]Document, int64, error) {
	r.calls++
	r.actor, r.query = actor, q
	out := append([]Document(nil), r.items...)
	return out, int64(len(out)), nil
}

func newListService(t *testing.T, repo Repository) *Service {
	t.Helper()
	blobs, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return NewService(repo, blobs, Options{Now: func() time.Time { return listNow }})
}

// listNow is the list services' clock: the query carries it (Query.At).
var listNow = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

func TestListBuildsQuery(t *testing.T) {
	cases := []struct {
		name string
		in   ListInput
		want Query
	}{
		{"defaults without terms sort by creation", ListInput{},
			Query{Sort: SortCreated, Page: 1, Size: 20}},
		{"defaults with terms sort by relevance", ListInput{Q: "Cache Go"},
			Query{Terms: []string{"cache", "go"}, Sort: SortRelevance, Page: 1, Size: 20}},
		{"relevance without terms falls back to creation", ListInput{Sort: "relevance"},
			Query{Sort: SortCreated, Page: 1, Size: 20}},
		{"explicit sort is kept with terms", ListInput{Q: "go", Sort: "views"},
			Query{Terms: []string{"go"}, Sort: SortViews, Page: 1, Size: 20}},
		{"page 0 means the first page", ListInput{Page: 0, PageSize: 0},
			Query{Sort: SortCreated, Page: 1, Size: 20}},
		{"largest page and page size", ListInput{Page: 100000, PageSize: 100},
			Query{Sort: SortCreated, Page: 100000, Size: 100}},
		{"filters are passed on and the tag trimmed", ListInput{Tag: "  ops ", OwnerID: "u1", DepartmentID: "A", Sort: "created_at"},
			Query{Tag: "ops", OwnerID: "u1", DepartmentID: "A", Sort: SortCreated, Page: 1, Size: 20}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := &recordingRepo{}
			s := newListService(t, repo)
			actor := Actor{UserID: "u1", DepartmentID: "A"}
			if _, _, err := s.List(context.Background(), actor, tc.in); err != nil {
				t.Fatalf("List(%+v): %v", tc.in, err)
			}
			if repo.calls != 1 {
				t.Fatalf("repository List called %d times, want 1", repo.calls)
			}
			if !reflect.DeepEqual(repo.actor, actor) {
				t.Errorf("repository got actor %+v, want %+v", repo.actor, actor)
			}
			tc.want.At = listNow // the service's clock decides the read rule
			if !reflect.DeepEqual(repo.query, tc.want) {
				t.Errorf("repository got query %+v, want %+v", repo.query, tc.want)
			}
		})
	}
}

func TestListRejectsBadInput(t *testing.T) {
	long := string(make([]byte, 65))
	cases := []struct {
		name string
		in   ListInput
	}{
		{"page size 101", ListInput{PageSize: 101}},
		{"negative page size", ListInput{PageSize: -1}},
		{"negative page", ListInput{Page: -1}},
		{"page past 100000", ListInput{Page: 100001}},
		{"unknown sort", ListInput{Sort: "bogus"}},
		{"sort is case-sensitive", ListInput{Sort: "Views"}},
		{"too many terms", ListInput{Q: "a b c d e f g h i"}},
		{"owner id too long", ListInput{OwnerID: long}},
		{"department id too long", ListInput{DepartmentID: long}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := &recordingRepo{}
			s := newListService(t, repo)
			_, _, err := s.List(context.Background(), Actor{}, tc.in)
			wantInvalid(t, fmt.Sprintf("List(%+v)", tc.in), err)
			if repo.calls != 0 {
				t.Errorf("repository List called %d times for invalid input, want 0", repo.calls)
			}
		})
	}
}

func TestListMarksSnippetsOnlyWhenSearching(t *testing.T) {
	item := Document{ID: "d1", Snippet: "<b>Cache</b> notes", CreatedAt: time.Unix(0, 0)}
	cases := []struct {
		name string
		q    string
		want string
	}{
		{"search escapes and marks the snippet", "cache", "&lt;b&gt;<mark>Cache</mark>&lt;/b&gt; notes"},
		{"listing leaves the snippet alone", "", "<b>Cache</b> notes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := &recordingRepo{items: []Document{item}}
			s := newListService(t, repo)
			got, total, err := s.List(context.Background(), Actor{}, ListInput{Q: tc.q})
			if err != nil {
				t.Fatal(err)
			}
			if total != 1 || len(got) != 1 {
				t.Fatalf("List = %d items, total %d; want 1, 1", len(got), total)
			}
			if got[0].Snippet != tc.want {
				t.Errorf("snippet = %q, want %q", got[0].Snippet, tc.want)
			}
		})
	}
}
