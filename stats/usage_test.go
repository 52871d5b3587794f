package stats_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"gorm.io/gorm"

	"docplat/stats"
	"docplat/txn"
)

// runUsage calls one participant method inside a local transaction of the
// stats database, as txn's participant engine does. Like the engine, a
// *txn.VoteNo does not roll the transaction back (the engine records the
// aborted branch in it and commits), so "nothing changed" is checked on
// committed state. Any other error rolls back.
func runUsage(t testing.TB, s *stats.Service, op string, u stats.UsageChange) error {
	t.Helper()
	h := s.Usage()
	ctx := context.Background()
	p := payload(t, u)
	var handlerErr error
	err := s.DB().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		switch op {
		case "prepare":
			handlerErr = h.Prepare(ctx, tx, "tx-"+op, p)
		case "commit":
			handlerErr = h.Commit(ctx, tx, "tx-"+op, p)
		case "abort":
			handlerErr = h.Abort(ctx, tx, "tx-"+op, p)
		default:
			return fmt.Errorf("unknown op %q", op)
		}
		var no *txn.VoteNo
		if errors.As(handlerErr, &no) {
			return nil
		}
		return handlerErr
	})
	if handlerErr != nil {
		return handlerErr
	}
	return err
}

// TestUsageParticipant walks the participant through sequences of
// Prepare/Commit/Abort for one department and checks the stored row
// (quota, used, reserved, documents) after every step.
func TestUsageParticipant(t *testing.T) {
	type step struct {
		op     string // prepare | commit | abort
		quota  int64
		delta  int64
		docs   int64
		wantNo bool // Prepare votes no with reason "quota"
		want   usageRow
	}
	row := func(quota, used, reserved, docs int64) usageRow {
		return usageRow{Quota: quota, Used: used, Reserved: reserved, Documents: docs, Found: true}
	}
	const tb = int64(1) << 40
	cases := []struct {
		name  string
		steps []step
	}{
		{"reserve, refuse over quota, commit", []step{
			{op: "prepare", quota: 1000, delta: 600, docs: 1, want: row(1000, 0, 600, 0)},
			{op: "prepare", quota: 1000, delta: 500, docs: 1, wantNo: true, want: row(1000, 0, 600, 0)},
			{op: "commit", quota: 1000, delta: 600, docs: 1, want: row(1000, 600, 0, 1)},
			{op: "prepare", quota: 1000, delta: 500, docs: 1, wantNo: true, want: row(1000, 600, 0, 1)},
			{op: "prepare", quota: 1000, delta: 400, docs: 1, want: row(1000, 600, 400, 1)}, // exactly fills the quota
			{op: "commit", quota: 1000, delta: 400, docs: 1, want: row(1000, 1000, 0, 2)},
			{op: "prepare", quota: 1000, delta: 1, docs: 1, wantNo: true, want: row(1000, 1000, 0, 2)},
		}},
		{"first upload larger than the quota", []step{
			{op: "prepare", quota: 1000, delta: 1001, docs: 1, wantNo: true, want: row(1000, 0, 0, 0)},
		}},
		{"abort releases the reservation", []step{
			{op: "prepare", quota: 1000, delta: 600, docs: 1, want: row(1000, 0, 600, 0)},
			{op: "prepare", quota: 1000, delta: 300, docs: 1, want: row(1000, 0, 900, 0)},
			{op: "abort", quota: 1000, delta: 600, docs: 1, want: row(1000, 0, 300, 0)},
			{op: "abort", quota: 1000, delta: 300, docs: 1, want: row(1000, 0, 0, 0)},
			{op: "prepare", quota: 1000, delta: 1000, docs: 1, want: row(1000, 0, 1000, 0)}, // the whole quota is free again
			{op: "abort", quota: 1000, delta: 1000, docs: 1, want: row(1000, 0, 0, 0)},
		}},
		{"deletes never vote no; commit subtracts and stops at zero", []step{
			{op: "prepare", quota: 1000, delta: 600, docs: 1, want: row(1000, 0, 600, 0)},
			{op: "commit", quota: 1000, delta: 600, docs: 1, want: row(1000, 600, 0, 1)},
			{op: "prepare", quota: 1000, delta: 300, docs: 1, want: row(1000, 600, 300, 1)},
			// the department is full (and over the payload's quota, which is recorded): a delete still votes yes
			{op: "prepare", quota: 100, delta: -200, docs: -1, want: row(100, 600, 300, 1)},
			{op: "commit", quota: 100, delta: -200, docs: -1, want: row(100, 400, 300, 0)},
			// an aborted delete releases nothing (it reserved nothing)
			{op: "prepare", quota: 1000, delta: -50, docs: -1, want: row(1000, 400, 300, 0)},
			{op: "abort", quota: 1000, delta: -50, docs: -1, want: row(1000, 400, 300, 0)},
			// deleting more than is counted stops at zero
			{op: "prepare", quota: 1000, delta: -5000, docs: -5, want: row(1000, 400, 300, 0)},
			{op: "commit", quota: 1000, delta: -5000, docs: -5, want: row(1000, 0, 300, 0)},
			{op: "commit", quota: 1000, delta: 300, docs: 1, want: row(1000, 300, 0, 1)},
		}},
		{"delete in a department never seen", []step{
			{op: "prepare", quota: 1000, delta: -10, docs: -1, want: row(1000, 0, 0, 0)},
			{op: "commit", quota: 1000, delta: -10, docs: -1, want: row(1000, 0, 0, 0)},
		}},
		{"quota 0 is unlimited", []step{
			{op: "prepare", quota: 0, delta: tb, docs: 1, want: row(0, 0, tb, 0)},
			{op: "commit", quota: 0, delta: tb, docs: 1, want: row(0, tb, 0, 1)},
			{op: "prepare", quota: 0, delta: tb, docs: 1, want: row(0, tb, tb, 1)},
			{op: "commit", quota: 0, delta: tb, docs: 1, want: row(0, 2*tb, 0, 2)},
		}},
		{"the payload's quota updates the stored quota", []step{
			{op: "prepare", quota: 1000, delta: 600, docs: 1, want: row(1000, 0, 600, 0)},
			{op: "commit", quota: 1000, delta: 600, docs: 1, want: row(1000, 600, 0, 1)},
			{op: "prepare", quota: 1000, delta: 500, docs: 1, wantNo: true, want: row(1000, 600, 0, 1)},
			// the quota was raised: the same upload now fits and the new quota is stored
			{op: "prepare", quota: 2000, delta: 500, docs: 1, want: row(2000, 600, 500, 1)},
			{op: "commit", quota: 2000, delta: 500, docs: 1, want: row(2000, 1100, 0, 2)},
			// the quota was lowered below what is used: uploads vote no (the new quota is recorded)
			{op: "prepare", quota: 1000, delta: 1, docs: 1, wantNo: true, want: row(1000, 1100, 0, 2)},
			// quota lifted (0 = unlimited)
			{op: "prepare", quota: 0, delta: 10000, docs: 1, want: row(0, 1100, 10000, 2)},
		}},
	}
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				dept := fmt.Sprintf("dept-%d", i)
				if got := readUsage(t, s, dept); got.Found {
					t.Fatalf("department %s exists before its first change: %+v", dept, got)
				}
				for j, st := range tc.steps {
					u := stats.UsageChange{DepartmentID: dept, QuotaBytes: st.quota, DeltaBytes: st.delta,
						DeltaDocuments: st.docs, DocumentID: fmt.Sprintf("doc-%d", j)}
					err := runUsage(t, s, st.op, u)
					var no *txn.VoteNo
					switch {
					case st.wantNo && !errors.As(err, &no):
						t.Fatalf("step %d %s %+v: err = %v, want *txn.VoteNo", j, st.op, u, err)
					case st.wantNo && no.Reason != "quota":
						t.Fatalf("step %d %s: vote no reason %q, want quota", j, st.op, no.Reason)
					case !st.wantNo && err != nil:
						t.Fatalf("step %d %s %+v: %v", j, st.op, u, err)
					}
					if got := readUsage(t, s, dept); got != st.want {
						t.Fatalf("step %d %s %+v: row = %+v, want %+v", j, st.op, u, got, st.want)
					}
				}
			})
		}
	})
}

