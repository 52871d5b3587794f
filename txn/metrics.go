package txn

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the coordinator and the participants of one process.
type Metrics struct {
	outcomes  *prometheus.CounterVec
	phase     *prometheus.HistogramVec
	heuristic prometheus.Counter
	recovered prometheus.Counter
	timeouts  *prometheus.CounterVec
	syncWaits *prometheus.CounterVec
}

// NewMetrics registers the transaction metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_txn_total", Help: "Three-phase-commit transactions by outcome.",
		}, []string{"outcome"}),
		phase: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "docplat_txn_phase_seconds", Help: "Time spent in the vote phase and in the whole protocol.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"phase"}),
		heuristic: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "docplat_txn_heuristic_total", Help: "Transactions whose participants decided differently (network partition); need reconciliation.",
		}),
		recovered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "docplat_txn_recovered_total", Help: "Unfinished transactions resumed by the coordinator's recovery.",
		}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_txn_participant_timeouts_total", Help: "Branches a participant terminated on its own timeout, by decision.",
		}, []string{"participant", "decision"}),
		syncWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_txn_synchronous_waits_total",
			Help: "Commits whose answer waited past the ack timeout for a synchronous participant to apply them, by result (waited: applied, then answered; gave_up: answered in doubt / not yet applied after the commit wait).",
		}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.outcomes, m.phase, m.heuristic, m.recovered, m.timeouts, m.syncWaits)
	}
	return m
}
