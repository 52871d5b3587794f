package benchsuite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"docplat/loadgen"
	"docplat/loadgen/scenario"
)

// Ports of the apps the suite starts beside the cluster (CLUSTER_BASE+n;
// cluster.sh uses +0..+1, +10..+13, +20, +31..+33, +41..+42).
const noL1AppOffset = 14

// paths measures docplat's read and write paths, each compared with the
// baseline that does the same work without docplat.
func (r *runner) paths(ctx context.Context) error {
	content := "/api/v1/documents/" + r.docID + "/content"

	if r.cfg.wants("hot-tier") {
		// Hot tier: nginx answers from lua_shared_dict once the document is hot.
		hotURL := r.c.NginxURL() + content
		if err := warmHot(ctx, hotURL); err != nil {
			return err
		}
		if err := r.sameBytes(ctx, hotURL); err != nil {
			return err
		}
		hot := &Measurement{Name: "hot-tier", Kind: Path, Baseline: "nginx-static",
			Method: "GET content of the promoted 10 KB document through nginx (X-Cache: HOT)"}
		if err := r.measureHTTP(ctx, hot, get(hotURL)); err != nil {
			return err
		}
		if _, tier, err := fetch(ctx, hotURL); err != nil || tier != "HOT" {
			hot.Note = fmt.Sprintf("after the run X-Cache was %q (err %v): part of the run may have reached the apps", tier, err)
		} else {
			hot.Note = "X-Cache: HOT checked before and after the run"
		}
	}

	if r.cfg.wants("l1-hit") {
		// L1: one app instance directly, the same document again and again.
		l1URL := r.c.AppURL(1) + content
		if err := r.sameBytes(ctx, l1URL); err != nil {
			return err
		}
		if err := r.measureHTTP(ctx, &Measurement{Name: "l1-hit", Kind: Path, Baseline: "nethttp",
			Method: "GET content of the 10 KB document straight at one app instance (bigcache L1 hit after the first read)"}, get(l1URL)); err != nil {
			return err
		}
	}

	if r.cfg.wants("l1-hit-nginx") {
		if err := r.l1HitNginx(ctx); err != nil {
			return err
		}
	}

	if r.cfg.wants("l2-hit") || r.cfg.wants("uncached") {
		if err := r.withoutL1(ctx, content); err != nil {
			return err
		}
	}

	// Search and upload through nginx, as clients send them.
	if r.cfg.wants("search") {
		if err := r.measureSearch(ctx); err != nil {
			return err
		}
		if err := r.measureSearchCPU(ctx); err != nil {
			return err
		}
	}
	if !r.cfg.wants("upload-3pc") {
		return nil
	}
	return r.measureScenario(ctx, &Measurement{Name: "upload-3pc", Kind: Path, Baseline: "mariadb-select",
		Method: "POST /api/v1/documents, 10 KB multipart, through nginx; every upload commits with 3PC (docs + stats)"}, "upload=1")
}

// withoutL1 measures L2 and uncached reads at an app of the suite's own
// with L1 off, on the cluster's stores (cluster.sh's apps all run with L1).
func (r *runner) withoutL1(ctx context.Context, content string) error {
	app, err := r.c.StartApp(ctx, r.c.Base+noL1AppOffset, "DOCPLAT_CACHE_L1_MB=0")
	if err != nil {
		return err
	}
	defer app.Stop()
	r.cpu.add(app.Pid(), "app-nol1")
	defer r.cpu.remove(app.Pid())
	if r.cfg.wants("l2-hit") {
		l2URL := app.URL + content
		if err := r.sameBytes(ctx, l2URL); err != nil {
			return err
		}
		if err := r.measureHTTP(ctx, &Measurement{Name: "l2-hit", Kind: Path, Baseline: "redis-get",
			Method: "GET content of the 10 KB document at an extra app instance started with DOCPLAT_CACHE_L1_MB=0 (every read is a Redis GET)"}, get(l2URL)); err != nil {
			return err
		}
	}
	if !r.cfg.wants("uncached") {
		return nil
	}
	return r.uncached(ctx, app.URL)
}

func (r *runner) measureScenario(ctx context.Context, m *Measurement, mix string) error {
	w, err := scenario.ParseMix(mix)
	if err != nil {
		return err
	}
	src, err := scenario.NewSource(scenario.SourceConfig{BaseURL: r.c.NginxURL(), Token: r.api.Token,
		IDs: r.ids, Words: r.words, Mix: w, ZipfS: 1.1, UploadBytes: r.cfg.BodyBytes})
	if err != nil {
		return err
	}
	return r.measureHTTP(ctx, m, src)
}

