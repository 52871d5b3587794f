package benchsuite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"docplat/internal/localcluster"
	"docplat/loadgen"
	"docplat/loadgen/scenario"
)

// Run starts the cluster, measures everything cfg asks for, stops the
// cluster and returns the report. A measurement that recorded no success is
// kept in the report and named in the returned error, so a broken path
// cannot pass for a figure.
func Run(ctx context.Context, cfg Config, log *slog.Logger) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// One descriptor per connection here, and one at nginx (its own
	// process, which inherits this limit through cluster.sh, as the apps do).
	if soft, _, err := scenario.RaiseFileLimit(); err != nil || soft < uint64(cfg.maxConns()+512) {
		log.Warn("open-files limit may be too low for the largest step", "soft", soft, "need", cfg.maxConns()+512, "err", err)
	}
	rep := &Report{Started: time.Now(), Version: cfg.Version, Machine: DescribeMachine(),
		Settings: Settings{Connections: cfg.Connections, Warmup: loadgen.Millis(cfg.Warmup),
			Duration: loadgen.Millis(cfg.Duration), BodyBytes: cfg.BodyBytes, Quick: cfg.Quick, Mix: cfg.Mix,
			RefMix: cfg.RefMix, RefThink: loadgen.Millis(cfg.RefThink), Only: cfg.Only}}
	// With OwnMariaDB, a server of the run's own, so that its CPU is the
	// cluster's alone (other clients use the machine's); the shared one if
	// that fails.
	opts := localcluster.Options{WorkerConns: max(4096, cfg.maxConns()+4096), OwnMariaDB: cfg.OwnMariaDB}
	c, err := localcluster.LaunchWith(ctx, cfg.Repo, opts, log)
	if err != nil && opts.OwnMariaDB {
		log.Warn("the run's own MariaDB did not start: using the machine's shared server", "err", err)
		opts.OwnMariaDB = false
		c, err = localcluster.LaunchWith(ctx, cfg.Repo, opts, log)
	}
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	r := &runner{cfg: cfg, log: log, c: c, rep: rep, cpu: newCPUWatch(filepath.Join(c.Dir, "pids"), c.MariaDBPid()),
		sharedDB: c.MariaDBPid() == 0}
	if r.sharedDB {
		rep.Machine.Note += "; MariaDB is the machine's shared server (cluster.sh's default), so its CPU figures include other clients' queries"
	}
	err = r.all(ctx)
	rep.Finished = time.Now()
	return rep, errors.Join(err, r.problems())
}

type runner struct {
	cfg      Config
	log      *slog.Logger
	c        *localcluster.Cluster
	rep      *Report
	api      *scenario.API
	content  []byte   // the 10 KB document, static file and baseline value
	docID    string   // that document
	ids      []string // seeded documents
	words    []string
	cpu      *cpuWatch
	sharedDB bool // MariaDB is not the run's own (see sharedMariaDB)

	searchQueries []string // the search measurement's, distinct (search.go)
	searchNote    string
	cpuQueries    []scenario.CorpusQuery // held out of searchQueries for the per-search CPU series (searchcpu.go)
	cpuStolen     int                    // how many of them came from the end of searchQueries (search.go)
}

func (r *runner) all(ctx context.Context) error {
	r.words = scenario.DefaultWords()
	r.api = &scenario.API{Base: r.c.NginxURL(), Client: loadgen.NewClient(16, 30*time.Second)}
	if err := r.api.Login(ctx, "admin", r.c.Password); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(7, 10))
	r.content = make([]byte, r.cfg.BodyBytes)
	for i := range r.content {
		r.content[i] = "abcdefghijklmnopqrstuvwxyz \n"[rng.IntN(28)]
	}
	var err error
	if r.docID, err = r.api.Upload(ctx, scenario.SeedFile{Name: "handout.txt", Title: "bench handout", Tags: "bench", Content: r.content}); err != nil {
		return err
	}
	r.log.Info("the 10 KB handout every hot-path measurement reads", "document_id", r.docID)
	seedStart := time.Now()
	files := scenario.GeneratedFiles(r.cfg.Docs, r.cfg.BodyBytes, r.words, 1)
	if r.ids, err = r.api.UploadAll(ctx, files, 8); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	if err := r.api.WaitSearchable(ctx, r.ids); err != nil {
		return fmt.Errorf("seeding: waiting for the documents' text: %w", err)
	}
	r.log.Info("seeded", "documents", len(r.ids), "took", time.Since(seedStart).Round(time.Millisecond))
	if r.cfg.wants("search") {
		if err := r.seedSearchCorpus(ctx); err != nil {
			return err
		}
		r.log.Info("seeded the search corpus", "queries", len(r.searchQueries), "took", time.Since(seedStart).Round(time.Millisecond))
	}

	type section struct {
		name string
		run  func(context.Context) error
	}
	sections := []section{{"baselines", r.baselines}, {"paths", r.paths}}
	if r.cfg.wants("offered-load") {
		sections = append(sections, section{"offered load", r.offeredLoad})
	}
	if r.cfg.wants("reference") {
		sections = append(sections, section{"reference", r.reference})
	}
	settleLimit := 30 * time.Second
	if r.cfg.Quick {
		settleLimit = 3 * time.Second // a smoke run's figures are not kept: do not wait out a busy machine
	}
	for _, s := range sections {
		r.settle(ctx, s.name, settleLimit)
		if err := s.run(ctx); err != nil {
			return err
		}
	}
	return nil
}

