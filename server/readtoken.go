package server

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/docs"
	"docplat/readtoken"
)

// readTokenHeader carries a read token as an alternative to ?token=.
const readTokenHeader = "X-Docplat-Read-Token"

// createReadToken issues a short-lived token that lets its holder read one
// document's content as the caller, without a session: the nginx hot tier
// checks it itself, so a hot non-public document is served from memory to
// the people the app would serve it to. The token is bound to the
// document's revision: any change (visibility, grants, content) revokes it.
func (s *Server) createReadToken(c *gin.Context) {
	u, ok := requireUser(c)
	if !ok {
		return
	}
	d, err := s.deps.Docs.Get(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	exp := readtoken.Expiry(time.Now(), s.opt.ReadTokenTTL)
	tok := readtoken.Sign(s.opt.ReadTokenSecret, d.ID, u.ID, d.Revision, exp)
	c.JSON(http.StatusCreated, gin.H{
		"token":      tok,
		"expires_at": exp,
		"url":        "/api/v1/documents/" + url.PathEscape(d.ID) + "/content?token=" + url.QueryEscape(tok),
	})
}

// tokenActor returns the actor a valid read token stands for. Anything
// wrong with the token (malformed, forged, expired, revoked by a change,
// its user disabled) leaves the request as it was, so a bad token gets
// exactly the answer the request would get without it, from the app and
// from nginx alike.
func (s *Server) tokenActor(c *gin.Context, id string) (docs.Actor, bool) {
	tok := c.Query("token")
	if tok == "" {
		tok = c.GetHeader(readTokenHeader)
	}
	if tok == "" || len(s.opt.ReadTokenSecret) == 0 {
		return docs.Actor{}, false
	}
	// The token's revision is checked against the current document before
	// anyone's rights are known: a system read, the decision comes below.
	d, err := s.deps.Docs.GetSystem(c.Request.Context(), id)
	if err != nil {
		return docs.Actor{}, false
	}
	uid, err := readtoken.Verify(s.opt.ReadTokenSecret, tok, d.ID, d.Revision, time.Now())
	if err != nil {
		return docs.Actor{}, false
	}
	u, err := s.deps.Accounts.UserSystem(c.Request.Context(), uid)
	if err != nil || u.Disabled {
		return docs.Actor{}, false
	}
	a, err := s.actorFor(c, u)
	if err != nil {
		return docs.Actor{}, false
	}
	return a, true
}
