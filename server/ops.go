package server

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz asks every dependency at once, each with a short deadline, and
// names the ones that failed.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	type result struct {
		name string
		err  error
	}
	run := func(checks map[string]Check) []string {
		results := make(chan result, len(checks))
		for name, check := range checks {
			go func() { results <- result{name, check(ctx)} }()
		}
		failing := []string{}
		for range checks {
			if r := <-results; r.err != nil {
				failing = append(failing, r.name)
				s.log.WarnContext(c.Request.Context(), "readiness check failed", "dependency", r.name, "err", r.err)
			}
		}
		sort.Strings(failing)
		return failing
	}
	var failing, degraded []string
	done := make(chan struct{})
	go func() { degraded = run(s.deps.Degraded); close(done) }()
	failing = run(s.deps.Checks)
	<-done
	switch {
	case len(failing) > 0:
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "failing": failing, "degraded": degraded})
	case len(degraded) > 0:
		c.JSON(http.StatusOK, gin.H{"status": "degraded", "degraded": degraded})
	default:
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	}
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{})
	return gin.WrapH(h)
}

func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", openAPI)
}