// TestUsageBadPayload: a payload that is not JSON is an error (not a vote
// no, not a panic); an empty department is ignored.
func TestUsageBadPayload(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		h := s.Usage()
		ctx := context.Background()
		for _, op := range []string{"prepare", "commit", "abort"} {
			var err error
			_ = s.DB().Transaction(func(tx *gorm.DB) error {
				switch op {
				case "prepare":
					err = h.Prepare(ctx, tx, "t", []byte("{not json"))
				case "commit":
					err = h.Commit(ctx, tx, "t", []byte("{not json"))
				case "abort":
					err = h.Abort(ctx, tx, "t", []byte("{not json"))
				}
				return err
			})
			var no *txn.VoteNo
			if err == nil || errors.As(err, &no) {
				t.Errorf("%s with a bad payload: err = %v, want a decoding error", op, err)
			}
			if err := runUsage(t, s, op, stats.UsageChange{DeltaBytes: 10, QuotaBytes: 1}); err != nil {
				t.Errorf("%s without a department: %v", op, err)
			}
		}
		if deps, err := s.Departments(ctx, ""); err != nil || len(deps) != 0 {
			t.Fatalf("Departments after ignored changes = %+v, %v; want none", deps, err)
		}
	})
}

// TestDepartments: Departments("") lists every department ordered by id,
// Departments(id) just that one, an unknown id none (an empty, non-nil slice).
func TestDepartments(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		ctx := context.Background()
		changes := []stats.UsageChange{
			{DepartmentID: "d-b", QuotaBytes: 500, DeltaBytes: 200, DeltaDocuments: 1},
			{DepartmentID: "d-a", QuotaBytes: 0, DeltaBytes: 70, DeltaDocuments: 1},
			{DepartmentID: "d-b", QuotaBytes: 500, DeltaBytes: 100, DeltaDocuments: 1},
			{DepartmentID: "d-c", QuotaBytes: 9, DeltaBytes: -1, DeltaDocuments: -1},
		}
		for _, u := range changes {
			for _, op := range []string{"prepare", "commit"} {
				if err := runUsage(t, s, op, u); err != nil {
					t.Fatalf("%s %+v: %v", op, u, err)
				}
			}
		}
		all := []stats.DepartmentUsage{
			{DepartmentID: "d-a", Documents: 1, BytesUsed: 70, QuotaBytes: 0},
			{DepartmentID: "d-b", Documents: 2, BytesUsed: 300, QuotaBytes: 500},
			{DepartmentID: "d-c", Documents: 0, BytesUsed: 0, QuotaBytes: 9},
		}
		cases := []struct {
			id   string
			want []stats.DepartmentUsage
		}{
			{"", all},
			{"d-a", all[0:1]},
			{"d-b", all[1:2]},
			{"d-c", all[2:3]},
			{"d-unknown", []stats.DepartmentUsage{}},
		}
		for _, tc := range cases {
			got, err := s.Departments(ctx, tc.id)
			if err != nil {
				t.Fatalf("Departments(%q): %v", tc.id, err)
			}
			if got == nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Departments(%q) = %#v, want %#v", tc.id, got, tc.want)
			}
		}
	})
}

