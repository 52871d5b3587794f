package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/docs"
	"docplat/errs"
)

// grantJSON is a grant as the contract spells it.
type grantJSON struct {
	Principal  string          `json:"principal"`
	Permission docs.Permission `json:"permission"`
	ExpiresAt  *time.Time      `json:"expires_at"`
}

type grantsJSON struct {
	Items []grantJSON `json:"items"`
}

func grantsOut(gs []docs.Grant) grantsJSON {
	out := grantsJSON{Items: make([]grantJSON, len(gs))}
	for i, g := range gs {
		out.Items[i] = grantJSON{Principal: g.Principal, Permission: g.Permission, ExpiresAt: g.ExpiresAt}
	}
	return out
}

// getGrants answers a document's grants to who may manage it (expired ones
// included, so that a manager sees what to renew).
func (s *Server) getGrants(c *gin.Context) {
	gs, err := s.deps.Docs.Grants(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, grantsOut(gs))
}

// getPermission answers GET /api/v1/documents/{id}/permission (an
// extension): the caller's own permission, so that the UI offers what the
// server will allow (a write grantee edits, a manage grantee shares). Never
// cached: it changes with the grants and the signed-in user, not the ETag.
func (s *Server) getPermission(c *gin.Context) {
	p, err := s.deps.Docs.PermissionFor(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"permission": p})
}

// putGrants replaces a document's grants: a document change (revision+1,
// If-Match honoured, ETag of the new revision) like PATCH.
func (s *Server) putGrants(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	pre, err := docs.ParseIfMatch(c.GetHeader("If-Match"))
	if err != nil {
		s.fail(c, err)
		return
	}
	var req struct {
		Items *[]grantJSON `json:"items"`
	}
	if !s.decodeJSON(c, &req) {
		return
	}
	if req.Items == nil {
		abort(c, errs.BadRequest, `the body must be {"items":[{"principal","permission","expires_at"}...]}`)
		return
	}
	in := make([]docs.Grant, len(*req.Items))
	for i, g := range *req.Items {
		in[i] = docs.Grant{Principal: g.Principal, Permission: g.Permission, ExpiresAt: g.ExpiresAt}
	}
	d, err := s.deps.Docs.SetGrants(c.Request.Context(), actor(c), c.Param("id"), pre, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", metaETag(d))
	c.JSON(http.StatusOK, grantsOut(d.Grants))
}