// uncached reads every seeded document once, at the L1-off app: none of
// them was read before, so each read misses L2 too and goes to MariaDB and
// the blob store (and fills L2). Each user stops when the documents run out,
// so the window is the time the set took to read (see the note).
func (r *runner) uncached(ctx context.Context, base string) error {
	var next atomic.Int64
	client := loadgen.NewClient(r.cfg.Connections, 0)
	defer client.CloseIdleConnections()
	res, cpu, _ := r.timed(0, func() (*loadgen.Result, error) {
		return ClosedLoop(ctx, r.cfg.Connections, 0, r.cfg.Duration, r.cfg.Timeout, func(ctx context.Context) error {
			i := next.Add(1) - 1
			if i >= int64(len(r.ids)) {
				return ErrStop
			}
			return getOK(ctx, client, base+"/api/v1/documents/"+r.ids[i]+"/content", 0) // generated text: about BodyBytes
		}), nil
	})
	r.add(&Measurement{Name: "uncached", Kind: Path, Baseline: "mariadb-select",
		Method: "GET content of each seeded 10 KB document once, at the L1-off app: L2 miss, MariaDB row + blob file, L2 fill",
		Note:   fmt.Sprintf("%d distinct documents, one read each, no warmup; the window ends with the last read (or the duration)", len(r.ids)),
		Result: res, CPU: cpu})
	return nil
}

// getOK GETs u and checks the status and, when size > 0, the body's size.
func getOK(ctx context.Context, client *http.Client, u string, size int) error {
	_, err := getTier(ctx, client, u, size)
	return err
}

// l1HitNginx reads the seeded handouts through nginx, each cached in its
// owner app's L1 (nginx picks the app by consistent hashing) but not hot:
// the read users get when a document is popular but not a burst, with its
// accounting (nginx's log, the access stream, the counters). The loop
// rotates over every seeded document so that each stays far below the
// hot tier's promotion rate; the note says how many answers were HOT.
func (r *runner) l1HitNginx(ctx context.Context) error {
	base := r.c.NginxURL() + "/api/v1/documents/"
	sizes := make([]int, len(r.ids)) // generated text: about BodyBytes each
	for i, id := range r.ids {       // warm each owner's L1, and check none is hot yet
		b, tier, err := fetch(ctx, base+id+"/content")
		if err != nil {
			return fmt.Errorf("l1-hit-nginx: warming: %w", err)
		}
		if tier == "HOT" || len(b) == 0 {
			return fmt.Errorf("l1-hit-nginx: %s answered X-Cache %q with %d bytes before the run", id, tier, len(b))
		}
		sizes[i] = len(b)
	}
	var next, hot atomic.Int64
	client := loadgen.NewClient(r.cfg.Connections, 0)
	defer client.CloseIdleConnections()
	res, cpu, _ := r.timed(r.cfg.Warmup, func() (*loadgen.Result, error) {
		return ClosedLoop(ctx, r.cfg.Connections, r.cfg.Warmup, r.cfg.Duration, r.cfg.Timeout, func(ctx context.Context) error {
			i := (next.Add(1) - 1) % int64(len(r.ids))
			tier, err := getTier(ctx, client, base+r.ids[i]+"/content", sizes[i])
			if tier == "HOT" {
				hot.Add(1)
			}
			return err
		}), nil
	})
	hotAfter := 0
	for _, id := range r.ids {
		if _, tier, err := fetch(ctx, base+id+"/content"); err == nil && tier == "HOT" {
			hotAfter++
		}
	}
	m := &Measurement{Name: "l1-hit-nginx", Kind: Path, Baseline: "nginx-static",
		Method: fmt.Sprintf("GET content of the %d seeded 10 KB documents in turn through nginx, each in its owner app's L1 (read once before) but not hot: the read with its accounting", len(r.ids)),
		Result: res, CPU: cpu}
	m.Note = fmt.Sprintf("X-Cache not HOT for any document before the run; %d of %d answers (warm-up included) were HOT, %d documents HOT after the run",
		hot.Load(), next.Load(), hotAfter)
	if cpu != nil && cpu.Total > 0 {
		m.Note += fmt.Sprintf("; counting %.0f-%.0f%% of the read's CPU (stats, detectors, broker; up to all of MariaDB's)",
			100*cpu.CountShareMin, 100*cpu.CountShareMax)
	}
	r.add(m)
	return nil
}

// getTier GETs u, checks the status and, when size > 0, the body's size,
// and returns the X-Cache header.
func getTier(ctx context.Context, client *http.Client, u string, size int) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	tier := res.Header.Get("X-Cache")
	n, err := io.Copy(io.Discard, res.Body)
	switch {
	case err != nil:
		return tier, err
	case res.StatusCode != http.StatusOK:
		return tier, fmt.Errorf("status %d", res.StatusCode)
	case size > 0 && n != int64(size):
		return tier, fmt.Errorf("%d bytes, want %d", n, size)
	}
	return tier, nil
}
