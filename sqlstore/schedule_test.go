package sqlstore_test

import (
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/docs"
)

// TestScheduleQueries: Scheduled finds the documents whose publish_at or
// lecture_at lies in a window (bounds included), with both times;
// NextPublication is the earliest publish_at strictly after a time, and
// follows a change of it.
func TestScheduleQueries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		base := time.Now().UTC().Truncate(time.Second).Add(24 * time.Hour)
		owner := e.user(t, "sched-owner", accounts.RoleMember, "").ID
		mk := func(title string, publish, lecture *time.Time) docs.Document {
			d := e.create(t, docSpec{Title: title, Owner: owner, PublishAt: publish})
			if lecture != nil {
				if _, err := e.db.Documents().UpdateMeta(e.ctx, d.ID, func(docs.Document) error { return nil }, func(d *docs.Document) { d.LectureAt = lecture }); err != nil {
					t.Fatal(err)
				}
			}
			return d
		}
		at := func(d time.Duration) *time.Time { v := base.Add(d); return &v }
		early := mk("early", at(0), nil)
		lecture := mk("lecture only", nil, at(10*time.Minute))
		both := mk("both", at(5*time.Minute), at(2*time.Hour))
		mk("unscheduled", nil, nil)

		got, err := e.db.Documents().Scheduled(e.ctx, base, base.Add(10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
			if d.ID == both.ID && (d.PublishAt == nil || !d.PublishAt.Equal(base.Add(5*time.Minute)) || d.LectureAt == nil || !d.LectureAt.Equal(base.Add(2*time.Hour))) {
				t.Errorf("both times of %q: %v %v", "both", d.PublishAt, d.LectureAt)
			}
		}
		slices.Sort(ids)
		want := []string{early.ID, lecture.ID, both.ID}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("Scheduled in [base, base+10m] = %v, want %v", ids, want)
		}
		for _, c := range []struct {
			after time.Time
			want  *time.Time
		}{{base.Add(-time.Second), at(0)}, {base, at(5 * time.Minute)}, {base.Add(5 * time.Minute), nil}} {
			next, ok, err := e.db.Documents().NextPublication(e.ctx, c.after)
			if err != nil || ok != (c.want != nil) || (ok && !next.Equal(*c.want)) {
				t.Errorf("NextPublication(%s) = %s %t %v, want %v", c.after, next, ok, err, c.want)
			}
		}
		if _, err := e.db.Documents().UpdateMeta(e.ctx, early.ID, func(docs.Document) error { return nil }, func(d *docs.Document) { d.PublishAt = at(time.Minute) }); err != nil {
			t.Fatal(err)
		}
		if next, ok, _ := e.db.Documents().NextPublication(e.ctx, base.Add(-time.Second)); !ok || !next.Equal(base.Add(time.Minute)) {
			t.Errorf("after moving it: NextPublication = %s %t, want base+1m", next, ok)
		}
	})
}

// TestAListingIsDecidedByTheServicesClock: docs.Service.List decides
// publication by its own clock (Options.Now), as its reads do, not the
// store's: a student's listing shows a handout scheduled an hour ahead
// once the service's clock has passed it, and not before.
func TestAListingIsDecidedByTheServicesClock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		dept := e.dept(t, "Physics", 0)
		teacher := e.user(t, "teacher", accounts.RoleMember, dept)
		student := e.user(t, "student", accounts.RoleMember, dept)
		var skew atomic.Int64
		svc := docs.NewService(e.repo(t), e.blobs, docs.Options{Logger: slog.New(slog.DiscardHandler),
			Now: func() time.Time { return time.Now().UTC().Add(time.Duration(skew.Load())) }})
		st, err := svc.Stage(strings.NewReader("next week's handout"), "handout.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Discard()
		at := time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
		d, err := svc.Create(e.ctx, docs.Actor{UserID: teacher.ID, DepartmentID: dept}, docs.NewDocument{Title: "handout", Visibility: docs.Department, PublishAt: at}, st)
		if err != nil {
			t.Fatal(err)
		}
		listed := func() bool {
			items, _, err := svc.List(e.ctx, docs.Actor{UserID: student.ID, DepartmentID: dept}, docs.ListInput{})
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(items, func(x docs.Document) bool { return x.ID == d.ID })
		}
		if listed() {
			t.Fatal("listed before its publication")
		}
		skew.Store(int64(2 * time.Hour))
		if !listed() {
			t.Fatal("not listed once the service's clock passed its publication")
		}
	})
}
