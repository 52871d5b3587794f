package benchsuite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"

	"docplat/loadgen"
	"docplat/loadgen/scenario"
)

// seedSearchCorpus uploads CorpusDocs pages of the shared corpus (real
// manual pages, Chinese and English) beside the generated handouts, and
// makes the search measurement's queries from their titles and bodies
// (scenario.CorpusQueries) and from the handouts' word list.
func (r *runner) seedSearchCorpus(ctx context.Context) error {
	seen := map[string]bool{}
	add := func(q string) {
		if !seen[q] {
			seen[q] = true
			r.searchQueries = append(r.searchQueries, q)
		}
	}
	for _, w := range r.words {
		add(w)
	}
	if r.cfg.CorpusDocs == 0 {
		r.searchNote = "corpus seeding off: handouts' word list only"
		return nil
	}
	dir, err := scenario.FindCorpus(r.cfg.Repo)
	if err != nil {
		r.log.Warn("no search corpus: the search measurement queries the handouts only", "err", err)
		r.searchNote = "no corpus found (" + err.Error() + "): handouts' word list only"
		return nil
	}
	files, err := scenario.CorpusFiles(dir, r.cfg.CorpusDocs)
	if err != nil {
		return err
	}
	ids, refused, err := r.api.UploadCorpus(ctx, files, 8)
	if err != nil {
		return fmt.Errorf("seeding the search corpus: %w", err)
	}
	// The per-search CPU series' queries are held out first, as many of
	// each kind (CorpusQueries cycles the kinds), so the search
	// measurement never sends them.
	quota := (r.cfg.SearchSamples + len(searchKinds) - 1) / len(searchKinds)
	held := map[string]int{}
	for _, q := range scenario.CorpusQueries(files, 6000, 1) {
		if ids[q.From] == "" { // a page the server refused cannot be found
			continue
		}
		if !seen[q.Q] && len(r.cpuQueries) < r.cfg.SearchSamples && held[q.Kind] < quota {
			seen[q.Q] = true
			held[q.Kind]++
			r.cpuQueries = append(r.cpuQueries, q)
			continue
		}
		add(q.Q)
	}
	rand.New(rand.NewPCG(11, 12)).Shuffle(len(r.searchQueries), func(i, j int) {
		r.searchQueries[i], r.searchQueries[j] = r.searchQueries[j], r.searchQueries[i]
	})
	r.searchNote = fmt.Sprintf("%d corpus pages from %s seeded beside the handouts (%d refused by the server's type check)", len(files)-refused, dir, refused)
	return nil
}

// measureSearch sends each search a query not sent before in the run, so
// neither the app's search cache nor Groonga's answers it, until the
// queries run out (then they repeat, and the note says so).
func (r *runner) measureSearch(ctx context.Context) error {
	var next atomic.Int64
	base := r.c.NginxURL()
	src := loadgen.Func(func(*rand.Rand) loadgen.Request {
		i := next.Add(1) - 1
		return loadgen.Request{Method: http.MethodGet, URL: searchURL(base, r.searchQueries[i%int64(len(r.searchQueries))])}
	})
	m := &Measurement{Name: "search", Kind: Path, Baseline: "mariadb-select",
		Method: "GET /api/v1/documents?q= through nginx, anonymous, each request a query not sent before: Chinese two-character words and phrases, English words, fragments inside words and two-term queries from the corpus pages' titles and bodies, and the handouts' word list"}
	if err := r.measureHTTP(ctx, m, src); err != nil {
		return err
	}
	sent := next.Load()
	m.Note = fmt.Sprintf("%s; %d distinct queries, %d sent (warm-up included)", r.searchNote, len(r.searchQueries), sent)
	if sent > int64(len(r.searchQueries)) {
		m.Note += ": the queries ran out and repeated, so some searches were answered from a cache"
	}
	return nil
}
