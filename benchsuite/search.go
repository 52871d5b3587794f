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
	if err := r.api.WaitSearchable(ctx, ids); err != nil {
		return fmt.Errorf("seeding the search corpus: waiting for the documents' text: %w", err)
	}
	// The search measurement's queries are the first searchPoolTries of
	// CorpusQueries, as they always were; the per-search CPU series takes
	// its own from beyond them (the same sequence, continued).
	all := scenario.CorpusQueries(files, searchPoolTries+20*r.cfg.SearchSamples, 1)
	kindOf := map[string]string{}
	var tail []scenario.CorpusQuery
	for i, q := range all {
		switch {
		case ids[q.From] == "": // a page the server refused cannot be found
		case i < searchPoolTries:
			if !seen[q.Q] {
				kindOf[q.Q] = q.Kind
			}
			add(q.Q)
		default:
			tail = append(tail, q)
		}
	}
	rand.New(rand.NewPCG(11, 12)).Shuffle(len(r.searchQueries), func(i, j int) {
		r.searchQueries[i], r.searchQueries[j] = r.searchQueries[j], r.searchQueries[i]
	})
	r.cpuQueries = holdOut(tail, r.cfg.SearchSamples, seen)
	r.searchQueries, r.cpuQueries, r.cpuStolen = stealShort(r.searchQueries, kindOf, r.cpuQueries, r.cfg.SearchSamples)
	if r.cpuStolen > 0 {
		r.log.Info("the per-search CPU series took queries of the search measurement's (the corpus offered too few others of some kinds)", "taken", r.cpuStolen)
	}
	rand.New(rand.NewPCG(13, 14)).Shuffle(len(r.cpuQueries), func(i, j int) {
		r.cpuQueries[i], r.cpuQueries[j] = r.cpuQueries[j], r.cpuQueries[i]
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

// searchPoolTries is how many CorpusQueries the search measurement's
// queries are taken from.
const searchPoolTries = 6000

// quotaPerKind is n spread evenly over the query kinds (rounded up).
func quotaPerKind(n int) int { return (n + len(searchKinds) - 1) / len(searchKinds) }

// holdOut picks up to n queries not in seen, at most quotaPerKind(n) of
// each kind, in order, and marks them seen.
func holdOut(qs []scenario.CorpusQuery, n int, seen map[string]bool) []scenario.CorpusQuery {
	quota, held := quotaPerKind(n), map[string]int{}
	var out []scenario.CorpusQuery
	for _, q := range qs {
		if len(out) < n && !seen[q.Q] && held[q.Kind] < quota {
			seen[q.Q] = true
			held[q.Kind]++
			out = append(out, q)
		}
	}
	return out
}

// stealShort moves queries of the kinds held has fewer than their quota of
// from the end of pool (the search measurement sends from the start) into
// held, until held has n, and returns how many it moved. kindOf gives a
// pool query's kind (the handouts' words have none and stay).
func stealShort(pool []string, kindOf map[string]string, held []scenario.CorpusQuery, n int) ([]string, []scenario.CorpusQuery, int) {
	quota, count := quotaPerKind(n), map[string]int{}
	for _, q := range held {
		count[q.Kind]++
	}
	take := map[int]bool{}
	for i := len(pool) - 1; i >= 0 && len(held) < n; i-- {
		if k, ok := kindOf[pool[i]]; ok && count[k] < quota {
			count[k]++
			take[i] = true
			held = append(held, scenario.CorpusQuery{Q: pool[i], Kind: k, From: -1})
		}
	}
	if len(take) == 0 {
		return pool, held, 0
	}
	kept := make([]string, 0, len(pool)-len(take))
	for i, q := range pool {
		if !take[i] {
			kept = append(kept, q)
		}
	}
	return kept, held, len(take)
}
