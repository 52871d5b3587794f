package server

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"docplat/docs"
	"docplat/idempotency"
)

func metaETag(d docs.Document) string { return docs.MetaETag(d) }

func (s *Server) uploadDocument(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	// Refuse readers before their bytes are read (Create checks again).
	if err := docs.CheckCanCreate(actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	form, ok := s.readUpload(c, "title", "description", "tags", "visibility", "publish_at", "lecture_at")
	if !ok {
		return
	}
	defer form.file.Discard()
	if !s.proceed(c, form.digest("title", "description", "tags", "visibility", "publish_at", "lecture_at")) {
		return
	}
	in := docs.NewDocument{
		Title:       form.fields["title"],
		Description: form.fields["description"],
		Tags:        docs.SplitTags(form.fields["tags"]),
		Visibility:  docs.Visibility(form.fields["visibility"]),
		PublishAt:   form.fields["publish_at"],
		LectureAt:   form.fields["lecture_at"],
	}
	d, err := s.deps.Docs.Create(c.Request.Context(), actor(c), in, form.file)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/documents/"+d.ID)
	c.Header("ETag", metaETag(d))
	c.JSON(http.StatusCreated, d)
}

func (s *Server) listDocuments(c *gin.Context) {
	p, size, ok := page(c)
	if !ok {
		return
	}
	in := docs.ListInput{Q: c.Query("q"), Tag: c.Query("tag"), OwnerID: c.Query("owner_id"),
		DepartmentID: c.Query("department_id"), Sort: c.Query("sort"), Page: p, PageSize: size}
	items, total, err := s.deps.Docs.List(c.Request.Context(), actor(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(items, total, p, size))
}

func (s *Server) getDocument(c *gin.Context) {
	d, err := s.deps.Docs.Get(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.deps.Docs.RecordAccess(d.ID, docs.AccessView, 0)
	etag := metaETag(d)
	c.Header("ETag", etag)
	c.Header("Cache-Control", "private, no-cache")
	if c.GetHeader("If-None-Match") == etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.JSON(http.StatusOK, d)
}

type patchRequest struct {
	Title       *string          `json:"title"`
	Description *string          `json:"description"`
	Tags        *[]string        `json:"tags"`
	Visibility  *docs.Visibility `json:"visibility"`
	PublishAt   docs.TimeField   `json:"publish_at"`
	LectureAt   docs.TimeField   `json:"lecture_at"`
}

func (s *Server) patchDocument(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	pre, err := docs.ParseIfMatch(c.GetHeader("If-Match"))
	if err != nil {
		s.fail(c, err)
		return
	}
	var req patchRequest
	if !jsonBody(c) || !s.decodeJSON(c, &req) {
		return
	}
	d, err := s.deps.Docs.Update(c.Request.Context(), actor(c), c.Param("id"), pre, docs.Patch(req))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", metaETag(d))
	c.JSON(http.StatusOK, d)
}

func (s *Server) deleteDocument(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	ifMatch := c.GetHeader("If-Match")
	pre, err := docs.ParseIfMatch(ifMatch)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !s.proceed(c, func(f *idempotency.Fingerprint) { f.Add("If-Match", strings.TrimSpace(ifMatch)) }) {
		return
	}
	if err := s.deps.Docs.Delete(c.Request.Context(), actor(c), c.Param("id"), pre); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) putContent(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	ifMatch := c.GetHeader("If-Match")
	pre, err := docs.ParseIfMatch(ifMatch)
	if err != nil {
		s.fail(c, err)
		return
	}
	// Refuse before reading a possibly large body when the caller may not
	// write or the precondition already fails (checked again under the lock).
	if !retrying(c) {
		if err := s.deps.Docs.CheckWritable(c.Request.Context(), actor(c), c.Param("id"), pre); err != nil {
			s.fail(c, err)
			return
		}
	}
	form, ok := s.readUpload(c)
	if !ok {
		return
	}
	defer form.file.Discard()
	if !s.proceed(c, func(f *idempotency.Fingerprint) {
		form.digest()(f)
		f.Add("If-Match", strings.TrimSpace(ifMatch))
	}) {
		return
	}
	d, err := s.deps.Docs.ReplaceContent(c.Request.Context(), actor(c), c.Param("id"), pre, form.file)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", metaETag(d))
	c.JSON(http.StatusOK, d)
}

func (s *Server) listVersions(c *gin.Context) {
	p, size, ok := page(c)
	if !ok {
		return
	}
	vs, err := s.deps.Docs.Versions(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	total := int64(len(vs))
	lo := min((p-1)*size, len(vs))
	hi := min(lo+size, len(vs))
	c.JSON(http.StatusOK, list(vs[lo:hi], total, p, size))
}
