package stats

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"docplat/events"
)

// The stats process's internal API (shared secret in X-Docplat-Internal),
// used by the document service in remote mode:
//
//	GET  /internal/stats/documents/{id}
//	GET  /internal/stats/top?window=&limit=
//	GET  /internal/stats/departments?id=
//	GET  /internal/stats/offsets?consumer=
//	POST /internal/stats/batches   {"consumer","records":[...]}
const secretHeader = "X-Docplat-Internal"

type batchRequest struct {
	Consumer string          `json:"consumer"`
	Records  []events.Record `json:"records"`
}

type errorBody struct {
	Error string `json:"error"`
}

// InternalHandler serves the internal API.
func (s *Service) InternalHandler(secret string) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any, err error) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case errors.Is(err, ErrBadWindow):
			w.WriteHeader(http.StatusBadRequest)
			v = errorBody{err.Error()}
		case err != nil:
			s.log.Warn("stats internal API", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			v = errorBody{err.Error()}
		}
		_ = json.NewEncoder(w).Encode(v)
	}
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if secret == "" || subtle.ConstantTimeCompare([]byte(r.Header.Get(secretHeader)), []byte(secret)) != 1 {
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode(errorBody{"missing or wrong " + secretHeader})
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /internal/stats/documents/{id}", auth(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.DocumentStats(r.Context(), r.PathValue("id"))
		reply(w, v, err)
	}))
	mux.HandleFunc("GET /internal/stats/top", auth(func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		v, err := s.Top(r.Context(), r.URL.Query().Get("window"), min(max(limit, 1), 1000))
		reply(w, v, err)
	}))
	mux.HandleFunc("GET /internal/stats/departments", auth(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Departments(r.Context(), r.URL.Query().Get("id"))
		reply(w, v, err)
	}))
	mux.HandleFunc("GET /internal/stats/offsets", auth(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Offset(r.Context(), r.URL.Query().Get("consumer"), 0)
		reply(w, map[string]int64{"next_offset": v}, err)
	}))
	mux.HandleFunc("POST /internal/stats/batches", auth(func(w http.ResponseWriter, r *http.Request) {
		var req batchRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 32<<20)).Decode(&req); err != nil || req.Consumer == "" {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(errorBody{"body must be {\"consumer\",\"records\"}"})
			return
		}
		err := s.ApplyBatch(r.Context(), req.Consumer, 0, req.Records)
		reply(w, map[string]bool{"ok": err == nil}, err)
	}))
	return mux
}
