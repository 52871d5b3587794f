package stats

import (
	"context"
	"time"

	"docplat/errs"
)

// DocumentStats is the contract's /documents/{id}/stats body.
type DocumentStats struct {
	Views        int64      `json:"views"`
	Downloads    int64      `json:"downloads"`
	LastAccessAt *time.Time `json:"last_access_at"`
	Daily        []Day      `json:"daily"`
}

// Day is one day's counts.
type Day struct {
	Date      string `json:"date"`
	Views     int64  `json:"views"`
	Downloads int64  `json:"downloads"`
}

// DocumentStats returns a document's counters and its last 30 days.
func (s *Service) DocumentStats(ctx context.Context, id string) (DocumentStats, error) {
	out := DocumentStats{Daily: []Day{}}
	var row struct {
		Views, Downloads int64
		LastAccessAt     *time.Time
	}
	err := s.db.WithContext(ctx).Raw("SELECT views, downloads, last_access_at FROM document_counters WHERE document_id = ?", id).Scan(&row).Error
	if err != nil {
		return out, err
	}
	out.Views, out.Downloads, out.LastAccessAt = row.Views, row.Downloads, row.LastAccessAt
	var hours []struct {
		Hour             time.Time
		Views, Downloads int64
	}
	since := s.now().Truncate(24*time.Hour).AddDate(0, 0, -29)
	if err := s.db.WithContext(ctx).Raw(`SELECT hour, views, downloads FROM document_hourly WHERE document_id = ? AND hour >= ? ORDER BY hour`,
		id, since).Scan(&hours).Error; err != nil {
		return out, err
	}
	index := map[string]int{}
	for _, h := range hours {
		day := h.Hour.UTC().Format("2006-01-02")
		i, ok := index[day]
		if !ok {
			i = len(out.Daily)
			index[day] = i
			out.Daily = append(out.Daily, Day{Date: day})
		}
		out.Daily[i].Views += h.Views
		out.Daily[i].Downloads += h.Downloads
	}
	return out, nil
}

// Ranked is a document's counts over a window.
type Ranked struct {
	DocumentID string `json:"document_id"`
	Views      int64  `json:"views"`
	Downloads  int64  `json:"downloads"`
}

// Windows accepted by Top.
var Windows = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

// ErrBadWindow: window is not one of Windows (errs.BadRequest).
var ErrBadWindow = errs.New(errs.BadRequest, "window must be 1h, 24h or 7d")

// Top ranks documents by views (then downloads) over the window; a window
// not in Windows is ErrBadWindow.
func (s *Service) Top(ctx context.Context, window string, limit int) ([]Ranked, error) {
	d, ok := Windows[window]
	if !ok {
		return nil, ErrBadWindow
	}
	since := s.now().Add(-d).Truncate(time.Hour)
	out := []Ranked{}
	err := s.db.WithContext(ctx).Raw(`SELECT document_id, SUM(views) AS views, SUM(downloads) AS downloads FROM document_hourly
		WHERE hour >= ? GROUP BY document_id ORDER BY views DESC, downloads DESC, document_id LIMIT ?`, since, limit).Scan(&out).Error
	return out, err
}

// DepartmentUsage is one row of /api/v1/stats/departments.
type DepartmentUsage struct {
	DepartmentID string `json:"department_id"`
	Documents    int64  `json:"documents"`
	BytesUsed    int64  `json:"bytes_used"`
	QuotaBytes   int64  `json:"quota_bytes"`
}

// Departments lists usage, of one department if id is not empty.
func (s *Service) Departments(ctx context.Context, id string) ([]DepartmentUsage, error) {
	out := []DepartmentUsage{}
	q := s.db.WithContext(ctx).Table("department_usage").Select("department_id, documents, bytes_used, quota_bytes").Order("department_id")
	if id != "" {
		q = q.Where("department_id = ?", id)
	}
	err := q.Scan(&out).Error
	return out, err
}
