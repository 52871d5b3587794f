package loadgen

import "time"

// Tally computes a Result from outcomes measured elsewhere (e.g. a JMeter
// results file), with the same statistics as Run: exact mean and max, exact
// mean of the slowest 10%, HDR percentiles, failures by class, per name.
// It is safe for concurrent use.
type Tally struct{ rec *recorder }

// NewTally returns an empty Tally.
func NewTally() *Tally { return &Tally{rec: newRecorder(nil)} }

// Add records one outcome of the series name ("" counts only overall):
// class is "" for a success, otherwise the failure class ("status 503",
// "timeout", ...).
func (t *Tally) Add(name string, latency time.Duration, class string) {
	t.rec.recordClass(name, latency, class, 0)
}

// Result returns the figures, with rates per second over elapsed.
func (t *Tally) Result(elapsed time.Duration) *Result { return t.rec.result(elapsed) }
