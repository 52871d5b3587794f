package stats

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"docplat/txn"
)

// UsageChange is the stats participant's payload: what a document change
// does to its department's usage. The document service sends the same JSON.
type UsageChange struct {
	DepartmentID   string `json:"department_id"`
	QuotaBytes     int64  `json:"quota_bytes"` // the department's quota when the change was made; 0 = unlimited
	DeltaBytes     int64  `json:"delta_bytes"`
	DeltaDocuments int64  `json:"delta_documents"`
	DocumentID     string `json:"document_id"`
}

// UsageHandler is the stats service's three-phase-commit participant:
// Prepare reserves the bytes against the quota (a conditional UPDATE, so
// racing uploads never overshoot), Commit counts them, Abort releases them.
type UsageHandler struct{ s *Service }

// Usage returns the participant handler.
func (s *Service) Usage() *UsageHandler { return &UsageHandler{s: s} }

var _ txn.Handler = (*UsageHandler)(nil)

func decodeUsage(payload []byte) (UsageChange, error) {
	var u UsageChange
	if err := json.Unmarshal(payload, &u); err != nil {
		return u, fmt.Errorf("stats: bad usage payload: %w", err)
	}
	return u, nil
}

// ensure creates the department's row if needed, records the quota the
// document service sent (so /stats/departments follows quota changes), and
// on MySQL takes the row's exclusive lock right away: INSERT IGNORE would
// take a shared lock, and two transactions upgrading it deadlock.
func (h *UsageHandler) ensure(tx *gorm.DB, u UsageChange) error {
	if h.s.mysql {
		return tx.Exec(`INSERT INTO department_usage (department_id, quota_bytes, bytes_used, reserved_bytes, documents, updated_at)
			VALUES (?, ?, 0, 0, 0, ?) ON DUPLICATE KEY UPDATE quota_bytes = VALUES(quota_bytes)`, u.DepartmentID, u.QuotaBytes, h.s.now()).Error
	}
	return tx.Exec(`INSERT INTO department_usage (department_id, quota_bytes, bytes_used, reserved_bytes, documents, updated_at)
		VALUES (?, ?, 0, 0, 0, ?) ON CONFLICT (department_id) DO UPDATE SET quota_bytes = excluded.quota_bytes`, u.DepartmentID, u.QuotaBytes, h.s.now()).Error
}

func (h *UsageHandler) Prepare(_ context.Context, tx *gorm.DB, _ string, payload []byte) error {
	u, err := decodeUsage(payload)
	if err != nil || u.DepartmentID == "" {
		return err
	}
	if err := h.ensure(tx, u); err != nil {
		return err
	}
	if u.DeltaBytes <= 0 {
		return nil // freeing space never needs a reservation
	}
	res := tx.Exec(`UPDATE department_usage SET reserved_bytes = reserved_bytes + ?, quota_bytes = ?, updated_at = ?
		WHERE department_id = ? AND (? = 0 OR bytes_used + reserved_bytes + ? <= ?)`,
		u.DeltaBytes, u.QuotaBytes, h.s.now(), u.DepartmentID, u.QuotaBytes, u.DeltaBytes, u.QuotaBytes)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return &txn.VoteNo{Reason: txn.ReasonQuota}
	}
	return nil
}

func (h *UsageHandler) Commit(_ context.Context, tx *gorm.DB, _ string, payload []byte) error {
	u, err := decodeUsage(payload)
	if err != nil || u.DepartmentID == "" {
		return err
	}
	if err := h.ensure(tx, u); err != nil {
		return err
	}
	reserved := max(u.DeltaBytes, 0)
	return tx.Exec(`UPDATE department_usage SET bytes_used = CASE WHEN bytes_used + ? < 0 THEN 0 ELSE bytes_used + ? END,
		reserved_bytes = reserved_bytes - ?, documents = CASE WHEN documents + ? < 0 THEN 0 ELSE documents + ? END, updated_at = ?
		WHERE department_id = ?`, u.DeltaBytes, u.DeltaBytes, reserved, u.DeltaDocuments, u.DeltaDocuments, h.s.now(), u.DepartmentID).Error
}

func (h *UsageHandler) Abort(_ context.Context, tx *gorm.DB, _ string, payload []byte) error {
	u, err := decodeUsage(payload)
	if err != nil || u.DepartmentID == "" || u.DeltaBytes <= 0 {
		return err
	}
	return tx.Exec(`UPDATE department_usage SET reserved_bytes = reserved_bytes - ?, updated_at = ? WHERE department_id = ?`,
		u.DeltaBytes, h.s.now(), u.DepartmentID).Error
}
