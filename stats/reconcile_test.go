package stats_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"docplat/stats"
)

// counted makes the stats service count documents and bytes for dept, as
// committed uploads do.
func counted(t *testing.T, s *stats.Service, dept string, documents, bytes int64) {
	t.Helper()
	u := stats.UsageChange{DepartmentID: dept, DeltaBytes: bytes, DeltaDocuments: documents, DocumentID: "doc"}
	for _, op := range []string{"prepare", "commit"} {
		if err := runUsage(t, s, op, u); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
}

// documentsFake is the documents database as reconciliation sees it.
type documentsFake struct {
	truth   map[string][2]int64
	readErr error
	set     map[string][2]int64
}

func (d *documentsFake) UsageByDepartment(context.Context) (map[string][2]int64, error) {
	return d.truth, d.readErr
}

func (d *documentsFake) SetDepartmentUsage(_ context.Context, truth map[string][2]int64) error {
	d.set = truth
	return nil
}

func TestReconcileWithSetsBothSidesToTheDocuments(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		ctx := context.Background()
		counted(t, s, "d1", 5, 500)
		docs := &documentsFake{truth: map[string][2]int64{"d1": {2, 200}, "d2": {1, 10}}}
		fixed, err := s.ReconcileWith(ctx, docs)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]stats.Correction{
			"d1": {DepartmentID: "d1", Documents: 2, Bytes: 200, WasDocuments: 5, WasBytes: 500},
			"d2": {DepartmentID: "d2", Documents: 1, Bytes: 10},
		}
		got := map[string]stats.Correction{}
		for _, c := range fixed {
			got[c.DepartmentID] = c
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("corrections = %+v, want %+v", got, want)
		}
		if !reflect.DeepEqual(docs.set, docs.truth) {
			t.Fatalf("documents database told %v, want %v", docs.set, docs.truth)
		}
		if r := readUsage(t, s, "d1"); r.Used != 200 || r.Documents != 2 {
			t.Fatalf("d1 after reconcile = %+v", r)
		}
	})
}

func TestReconcileWithChangesNothingWhenTheDocumentsCannotBeRead(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		counted(t, s, "d1", 5, 500)
		broken := errors.New("documents database down")
		docs := &documentsFake{readErr: broken}
		if _, err := s.ReconcileWith(context.Background(), docs); !errors.Is(err, broken) {
			t.Fatalf("ReconcileWith = %v, want %v", err, broken)
		}
		if r := readUsage(t, s, "d1"); r.Used != 500 || r.Documents != 5 || docs.set != nil {
			t.Fatalf("changed without the documents: stats %+v, documents told %v", r, docs.set)
		}
	})
}