// problems names the measurements that recorded no success.
func (r *runner) problems() error {
	var errs []error
	check := func(name string, res *loadgen.Result) {
		if res == nil || res.Successes == 0 {
			errs = append(errs, fmt.Errorf("%s: no successful request", name))
		}
	}
	for _, m := range r.rep.Measurements {
		check(m.Name, m.Result)
	}
	for _, c := range append(append([]*Curve{}, r.rep.OfferedLoad...), r.rep.Reference) {
		if c == nil {
			continue
		}
		for _, p := range c.Points {
			check(fmt.Sprintf("%s at %g", c.Name, p.X), p.Result)
		}
	}
	return errors.Join(errs...)
}

func (r *runner) add(m *Measurement) {
	res := m.Result
	var cpu []any
	if m.CPU != nil {
		cpu = []any{"cpu_us_per_succ", int(m.CPU.PerSuccess), "generator_us_per_succ", int(m.CPU.PerSuccessByRole[RoleGenerator])}
	}
	r.log.Info("measured", append([]any{"name", m.Name, "succ/s", int(res.SuccessesPerSec), "mean_ms", res.Mean.Ms(),
		"p99_ms", res.P99.Ms(), "failures", res.Failures, "load", LoadAvg()}, cpu...)...)
	r.rep.Measurements = append(r.rep.Measurements, m)
}

// closed runs src in a closed loop with the suite's connections.
func (r *runner) closed(ctx context.Context, src loadgen.Source, users int, warmup, duration time.Duration) (*loadgen.Result, error) {
	return r.closedThink(ctx, src, users, warmup, duration, 0)
}

// closedThink is closed with a think time between a user's requests.
func (r *runner) closedThink(ctx context.Context, src loadgen.Source, users int, warmup, duration, think time.Duration) (*loadgen.Result, error) {
	// No client: loadgen's own, the cheapest generator per request (its
	// connections end with the run).
	res, err := loadgen.Run(ctx, nil, src, loadgen.Config{Mode: loadgen.Closed, Users: users, ThinkTime: think,
		Warmup: warmup, Duration: duration, Timeout: r.cfg.Timeout, Seed: 1})
	return res, err
}

func (r *runner) measureHTTP(ctx context.Context, m *Measurement, src loadgen.Source) error {
	res, cpu, err := r.timed(r.cfg.Warmup, func() (*loadgen.Result, error) {
		return r.closed(ctx, src, r.cfg.Connections, r.cfg.Warmup, r.cfg.Duration)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	m.Result, m.CPU = res, cpu
	r.add(m)
	return nil
}

func get(u string) loadgen.Source {
	return loadgen.Func(func(*rand.Rand) loadgen.Request { return loadgen.Request{Method: http.MethodGet, URL: u} })
}

// fetch GETs u once and returns the body and the X-Cache header.
func fetch(ctx context.Context, u string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	return b, res.Header.Get("X-Cache"), err
}

// sameBytes checks that u serves the suite's content, so that every target
// of a ratio serves the same bytes.
func (r *runner) sameBytes(ctx context.Context, u string) error {
	b, _, err := fetch(ctx, u)
	if err != nil {
		return err
	}
	if !bytes.Equal(b, r.content) {
		return fmt.Errorf("GET %s: %d bytes that are not the suite's %d", u, len(b), len(r.content))
	}
	return nil
}

// warmHot reads u through nginx from 16 clients until nginx answers it
// from the hot tier (X-Cache: HOT), for at most 30 s.
func warmHot(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var hot atomic.Bool
	var wg sync.WaitGroup
	client := loadgen.NewClient(16, 5*time.Second)
	defer client.CloseIdleConnections()
	for range 16 {
		wg.Go(func() {
			for !hot.Load() && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				res, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.Header.Get("X-Cache") == "HOT" {
					hot.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if !hot.Load() {
		return fmt.Errorf("%s was not promoted to the hot tier within 30 s", u)
	}
	return nil
}

func searchURL(base, q string) string { return base + "/api/v1/documents?q=" + url.QueryEscape(q) }
