package server

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/accounts"
	"docplat/audit"
	"docplat/errs"
)

// auditOrigin puts who is calling and from where into the request's
// context, where the stores writing a change read it for its audit entry
// (audit.OriginFrom). It runs after authenticate.
//
// It copies the request (two allocations) rather than riding in gin's keys:
// handing the *gin.Context itself to the services as their context is a
// data race, since gin recycles it once the handler returns while
// database/sql may still read the context (TestNoGinContextAsContext).
func (s *Server) auditOrigin(c *gin.Context) {
	c.Request = c.Request.WithContext(audit.WithOrigin(c.Request.Context(),
		audit.Origin{ActorID: c.GetString(userIDKey), IP: c.ClientIP()}))
	c.Next()
}

// recordLoginFailure writes a failed sign-in: it changes nothing, so it
// has a transaction of its own. A failure to write it is logged, never
// turned into another answer than the 401.
func (s *Server) recordLoginFailure(c *gin.Context, username string) {
	if s.deps.Audit == nil {
		return
	}
	e := audit.Entry{Action: audit.LoginFailed, Target: accounts.NormalizeUsername(username), IP: c.ClientIP()}
	if err := s.deps.Audit.Append(c.Request.Context(), e); err != nil {
		s.log.WarnContext(c.Request.Context(), "recording a failed login in the audit log", "err", err, "request_id", requestIDOf(c))
	}
}

// auditItem is an entry as GET /admin/audit lists it: the contract's five
// fields, and with ?detail=1 the department and the detail too.
type auditItem struct {
	At           time.Time      `json:"at"`
	ActorID      string         `json:"actor_id"`
	Action       audit.Action   `json:"action"`
	Target       string         `json:"target"`
	IP           string         `json:"ip"`
	DepartmentID *string        `json:"department_id,omitempty"`
	Detail       map[string]any `json:"detail,omitempty"`
}

// maxAuditExport bounds one CSV export; narrow the time range for more.
const maxAuditExport = 1_000_000

// listAudit answers GET /api/v1/admin/audit: admins see every entry,
// dept_admins their own department's, others 403.
func (s *Server) listAudit(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	f, ok := auditFilter(c, u)
	if !ok {
		return
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "csv" {
		abort(c, errs.BadRequest, "format must be json or csv")
		return
	}
	if format == "csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="audit.csv"`)
		c.Status(http.StatusOK)
		if f == nil { // a dept_admin without a department: nothing to see
			w := csv.NewWriter(c.Writer)
			_ = w.Write(audit.CSVHeader)
			w.Flush()
			return
		}
		if _, err := s.deps.Audit.ExportCSV(c.Request.Context(), c.Writer, *f, maxAuditExport); err != nil {
			// The status is sent: the export ends short, and the log says why.
			s.log.WarnContext(c.Request.Context(), "audit CSV export cut short", "err", err, "request_id", requestIDOf(c))
		}
		return
	}
	p, size, ok := page(c)
	if !ok {
		return
	}
	withDetail := c.Query("detail") == "1" || c.Query("detail") == "true"
	var entries []audit.Entry
	var total int64
	if f != nil {
		var err error
		if entries, total, err = s.deps.Audit.Query(c.Request.Context(), *f, audit.Page{Page: p, Size: size}); err != nil {
			s.fail(c, err)
			return
		}
	}
	items := make([]auditItem, len(entries))
	for i, e := range entries {
		items[i] = auditItem{At: e.At, ActorID: e.ActorID, Action: e.Action, Target: e.Target, IP: e.IP}
		if withDetail {
			items[i].DepartmentID, items[i].Detail = &e.DepartmentID, e.Detail
		}
	}
	c.JSON(http.StatusOK, list(items, total, p, size))
}

// auditFilter reads the query's filters; nil (and ok) when the caller may
// see no entry at all.
func auditFilter(c *gin.Context, u accounts.User) (*audit.Filter, bool) {
	f := audit.Filter{ActorID: c.Query("actor"), Target: c.Query("target"), DepartmentID: c.Query("department")}
	if a := c.Query("action"); a != "" {
		if !audit.Known(audit.Action(a)) {
			abort(c, errs.BadRequest, fmt.Sprintf("unknown action %q", a))
			return nil, false
		}
		f.Action = audit.Action(a)
	}
	for _, t := range []struct {
		name string
		to   *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		raw := c.Query(t.name)
		if raw == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			abort(c, errs.BadRequest, t.name+" must be an RFC 3339 time (2026-01-31T00:00:00Z)")
			return nil, false
		}
		*t.to = at
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		abort(c, errs.BadRequest, "since must be before until")
		return nil, false
	}
	if u.Role == accounts.RoleAdmin {
		return &f, true
	}
	// A dept_admin sees its own department's entries only.
	if f.DepartmentID != "" && f.DepartmentID != u.DepartmentID {
		abort(c, errs.Forbidden, "a department administrator sees its own department's entries only")
		return nil, false
	}
	if u.DepartmentID == "" {
		return nil, true
	}
	f.DepartmentID = u.DepartmentID
	return &f, true
}