// TestUsageConcurrentPreparesNeverOvershoot: 20 uploads of 100 bytes race
// for a quota of 1000, each Prepare and its Commit in separate transactions
// (as in the protocol). Exactly 10 reserve and commit, the other 10 vote no
// for the quota, and usage ends at exactly the quota.
func TestUsageConcurrentPreparesNeverOvershoot(t *testing.T) {
	cases := []struct {
		name     string
		existing bool // the department already has a row before the race
	}{
		{"existing department", true},
		{"new department", false},
	}
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				const quota, size, n = 1000, 100, 20
				dept := "race-new"
				if tc.existing {
					dept = "race-existing"
					// a zero-sized change creates the row
					u := stats.UsageChange{DepartmentID: dept, QuotaBytes: quota}
					if err := runUsage(t, s, "prepare", u); err != nil {
						t.Fatal(err)
					}
				}
				var (
					wg                  sync.WaitGroup
					mu                  sync.Mutex
					committed, rejected int
					failures            []error
				)
				start := make(chan struct{})
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						u := stats.UsageChange{DepartmentID: dept, QuotaBytes: quota, DeltaBytes: size, DeltaDocuments: 1,
							DocumentID: fmt.Sprintf("doc-%d", i)}
						err := runUsage(t, s, "prepare", u)
						var no *txn.VoteNo
						if errors.As(err, &no) && no.Reason == "quota" {
							mu.Lock()
							rejected++
							mu.Unlock()
							return
						}
						if err == nil {
							err = runUsage(t, s, "commit", u)
						}
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							failures = append(failures, err)
							return
						}
						committed++
					}()
				}
				close(start)
				wg.Wait()
				if len(failures) > 0 {
					t.Fatalf("%d of %d uploads failed with an error instead of committing or voting no: first: %v",
						len(failures), n, failures[0])
				}
				got := readUsage(t, s, dept)
				want := usageRow{Quota: quota, Used: quota, Reserved: 0, Documents: quota / size, Found: true}
				if committed != quota/size || rejected != n-quota/size || got != want {
					t.Fatalf("committed %d, rejected %d, row %+v; want committed %d, rejected %d, row %+v",
						committed, rejected, got, quota/size, n-quota/size, want)
				}
			})
		}
	})
}
