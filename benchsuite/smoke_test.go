package benchsuite

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"docplat/internal/localcluster"
	"docplat/loadgen/scenario"
	"docplat/nginx"
)

// TestQuickSuiteMeasuresEveryPart runs the whole suite in -quick mode on a
// cluster of its own (about 50 s on an idle 2-core machine: cluster start,
// seeding, ~20 one-second measurements). It needs nginx with Lua,
// redis-server and MariaDB; without them it skips, except under CI where
// they are required. It is skipped with -short: it is the one slow test of
// the package, and the short tier is for the unit tests.
func TestQuickSuiteMeasuresEveryPart(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the smoke run starts a cluster (~50 s)")
	}
	need := func(what string, err error) {
		if err == nil {
			return
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", what, err)
		}
		t.Skipf("%s is not available: %v", what, err)
	}
	need("nginx with Lua (scripts/nginx-install.sh)", nginx.Available())
	_, err := exec.LookPath("redis-server")
	need("redis-server", err)
	if os.Getenv("DOCPLAT_TEST_SKIP_MYSQL") != "" {
		t.Skip("DOCPLAT_TEST_SKIP_MYSQL: the cluster runs on MariaDB")
	}
	db, err := sql.Open("mysql", localcluster.MySQLRoot)
	if err == nil {
		err = db.Ping()
		db.Close()
	}
	need("MariaDB on 127.0.0.1:3306 (scripts/test-deps.sh)", err)

	cfg := DefaultConfig(true)
	cfg.Repo = ".."
	_, ownErr := exec.LookPath("mariadb-install-db")
	cfg.OwnMariaDB = ownErr == nil // the run's own server where it can be made
	var logs bytes.Buffer
	// Bounds a hung run only: on a loaded machine (parallel tests) the
	// quick suite takes several times its quiet 1.5 minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, logs.String())
	}
	want := []string{"nginx-static", "nethttp", "redis-get", "mariadb-select", "hot-tier", "l1-hit", "l1-hit-nginx", "l2-hit", "uncached", "search", "upload-3pc"}
	for _, name := range want {
		m := rep.Find(name)
		if m == nil || m.Result == nil || m.Result.Successes == 0 {
			t.Errorf("%s: not measured: %+v", name, m)
			continue
		}
		if m.Kind == Path && rep.Find(m.Baseline) == nil {
			t.Errorf("%s: its baseline %q is not in the report", name, m.Baseline)
		}
	}
	// Every window has its CPU figures, and the processes that served it
	// are in them: nginx's workers for the static file, the nethttpd
	// baseline for nethttp, the counting processes for an L1 read.
	for _, name := range want {
		m := rep.Find(name)
		if m == nil || m.CPU == nil || m.CPU.Successes != m.Result.Successes || m.CPU.Window <= 0 {
			t.Errorf("%s: no CPU figures: %+v", name, m)
		}
	}
	saw := func(name, proc string) bool {
		m := rep.Find(name)
		for _, p := range m.CPU.Procs {
			if strings.HasPrefix(p.Name, proc) {
				return true
			}
		}
		return false
	}
	for name, proc := range map[string]string{"nginx-static": "nginx worker", "nethttp": "nethttpd", "l1-hit": "stats",
		"l2-hit": "app-nol1", "search": "mariadbd", "l1-hit-nginx": "nginx worker", "hot-tier": "generator"} {
		if rep.Find(name) != nil && rep.Find(name).CPU != nil && !saw(name, proc) {
			t.Errorf("%s: no %s among the measured processes: %+v", name, proc, rep.Find(name).CPU.Procs)
		}
	}
	if m := rep.Find("nginx-static"); m != nil && m.CPU != nil && m.CPU.PerSuccess <= 0 {
		t.Errorf("nginx-static: no CPU per request: %+v", m.CPU)
	}
	if rep.Reference != nil && len(rep.OfferedLoad) > 0 {
		for _, p := range append(append([]Point{}, rep.Reference.Points...), rep.OfferedLoad[0].Points...) {
			if p.CPU == nil {
				t.Errorf("curve point %v: no CPU figures", p.X)
			}
		}
	}
	if cfg.OwnMariaDB && strings.Contains(rep.Machine.Note, "shared server") {
		t.Errorf("asked for a MariaDB of its own, the run used the shared one: %s", rep.Machine.Note)
	}
	if !strings.Contains(rep.Table(), "CPU per successful request") {
		t.Error("the table has no CPU section")
	}
	if m := rep.Find("hot-tier"); m != nil && !strings.Contains(m.Note, "HOT checked") {
		t.Errorf("hot tier: %s", m.Note)
	}
	// The L1 read through nginx reached the apps (not the hot tier) and
	// was counted: the counting processes ran in its window.
	if m := rep.Find("l1-hit-nginx"); m != nil {
		if !strings.Contains(m.Note, "X-Cache not HOT") || !strings.Contains(m.Note, "0 documents HOT after") {
			t.Errorf("l1-hit-nginx: %s", m.Note)
		}
		if m.CPU != nil && !saw("l1-hit-nginx", "stats") {
			t.Errorf("l1-hit-nginx: the stats service is not among the measured processes")
		}
	}
	if _, err := scenario.FindCorpus(cfg.Repo); err == nil {
		if m := rep.Find("search"); m != nil && !strings.Contains(m.Note, "corpus pages from") {
			t.Errorf("search: the corpus was not seeded: %s", m.Note)
		}
		// The per-search series: every query answered, each kind sampled,
		// CPU measured per search, and the tables carry it.
		sc := rep.SearchCPU
		if sc == nil || sc.Overall.N != cfg.SearchSamples || sc.Failures != 0 || sc.Overall.P50 <= 0 || sc.TicksMean <= 0 {
			t.Errorf("search CPU series: %+v", sc)
		} else {
			for _, k := range sc.Kinds {
				if k.N == 0 {
					t.Errorf("search CPU: no %s query sampled: %+v", k.Kind, sc.Kinds)
				}
			}
			if !strings.Contains(rep.Table(), "CPU per uncached search, one at a time") {
				t.Error("the table has no per-search CPU section")
			}
		}
	}
	if m := rep.Find("uncached"); m != nil && m.Result.Total != int64(cfg.Docs) {
		t.Errorf("uncached: %d reads recorded, want one per seeded document (%d)", m.Result.Total, cfg.Docs)
	}
	if rep.Reference == nil || len(rep.Reference.Points) != len(cfg.RefSteps) || len(rep.OfferedLoad) != 2 {
		t.Errorf("curves: reference %+v, offered load %d", rep.Reference, len(rep.OfferedLoad))
	}
	paths, err := rep.WriteAll(t.TempDir(), t.TempDir())
	if err != nil || len(paths) != 7 {
		t.Errorf("WriteAll: %v %v", paths, err)
	}
}
