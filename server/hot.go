package server

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/hotspot"
)

// HotDocument is one entry of the hot set now.
type HotDocument struct {
	DocumentID string    `json:"document_id"`
	RatePerSec float64   `json:"rate_per_s"`
	Since      time.Time `json:"since"`
}

// HotLister reads the hot set (ListHotSet adapts a hotspot.HotSet).
type HotLister func(ctx context.Context) ([]HotDocument, error)

// ListHotSet is the HotLister of the shared hot set.
func ListHotSet(hot *hotspot.HotSet) HotLister {
	return func(ctx context.Context) ([]HotDocument, error) {
		entries, err := hot.List(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]HotDocument, len(entries))
		for i, e := range entries {
			out[i] = HotDocument{DocumentID: e.ID, RatePerSec: e.RatePerSec, Since: e.Since}
		}
		return out, nil
	}
}

// hotDocuments answers GET /api/v1/stats/hot: the documents hot right now,
// hottest first, limited to those the caller may read (a hot private
// document's id is not everyone's business).
func (s *Server) hotDocuments(c *gin.Context) {
	if s.deps.Hot == nil {
		c.JSON(http.StatusOK, gin.H{"items": []HotDocument{}})
		return
	}
	all, err := s.deps.Hot(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ids := make([]string, len(all))
	for i, h := range all {
		ids[i] = h.DocumentID
	}
	readable, err := s.deps.Docs.Readable(c.Request.Context(), actor(c), ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]HotDocument, 0, len(readable))
	for _, h := range all {
		if slices.Contains(readable, h.DocumentID) {
			items = append(items, h)
		}
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}
