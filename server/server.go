// Package server is docplat's HTTP face: Gin routes, middleware and the
// mapping of domain errors to the contract's status codes and error body.
// It holds no business rules; those live in accounts and docs.
package server

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"docplat/accounts"
	"docplat/admission"
	"docplat/audit"
	"docplat/docs"
	"docplat/errs"
	"docplat/preview"
	"docplat/resumable"
	"docplat/shares"
	"docplat/uploadlinks"
)

//go:embed openapi.json
var openAPI []byte

// Check reports whether a dependency answers.
type Check func(ctx context.Context) error

// Deps are what the server serves.
type Deps struct {
	Accounts *accounts.Service
	Docs     *docs.Service
	// Checks are the dependencies /readyz needs, by name: one failing
	// answers 503. Degraded ones only report (the instance still serves).
	Checks   map[string]Check
	Degraded map[string]Check
	// Stats answers /api/v1/stats/* and /documents/{id}/stats (optional).
	Stats Stats
	// Hot lists the hot set for /api/v1/stats/hot (optional).
	Hot HotLister
	// Internal serves /internal/ (the three-phase-commit transport between
	// services; it checks its own shared secret).
	Internal http.Handler
	// UI serves the browser UI at / and /assets/ (optional).
	UI       http.Handler
	Logger   *slog.Logger
	Registry *prometheus.Registry
	// Shares serves share links (nil: their routes answer 404).
	Shares *shares.Service
	// UploadLinks serves upload links (nil: their routes answer 404).
	UploadLinks *uploadlinks.Service
	// Idempotency records the outcomes of writes made under an
	// Idempotency-Key (nil: the header is ignored).
	Idempotency IdempotencyStore
	// Limits holds the login rate limiter's buckets, shared by every
	// instance on it (nil: each instance keeps its own).
	Limits redis.Scripter
	// Previews renders /documents/{id}/preview (nil: every preview is kind
	// none, and page images 422).
	Previews *preview.Service
	// Uploads serves resumable (tus) uploads at /api/v1/uploads/ (nil:
	// those routes answer 404).
	Uploads *resumable.Service
	// Audit reads the audit log for /api/v1/admin/audit and records failed
	// logins (nil: neither; changes are recorded by the stores regardless).
	Audit *audit.Log
}

// Options tune the HTTP layer.
type Options struct {
	// SecureCookies marks the session cookies Secure (set when TLS terminates in front).
	SecureCookies bool
	// MaxJSONBytes bounds JSON request bodies; default 1 MiB.
	MaxJSONBytes int64
	// TrustedProxies may set X-Forwarded-For (nginx in front); others may not.
	TrustedProxies []string
	// LoginEvery and LoginBurst limit login attempts per client IP and
	// normalized username; defaults 6s and 10.
	LoginEvery time.Duration
	LoginBurst int
	// ReadTokenSecret signs the per-document read tokens that the nginx
	// hot tier also checks (shared with it); ReadTokenTTL is their life
	// (default 5m).
	ReadTokenSecret []byte
	ReadTokenTTL    time.Duration
	// Admission limits each request class (nil: admission.Defaults for
	// this machine's cores); a class over its bound is shed with 503.
	Admission admission.Config
}

// Server routes requests to the services.
type Server struct {
	deps    Deps
	opt     Options
	log     *slog.Logger
	metrics *httpMetrics
	engine  *gin.Engine
	logins  *loginLimiter

	admission *admission.Controller
}

// New builds the handler.
func New(deps Deps, opt Options) *Server {
	gin.SetMode(gin.ReleaseMode)
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if opt.MaxJSONBytes <= 0 {
		opt.MaxJSONBytes = 1 << 20
	}
	if opt.LoginEvery <= 0 {
		opt.LoginEvery = 6 * time.Second
	}
	if opt.LoginBurst <= 0 {
		opt.LoginBurst = 10
	}
	if opt.ReadTokenTTL <= 0 {
		opt.ReadTokenTTL = 5 * time.Minute
	}
	if opt.Admission == nil {
		opt.Admission = admission.Defaults(0)
	}
	s := &Server{deps: deps, opt: opt, log: deps.Logger, metrics: newHTTPMetrics(deps.Registry),
		logins: newLoginLimiter(deps.Limits, opt.LoginEvery, opt.LoginBurst, deps.Logger), admission: admission.New(opt.Admission, deps.Registry)}
	s.engine = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// HTTPServer wraps the handler with the timeouts a public server needs.
// Writes get no timeout: a large download to a slow client is legitimate;
// idle and header timeouts stop slow-loris clients.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) routes() *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(s.opt.TrustedProxies); err != nil {
		s.log.Error("invalid trusted proxies; trusting none", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(s.requestID, s.recover, s.observe, s.admit, s.authenticate, s.auditOrigin)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metricsHandler())
	r.GET("/api/openapi.json", s.openAPI)

	v1 := r.Group("/api/v1")
	v1.POST("/auth/login", s.login)
	v1.POST("/auth/logout", s.logout)
	v1.GET("/me", s.me)
	v1.GET("/directory", s.directory)
	v1.POST("/me/tokens", s.createToken)

	v1.POST("/documents", s.idempotent, s.uploadDocument)
	v1.GET("/documents", s.listDocuments)
	v1.GET("/documents/:id", s.getDocument)
	v1.PATCH("/documents/:id", s.patchDocument)
	v1.DELETE("/documents/:id", s.idempotent, s.deleteDocument)
	v1.GET("/documents/:id/content", s.getContent)
	v1.POST("/documents/:id/read-token", s.createReadToken)
	v1.HEAD("/documents/:id/content", s.getContent)
	v1.PUT("/documents/:id/content", s.idempotent, s.putContent)
	v1.GET("/documents/:id/versions", s.listVersions)
	v1.GET("/documents/:id/grants", s.getGrants)
	v1.PUT("/documents/:id/grants", s.putGrants)
	v1.GET("/documents/:id/permission", s.getPermission)
	v1.GET("/documents/:id/versions/:n/content", s.getVersionContent)
	v1.GET("/documents/:id/preview", s.getPreview)
	v1.GET("/documents/:id/versions/:n/preview", s.getVersionPreview)

	s.trashRoutes(v1)
	s.adminRoutes(v1.Group("/admin"))
	if s.deps.Audit != nil {
		v1.GET("/admin/audit", s.listAudit)
	}
	s.statsRoutes(v1)
	s.shareRoutes(r, v1)
	s.uploadLinkRoutes(r, v1)
	s.resumableRoutes(v1)
	if s.deps.Internal != nil {
		r.Any("/internal/*path", gin.WrapH(s.deps.Internal))
	}

	r.NoMethod(func(c *gin.Context) {
		abort(c, errs.MethodNotAllowed, "method "+c.Request.Method+" is not allowed here")
	})
	r.NoRoute(s.noRoute)
	return r
}

func (s *Server) noRoute(c *gin.Context) {
	p := c.Request.URL.Path
	if s.deps.UI != nil && (p == "/" || p == "/index.html" || len(p) > 8 && p[:8] == "/assets/") {
		s.deps.UI.ServeHTTP(c.Writer, c.Request)
		return
	}
	abort(c, errs.NotFound, "no such route: "+p)
}
