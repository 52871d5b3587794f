package benchsuite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"docplat/loadgen"
	"docplat/loadgen/scenario"
)

// offeredLoad runs the open-loop curves: each rate is its own run, so each
// point has its own percentiles. Latency counts from the intended send time
// (loadgen avoids coordinated omission), so queueing shows.
func (r *runner) offeredLoad(ctx context.Context) error {
	hotURL := r.c.NginxURL() + "/api/v1/documents/" + r.docID + "/content"
	hot := &Curve{Name: "hot tier", Method: "open loop, GET the hot 10 KB document through nginx, " + r.cfg.StepDuration.String() + " per rate"}
	for _, rate := range r.cfg.HotRates {
		res, cpu, err := r.open(ctx, get(hotURL), rate)
		if err != nil {
			return err
		}
		hot.Points = append(hot.Points, Point{X: rate, Result: res, CPU: cpu})
	}
	src, err := r.mixSource(r.cfg.Mix)
	if err != nil {
		return err
	}
	mixed := &Curve{Name: "mixed", Method: "open loop, mix " + r.cfg.Mix + " through nginx, " + r.cfg.StepDuration.String() + " per rate"}
	for _, rate := range r.cfg.MixRates {
		res, cpu, err := r.open(ctx, src, rate)
		if err != nil {
			return err
		}
		mixed.Points = append(mixed.Points, Point{X: rate, Result: res, CPU: cpu})
	}
	r.rep.OfferedLoad = []*Curve{hot, mixed}
	return nil
}

func (r *runner) open(ctx context.Context, src loadgen.Source, rate float64) (*loadgen.Result, *CPU, error) {
	// The cap keeps an overloaded step from opening thousands of
	// connections; requests beyond it wait and count as late (see loadgen).
	const maxInFlight = 1024
	warmup := r.cfg.Warmup / 2
	res, cpu, err := r.timed(warmup, func() (*loadgen.Result, error) {
		return loadgen.Run(ctx, nil, src, loadgen.Config{Mode: loadgen.Open, Rate: rate, MaxInFlight: maxInFlight,
			Warmup: warmup, Duration: r.cfg.StepDuration, Timeout: r.cfg.Timeout, Seed: 1})
	})
	if err != nil {
		return nil, nil, err
	}
	r.log.Info("offered load step", "rate", rate, "succ/s", int(res.SuccessesPerSec), "p50_ms", res.P50.Ms(), "p99_ms", res.P99.Ms(),
		"failures", res.Failures, "cpu_us_per_succ", int(cpu.PerSuccess), "generator_us_per_succ", int(cpu.PerSuccessByRole[RoleGenerator]))
	return res, cpu, nil
}

func (r *runner) mixSource(mixSpec string) (*scenario.Source, error) {
	mix, err := scenario.ParseMix(mixSpec)
	if err != nil {
		return nil, err
	}
	return scenario.NewSource(scenario.SourceConfig{BaseURL: r.c.NginxURL(), Token: r.api.Token,
		IDs: r.ids, Words: r.words, Mix: mix, ZipfS: 1.1, UploadBytes: 2048})
}

// reference is the reference table: the mix through nginx, closed loop, at
// each concurrency, each step a run of its own after its own warmup.
func (r *runner) reference(ctx context.Context) error {
	src, err := r.mixSource(r.cfg.RefMix)
	if err != nil {
		return err
	}
	steps := make([]string, len(r.cfg.RefSteps))
	for i, s := range r.cfg.RefSteps {
		steps[i] = fmt.Sprint(s)
	}
	ref := &Curve{Name: "reference", Method: fmt.Sprintf("closed loop, mix %s (Zipf s=1.1 over %d documents, uploads 2 KB) through nginx, %s users each on its own connection, think time %s (uniform 0.5x-1.5x) between a response and the next request, warmup %s + %s each",
		r.cfg.RefMix, len(r.ids), strings.Join(steps, "/"), r.cfg.RefThink, r.cfg.RefWarmup, r.cfg.RefDuration)}
	for _, users := range r.cfg.RefSteps {
		res, cpu, err := r.timed(r.cfg.RefWarmup, func() (*loadgen.Result, error) {
			return r.closedThink(ctx, src, users, r.cfg.RefWarmup, r.cfg.RefDuration, r.cfg.RefThink)
		})
		if err != nil {
			return err
		}
		r.log.Info("reference step", "connections", users, "req/s", int(res.RequestsPerSec), "mean_ms", res.Mean.Ms(),
			"p99_ms", res.P99.Ms(), "failures", res.Failures, "cpu_us_per_succ", int(cpu.PerSuccess), "load", LoadAvg())
		ref.Points = append(ref.Points, Point{X: float64(users), Result: res, CPU: cpu})
		// Let the closed connections leave TIME_WAIT's way and the apps settle.
		time.Sleep(time.Second)
	}
	r.rep.Reference = ref
	return nil
}
