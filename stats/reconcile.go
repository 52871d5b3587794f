package stats

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// ErrInFlight: transactions are in flight, so usage is moving; retry.
var ErrInFlight = errors.New("stats: transactions are in flight; retry when none is")

// Correction is one department whose usage was corrected.
type Correction struct {
	DepartmentID           string
	Documents, Bytes       int64 // what the documents database holds
	WasDocuments, WasBytes int64 // what the stats service counted
}

// Documents is the documents database as reconciliation uses it: the usage
// its documents imply, and the copy of it the document service keeps.
type Documents interface {
	UsageByDepartment(ctx context.Context) (map[string][2]int64, error)
	SetDepartmentUsage(ctx context.Context, truth map[string][2]int64) error
}

// ReconcileWith recomputes department usage from the documents database
// after a heuristic three-phase-commit outcome (a network partition): the
// stats service's counts and the document service's copy are both set to
// what the documents hold. It returns the departments the stats service
// had wrong.
func (s *Service) ReconcileWith(ctx context.Context, docs Documents) ([]Correction, error) {
	truth, err := docs.UsageByDepartment(ctx)
	if err != nil {
		return nil, err
	}
	fixed, err := s.Reconcile(ctx, truth)
	if err != nil {
		return nil, err
	}
	return fixed, docs.SetDepartmentUsage(ctx, truth)
}

// Reconcile sets each department's usage to truth (documents and bytes per
// department, from the documents database), after a heuristic outcome. It
// refuses while any transaction branch is undecided.
func (s *Service) Reconcile(ctx context.Context, truth map[string][2]int64) ([]Correction, error) {
	var out []Correction
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var open int64
		if err := tx.Raw("SELECT COUNT(*) FROM txn_participant WHERE state IN ('ready','precommitted')").Scan(&open).Error; err != nil {
			return err
		}
		if open > 0 {
			return ErrInFlight
		}
		var rows []struct {
			DepartmentID         string
			Documents, BytesUsed int64
		}
		if err := tx.Raw("SELECT department_id, documents, bytes_used FROM department_usage").Scan(&rows).Error; err != nil {
			return err
		}
		seen := map[string]bool{}
		fix := func(dept string, wasDocs, wasBytes int64) error {
			t := truth[dept]
			if t[0] == wasDocs && t[1] == wasBytes {
				return nil
			}
			out = append(out, Correction{DepartmentID: dept, Documents: t[0], Bytes: t[1], WasDocuments: wasDocs, WasBytes: wasBytes})
			if !seen[dept] {
				if err := tx.Exec(`INSERT INTO department_usage (department_id, quota_bytes, bytes_used, reserved_bytes, documents, updated_at)
					VALUES (?, 0, 0, 0, 0, ?)`, dept, s.now()).Error; err != nil {
					return err
				}
			}
			return tx.Exec("UPDATE department_usage SET documents = ?, bytes_used = ?, reserved_bytes = 0, updated_at = ? WHERE department_id = ?",
				t[0], t[1], s.now(), dept).Error
		}
		for _, r := range rows {
			seen[r.DepartmentID] = true
			if err := fix(r.DepartmentID, r.Documents, r.BytesUsed); err != nil {
				return err
			}
		}
		for dept := range truth {
			if !seen[dept] {
				if err := fix(dept, 0, 0); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}
