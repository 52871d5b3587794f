package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"docplat/idempotency"
)

// The trash (docs/trash.go): a DELETE of a document moves it there; these
// routes list it, restore from it and purge from it.
func (s *Server) trashRoutes(v1 *gin.RouterGroup) {
	v1.GET("/trash", s.listTrash)
	v1.POST("/documents/:id/restore", s.idempotent, s.restoreDocument)
	v1.DELETE("/trash/:id", s.idempotent, s.purgeDocument)
}

func (s *Server) listTrash(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	p, size, ok := page(c)
	if !ok {
		return
	}
	items, total, err := s.deps.Docs.Trash(c.Request.Context(), actor(c), c.Query("owner_id"), p, size)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(items, total, p, size))
}

func (s *Server) restoreDocument(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	if !s.proceed(c, func(*idempotency.Fingerprint) {}) {
		return
	}
	d, err := s.deps.Docs.Restore(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", metaETag(d))
	c.JSON(http.StatusOK, d)
}

func (s *Server) purgeDocument(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	if !s.proceed(c, func(*idempotency.Fingerprint) {}) {
		return
	}
	if err := s.deps.Docs.Purge(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
