package stats

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"docplat/internal/internalapi"
)

// The stats process's internal API (shared secret in internalapi.Header),
// used by the document service in remote mode:
//
//	GET  /internal/stats/documents/{id}
//	GET  /internal/stats/top?window=&limit=
//	GET  /internal/stats/departments?id=
//	GET  /internal/stats/ping
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
			if !internalapi.Authorized(r, secret) {
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode(errorBody{"missing or wrong " + internalapi.Header})
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
	mux.HandleFunc("GET /internal/stats/ping", auth(func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]int64{}, s.Ping(r.Context()))
	}))
	return mux
}
