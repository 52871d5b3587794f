package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/accounts"
	"docplat/docs"
	"docplat/errs"
	"docplat/readtoken"
)

const (
	sessionCookie = "docplat_session"
	csrfCookie    = "docplat_csrf"
	csrfHeader    = "X-CSRF-Token"
	userKey       = "user"
	userIDKey     = "user_id"
	tokenKey      = "token"
	actorKey      = "actor"
)

// csrfFor derives the CSRF value from the session secret: nothing to store,
// and a page on another origin can read neither.
func csrfFor(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("docplat csrf"))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

func slogLevelFor(status int) slog.Level {
	switch {
	case status == 503:
		// A deliberate refusal with Retry-After (shedding, a dependency
		// down, logged where it is decided), not a bug: no error flood
		// under overload.
		return slog.LevelWarn
	case status >= 500:
		return slog.LevelError
	case status >= 400 && status != 404 && status != 401:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// authenticate resolves the caller from a bearer token or the session
// cookie. A bad bearer token is a 401; a stale cookie is dropped and the
// request goes on anonymously, so browsing public documents keeps working.
func (s *Server) authenticate(c *gin.Context) {
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, secret, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || secret == "" {
			abort(c, errs.Unauthorized, "Authorization must be 'Bearer <token>'")
			return
		}
		u, t, err := s.deps.Accounts.Authenticate(c.Request.Context(), strings.TrimSpace(secret))
		if err != nil {
			if errors.Is(err, accounts.ErrUnauthorized) {
				abort(c, errs.Unauthorized, "the token is invalid or expired")
				return
			}
			s.fail(c, err)
			return
		}
		if !s.setCaller(c, u, t) {
			return
		}
		c.Next()
		return
	}
	secret, err := c.Cookie(sessionCookie)
	if err != nil || secret == "" {
		c.Next()
		return
	}
	u, t, err := s.deps.Accounts.Authenticate(c.Request.Context(), secret)
	if errors.Is(err, accounts.ErrUnauthorized) {
		s.clearCookies(c)
		c.Next()
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if m := c.Request.Method; m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions {
		got := c.GetHeader(csrfHeader)
		if !hmac.Equal([]byte(got), []byte(csrfFor(secret))) {
			abort(c, errs.Forbidden, "cookie-authenticated writes need the "+csrfHeader+" header (the value of the "+csrfCookie+" cookie)")
			return
		}
	}
	if !s.setCaller(c, u, t) {
		return
	}
	c.Next()
}

// setCaller records the signed-in caller and the actor the document rules
// see, or answers the failure of resolving its department's line.
func (s *Server) setCaller(c *gin.Context, u accounts.User, t accounts.Token) bool {
	a, err := s.actorFor(c, u)
	if err != nil {
		s.fail(c, err)
		return false
	}
	c.Set(userKey, u)
	c.Set(userIDKey, u.ID)
	c.Set(tokenKey, t)
	c.Set(actorKey, a)
	return true
}

// actorFor is user u as the document rules see it: role flags and its
// department's line (for grants to parent departments).
func (s *Server) actorFor(c *gin.Context, u accounts.User) (docs.Actor, error) {
	line, err := s.deps.Accounts.DepartmentLine(c.Request.Context(), u.DepartmentID)
	if err != nil {
		return docs.Actor{}, err
	}
	return docs.Actor{UserID: u.ID, DepartmentID: u.DepartmentID, Departments: line, Admin: u.Role == accounts.RoleAdmin,
		DeptAdmin: u.Role == accounts.RoleDeptAdmin, Reader: u.Role == accounts.RoleReader}, nil
}

// caller returns the signed-in user, if any.
func caller(c *gin.Context) (accounts.User, bool) {
	v, ok := c.Get(userKey)
	if !ok {
		return accounts.User{}, false
	}
	return v.(accounts.User), true
}

// requireUser answers 401 when nobody is signed in.
func requireUser(c *gin.Context) (accounts.User, bool) {
	u, ok := caller(c)
	if !ok {
		abort(c, errs.Unauthorized, "sign in first (Authorization: Bearer <token> or the session cookie)")
	}
	return u, ok
}

// actor is the caller as the document rules see it (set by setCaller).
func actor(c *gin.Context) docs.Actor {
	v, ok := c.Get(actorKey)
	if !ok {
		return docs.Actor{}
	}
	return v.(docs.Actor)
}

func (s *Server) setSessionCookies(c *gin.Context, secret string, expires time.Time) {
	maxAge := int(time.Until(expires).Seconds())
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", MaxAge: maxAge, Expires: expires,
		HttpOnly: true, Secure: s.opt.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.SetCookie(c.Writer, &http.Cookie{Name: csrfCookie, Value: csrfFor(secret), Path: "/", MaxAge: maxAge, Expires: expires,
		HttpOnly: false, Secure: s.opt.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func (s *Server) clearCookies(c *gin.Context) {
	for _, name := range []string{sessionCookie, csrfCookie} {
		http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == sessionCookie,
			Secure: s.opt.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
}

// readYourWrites: a signed-in user's write marks them (RecentWrites) before
// it runs and again once it has run, before the answer leaves (a small
// answer is flushed after the middleware): their reads within the
// replicas' lag bound then go to the primary, on whichever instance they
// land (docs.WithRecentWriter, asked only when a replica could serve).
func (s *Server) readYourWrites(c *gin.Context) {
	m, user := s.deps.RecentWrites, c.GetString(userIDKey)
	if m == nil || user == "" {
		c.Next()
		return
	}
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		ctx := c.Request.Context()
		c.Request = c.Request.WithContext(docs.WithRecentWriter(ctx, func() bool { return m.Recent(context.WithoutCancel(ctx), user) }))
		c.Next()
		return
	}
	mark := func() {
		if err := m.Mark(context.WithoutCancel(c.Request.Context()), user); err != nil {
			s.log.WarnContext(c.Request.Context(), "recent writes: marking the writer failed; their next reads may miss this write on a replica", "err", err)
		}
	}
	mark()
	c.Next()
	if c.Writer.Status() < http.StatusBadRequest {
		mark()
	}
}

// knownRevision passes the revision of the document a request names that
// its client was told of (If-None-Match or If-Match "rN", or its read
// token's signed revision) to the document layer (docs.WithKnownRevision):
// an older answer, from a lagging replica or a cache that lost a
// tombstone, is read again from the primary. A header that claims a
// revision that does not exist costs a primary read, no more.
func (s *Server) knownRevision(c *gin.Context) {
	id := c.Param("id")
	if id == "" || !strings.HasPrefix(c.FullPath(), "/api/v1/documents/:id") {
		c.Next()
		return
	}
	rev := 0
	for _, h := range []string{"If-None-Match", "If-Match"} {
		rev = max(rev, docs.ETagRevision(c.GetHeader(h)))
	}
	tok := c.Query("token")
	if tok == "" {
		tok = c.GetHeader(readTokenHeader)
	}
	if tok != "" && len(s.opt.ReadTokenSecret) > 0 {
		if n, ok := readtoken.Revision(s.opt.ReadTokenSecret, tok, id, time.Now()); ok && n > rev {
			rev = n
		}
	}
	if rev > 0 {
		c.Request = c.Request.WithContext(docs.WithKnownRevision(c.Request.Context(), rev))
	}
	c.Next()
}
