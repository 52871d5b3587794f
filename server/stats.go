package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"docplat/accounts"
	"docplat/docs"
	"docplat/errs"
	"docplat/stats"
)

// Stats is the stats service as the HTTP layer reads it (in-process or remote).
type Stats interface {
	DocumentStats(ctx context.Context, id string) (stats.DocumentStats, error)
	Top(ctx context.Context, window string, limit int) ([]stats.Ranked, error)
	Departments(ctx context.Context, id string) ([]stats.DepartmentUsage, error)
}

func (s *Server) statsRoutes(v1 *gin.RouterGroup) {
	v1.GET("/documents/:id/stats", s.documentStats)
	v1.GET("/stats/top", s.topDocuments)
	v1.GET("/stats/departments", s.departmentStats)
	v1.GET("/stats/hot", s.hotDocuments)
}

func (s *Server) statsOrFail(c *gin.Context) (Stats, bool) {
	if s.deps.Stats == nil {
		abort(c, errs.Unavailable, "the stats service is not configured")
		return nil, false
	}
	return s.deps.Stats, true
}

func (s *Server) documentStats(c *gin.Context) {
	st, ok := s.statsOrFail(c)
	if !ok {
		return
	}
	d, err := s.deps.Docs.Get(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := st.DocumentStats(c.Request.Context(), d.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

type rankedDocument struct {
	Document  docs.Document `json:"document"`
	Views     int64         `json:"views"`
	Downloads int64         `json:"downloads"`
}

// topDocuments ranks from the stats service and keeps only what the caller
// may read (over-fetching so that filtering rarely shortens the list).
func (s *Server) topDocuments(c *gin.Context) {
	st, ok := s.statsOrFail(c)
	if !ok {
		return
	}
	window := c.DefaultQuery("window", "24h")
	if _, ok := stats.Windows[window]; !ok {
		s.fail(c, stats.ErrBadWindow)
		return
	}
	limit, ok := intQuery(c, "limit", 10, 1, 100)
	if !ok {
		return
	}
	ranked, err := st.Top(c.Request.Context(), window, limit*5)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := []rankedDocument{}
	who := actor(c)
	for _, r := range ranked {
		if len(items) == limit {
			break
		}
		d, err := s.deps.Docs.Authorize(c.Request.Context(), who, r.DocumentID, docs.PermRead)
		if errors.Is(err, docs.ErrNotFound) {
			continue
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		items = append(items, rankedDocument{Document: d, Views: r.Views, Downloads: r.Downloads})
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (s *Server) departmentStats(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	st, ok := s.statsOrFail(c)
	if !ok {
		return
	}
	only := ""
	if u.Role != accounts.RoleAdmin {
		only = u.DepartmentID
	}
	items, err := st.Departments(c.Request.Context(), only)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}
