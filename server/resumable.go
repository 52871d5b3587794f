package server

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/tus/tusd/v2/pkg/handler"

	"docplat/errs"
	"docplat/resumable"
)

// resumableRoutes mounts the tus endpoint (package resumable) under
// /api/v1/uploads/ with the same authentication as every write (bearer,
// or the session cookie with the CSRF header), and the state of one
// upload at GET /api/v1/uploads/{id}.
func (s *Server) resumableRoutes(v1 *gin.RouterGroup) {
	if s.deps.Uploads == nil {
		return
	}
	p, err := s.deps.Uploads.Handler(s.tusRefusal)
	if err != nil {
		s.log.Error("resumable uploads disabled: building the tus handler failed", "err", err)
		return
	}
	serve := func(c *gin.Context) {
		if c.Request.Method != http.MethodOptions {
			if _, ok := requireUser(c); !ok {
				return
			}
		}
		ctx := context.WithValue(resumable.WithActor(c.Request.Context(), actor(c)), requestIDCtxKey{}, requestIDOf(c))
		c.Request = c.Request.WithContext(ctx)
		p.ServeHTTP(c.Writer, c.Request)
		c.Abort()
	}
	v1.POST("/uploads", serve)
	v1.POST("/uploads/", serve)
	v1.OPTIONS("/uploads/", serve)
	for _, m := range []string{http.MethodHead, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		v1.Handle(m, "/uploads/:id", serve)
	}
	v1.GET("/uploads/:id", s.getUpload)
}

// requestIDCtxKey carries the request id into tusd's hooks, whose
// context is the request's but not Gin's.
type requestIDCtxKey struct{}

func (s *Server) getUpload(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	u, err := s.deps.Uploads.Status(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if u.DocumentID != "" {
		c.Header("Location", "/api/v1/documents/"+u.DocumentID)
	}
	c.JSON(http.StatusOK, u)
}

// tusRefusal renders err for the tus endpoint as fail does for every
// other route: the status of its code and the contract's error body, with
// Retry-After when a dependency failed and the figures of a quota refusal.
func (s *Server) tusRefusal(ctx context.Context, err error) handler.HTTPResponse {
	requestID, _ := ctx.Value(requestIDCtxKey{}).(string)
	r := s.classify(ctx, err, requestID, "/api/v1/uploads/")
	header := handler.HTTPHeader{"Content-Type": "application/json; charset=utf-8"}
	if r.clientGone {
		return handler.HTTPResponse{StatusCode: 499, Header: header}
	}
	detail := errorDetail{Code: r.coded.Code, Message: r.coded.Message}
	if r.quota != nil {
		detail.Details = s.quotaDetails(ctx, r.quota)
	}
	if r.coded.Code == errs.Unavailable {
		header["Retry-After"] = dependencyRetryAfter.value()
	}
	status, ok := statusOf[r.coded.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	b, _ := json.Marshal(errorBody{Error: detail})
	return handler.HTTPResponse{StatusCode: status, Body: string(b), Header: header}
}
