package stats

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"docplat/txn"
)

// ServerOptions configure the stats service as its own process.
type ServerOptions struct {
	// CoordinatorURL is the document service's base URL, asked when a
	// transaction branch times out; InternalSecret authenticates both ways.
	CoordinatorURL string
	InternalSecret string
	// TxnTimeout: a branch that hears nothing this long is terminated.
	TxnTimeout time.Duration
	// Stream is where the access counters read (Registerer and Logger are
	// the server's).
	Stream StreamConfig
	Logger *slog.Logger
}

// Server is the stats service as its own process: its three-phase-commit
// participant, its access counters, and the HTTP handler of the internal
// API the document service calls, with /metrics, /healthz and /readyz.
type Server struct {
	svc         *Service
	branch      *txn.ParticipantEngine
	coordinator *txn.HTTPClient
	handler     http.Handler
	stream      StreamConfig
}

// NewServer builds the stats process over svc (it does not close svc).
func NewServer(svc *Service, o ServerOptions) *Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{svc: svc, coordinator: &txn.HTTPClient{Base: o.CoordinatorURL, Secret: o.InternalSecret}, stream: o.Stream}
	s.stream.Registerer, s.stream.Logger = reg, o.Logger
	s.branch = txn.NewParticipant(txn.ParticipantOptions{Name: ParticipantName, DB: svc.DB(), Handler: svc.Usage(),
		ForUpdate: svc.MySQL(), Coordinator: s.coordinator, Peers: s.coordinator.Participant,
		Logger: o.Logger, Metrics: txn.NewMetrics(reg), ReadyTimeout: o.TxnTimeout, PrecommitTimeout: o.TxnTimeout})
	mux := http.NewServeMux()
	mux.Handle("/internal/txn/", txn.HTTPHandler(map[string]txn.Participant{ParticipantName: s.branch}, nil, o.InternalSecret))
	mux.Handle("/internal/stats/", svc.InternalHandler(o.InternalSecret))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := svc.Ping(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable","failing":["database"]}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	s.handler = mux
	return s
}

// Handler is the process's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Coordinator is the client the participant asks about timed-out
// transactions (its Base may be set once the document service listens).
func (s *Server) Coordinator() *txn.HTTPClient { return s.coordinator }

// Run runs the participant's timeouts and the access counters until ctx
// ends; wait on the group for them to stop.
func (s *Server) Run(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() { s.branch.Run(ctx, 0) })
	wg.Go(func() { s.svc.ConsumeStream(ctx, s.stream) })
	return &wg
}
