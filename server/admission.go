package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"docplat/admission"
	"docplat/errs"
)

// classOf is the one place that says which admission class a route is.
// Routes outside the API (health, metrics, the UI, the three-phase-commit
// transport between services) are never shed: refusing them would hide
// the server's state or abort transactions already under way. Previews
// are reads: their page images are generated off the request path.
func classOf(c *gin.Context) (admission.Class, bool) {
	route, method := c.FullPath(), c.Request.Method
	switch {
	case !strings.HasPrefix(route, "/api/"):
		return "", false
	case route == "/api/v1/auth/login", route == "/api/v1/auth/logout":
		return admission.Login, true
	case strings.HasPrefix(route, "/api/v1/admin/"):
		return admission.Admin, true
	case strings.HasPrefix(route, "/api/v1/stats/"), strings.HasSuffix(route, "/stats"):
		return admission.Search, true
	case route == "/api/v1/documents" && method == http.MethodGet:
		return admission.Search, true // a listing or a search: a database query either way
	case method == http.MethodGet, method == http.MethodHead,
		route == "/api/v1/documents/:id/read-token":
		return admission.Read, true
	default:
		return admission.Write, true
	}
}

// admit holds the request until its class has a free slot, or sheds it
// with 503 unavailable and Retry-After once it would wait longer than the
// class's bound (see admission.Defaults).
func (s *Server) admit(c *gin.Context) {
	class, ok := classOf(c)
	if !ok {
		c.Next()
		return
	}
	release, err := s.admission.Admit(c.Request.Context(), class)
	if err != nil {
		var shed *admission.ShedError
		if errors.As(err, &shed) {
			setRetryAfter(c, shedRetryAfter)
			abort(c, errs.Unavailable,
				"the server is busy with "+string(class)+" requests; retry in a moment (reads are not affected)")
			return
		}
		s.fail(c, err) // the client went away while waiting
		return
	}
	defer release()
	c.Next()
}
