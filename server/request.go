package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"docplat/errs"
)

// jsonBody refuses (415) a body declared as something other than JSON:
// a form or text body must not be read as a patch. A request without
// Content-Type is read as JSON, as it always was.
func jsonBody(c *gin.Context) bool {
	ct := c.GetHeader("Content-Type")
	if ct == "" {
		return true
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		abort(c, errs.UnsupportedType, "the body must be JSON (Content-Type: application/json)")
		return false
	}
	return true
}

// decodeJSON reads one JSON object into v, rejecting unknown fields, trailing
// data and bodies over the limit, with a 400 (or 413) the caller can act on.
func (s *Server) decodeJSON(c *gin.Context, v any) bool {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.opt.MaxJSONBytes)
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooLarge):
			abort(c, errs.TooLarge, fmt.Sprintf("the JSON body exceeds %d bytes", s.opt.MaxJSONBytes))
		case errors.Is(err, io.EOF):
			abort(c, errs.BadRequest, "a JSON body is required")
		case errors.As(err, &syntax):
			abort(c, errs.BadRequest, fmt.Sprintf("invalid JSON at byte %d", syntax.Offset))
		case errors.As(err, &typ):
			abort(c, errs.BadRequest, fmt.Sprintf("field %q must be of type %s", typ.Field, typ.Type))
		default:
			abort(c, errs.BadRequest, "invalid JSON: "+err.Error())
		}
		return false
	}
	if dec.More() {
		abort(c, errs.BadRequest, "the body must hold exactly one JSON object")
		return false
	}
	return true
}

// page reads ?page and ?page_size strictly: non-numbers and out-of-range
// values are 400s, not silently clamped.
func page(c *gin.Context) (int, int, bool) {
	p, ok := intQuery(c, "page", 1, 1, 100000)
	if !ok {
		return 0, 0, false
	}
	size, ok := intQuery(c, "page_size", 20, 1, 100)
	return p, size, ok
}

func intQuery(c *gin.Context, name string, def, lo, hi int) (int, bool) {
	raw, present := c.GetQuery(name)
	if !present {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		abort(c, errs.BadRequest, fmt.Sprintf("%s must be an integer between %d and %d", name, lo, hi))
		return 0, false
	}
	return n, true
}

type listBody[T any] struct {
	Items    []T   `json:"items"`
	Total    int64 `json:"total"`
	Page     int   `json:"page"`
	PageSize int   `json:"page_size"`
}

func list[T any](items []T, total int64, page, size int) listBody[T] {
	if items == nil {
		items = []T{}
	}
	return listBody[T]{Items: items, Total: total, Page: page, PageSize: size}
}
