package deploy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// external are the series the rules and the dashboard read that no
// docplat process exports: Prometheus's own and node_exporter's.
var external = map[string][]string{
	"up":                          {"job", "instance"},
	"node_filesystem_avail_bytes": {"job", "instance", "mountpoint", "device", "fstype"},
	"node_filesystem_size_bytes":  {"job", "instance", "mountpoint", "device", "fstype"},
}

// configuredOnly are metrics a process exports only in a configuration
// the embedded scrape below does not run (blobs on S3, read replicas),
// with their labels. TestConfiguredOnlyMetricsAreRegistered holds their
// names to the code; e2e's TestScaledOutShapeUsesEachEngine scrapes them
// from apps in that configuration.
var configuredOnly = map[string][]string{
	"docplat_db_replica_lag_seconds":                  {"replica"},
	"docplat_db_replica_healthy":                      {"replica"},
	"docplat_db_reads_routed_total":                   {"to"},
	"docplat_replica_fenced_reads_total":              {},
	"docplat_blob_s3_errors_total":                    {"op"},
	"docplat_blob_s3_request_duration_seconds_bucket": {"op", "le"},
}

// TestConfiguredOnlyMetricsAreRegistered: each configuredOnly metric is
// registered under that name by some package's code, so a rename there
// fails here instead of silencing an alert.
func TestConfiguredOnlyMetricsAreRegistered(t *testing.T) {
	var src strings.Builder
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			src.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range configuredOnly {
		base := strings.TrimSuffix(name, "_bucket")
		if !strings.Contains(src.String(), `"`+base+`"`) {
			t.Errorf("no code registers %s (configuredOnly names it)", base)
		}
	}
}

// scrapeLabels are the labels Prometheus adds to every scraped series.
var scrapeLabels = []string{"job", "instance"}

// exported is what the processes' /metrics expose: series name -> label
// names (a histogram as its _bucket, _sum and _count series).
type exported map[string][]string

// TestAlertRules: alerts.yml is well formed (a name, a severity, a summary
// and a description per rule, durations Prometheus accepts) and every
// series it reads, with every label it matches on, is exported by docplat
// (scraped from a running docplat after some traffic), by Prometheus or
// node_exporter, or is one of the few pending metrics above; every job it
// names is scraped by prometheus.yml. The dashboard is held to the same.
func TestAlertRules(t *testing.T) {
	metrics := scrapeDocplat(t)
	jobs := scrapeJobs(t)

	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	readYAML(t, "prometheus/alerts.yml", &rules, true)
	if len(rules.Groups) == 0 {
		t.Fatal("alerts.yml has no groups")
	}
	seen := map[string]bool{}
	for _, g := range rules.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || seen[r.Alert] {
				t.Errorf("group %s: alert name %q missing or repeated", g.Name, r.Alert)
			}
			seen[r.Alert] = true
			if s := r.Labels["severity"]; s != "page" && s != "ticket" {
				t.Errorf("%s: severity %q, want page or ticket", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: wants a summary and a description", r.Alert)
			}
			if r.For != "" {
				if _, err := model.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			checkExpr(t, "alert "+r.Alert, r.Expr, metrics, jobs)
		}
	}
}

// TestDashboard: the Grafana dashboard has the shape Grafana imports (a
// uid, a title, a schema version, panels with unique ids, a type, a
// place on the grid and, for those that are not rows, Prometheus targets
// with a refId and an expression), and its expressions and variables read
// only what TestAlertRules accepts.
func TestDashboard(t *testing.T) {
	metrics := scrapeDocplat(t)
	jobs := scrapeJobs(t)
	b, err := os.ReadFile("grafana/docplat.json")
	if err != nil {
		t.Fatal(err)
	}
	type target struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	}
	type gridPos struct{ X, Y, W, H int }
	var d struct {
		UID           string `json:"uid"`
		Title         string `json:"title"`
		SchemaVersion int    `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int             `json:"id"`
			Type       string          `json:"type"`
			Title      string          `json:"title"`
			GridPos    *gridPos        `json:"gridPos"`
			Datasource json.RawMessage `json:"datasource"`
			Targets    []target        `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("docplat.json: %v", err)
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 30 || len(d.Panels) == 0 {
		t.Fatalf("docplat.json: uid %q, title %q, schemaVersion %d, %d panels", d.UID, d.Title, d.SchemaVersion, len(d.Panels))
	}
	vars := map[string]string{"__rate_interval": "5m", "__interval": "1m"}
	for _, v := range d.Templating.List {
		vars[v.Name] = ".*"
		if q, ok := v.Query.(map[string]any); ok && v.Type == "query" {
			expr, _ := q["query"].(string)
			m := regexp.MustCompile(`^label_values\((.*),\s*([a-z_]+)\)$`).FindStringSubmatch(expr)
			if m == nil {
				t.Errorf("variable %s: query %q, want label_values(selector, label)", v.Name, expr)
				continue
			}
			checkExpr(t, "variable "+v.Name, m[1], metrics, jobs)
		}
	}
	expand := func(expr string) string {
		return regexp.MustCompile(`\$\{?(\w+)\}?`).ReplaceAllStringFunc(expr, func(s string) string {
			name := strings.Trim(s, "${}")
			if v, ok := vars[name]; ok {
				return v
			}
			t.Errorf("expression %q uses the undefined variable %s", expr, s)
			return s
		})
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || p.ID == 0 || p.Type == "" || p.Title == "" || p.GridPos == nil || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %d %q: wants a unique id, a type, a title and a place within the 24 columns", p.ID, p.Title)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 || !bytes.Contains(p.Datasource, []byte("prometheus")) {
			t.Errorf("panel %q: no targets, or not on the Prometheus data source", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] || tg.Expr == "" {
				t.Errorf("panel %q: a target without a unique refId or an expression", p.Title)
			}
			refs[tg.RefID] = true
			checkExpr(t, "panel "+p.Title, expand(tg.Expr), metrics, jobs)
		}
	}
}

// checkExpr checks that expr reads only known series and labels, and
// names only scraped jobs.
func checkExpr(t *testing.T, where, expr string, metrics exported, jobs []string) {
	t.Helper()
	sels, err := selectors(expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if len(sels) == 0 {
		t.Errorf("%s: reads no metric: %s", where, expr)
	}
	for _, s := range sels {
		labels, ok := metrics[s.metric]
		if !ok {
			labels, ok = external[s.metric]
		}
		if !ok {
			if labels, ok = configuredOnly[s.metric]; ok {
				labels = append(slices.Clone(labels), scrapeLabels...)
			}
		}
		if !ok {
			t.Errorf("%s reads %s, which no docplat process exports (nor Prometheus, nor node_exporter)", where, s.metric)
			continue
		}
		for _, l := range s.labels {
			if !slices.Contains(labels, l) {
				t.Errorf("%s matches %s on the label %q; it has %v", where, s.metric, l, labels)
			}
		}
	}
	for _, m := range regexp.MustCompile(`job(=~?)"([^"]+)"`).FindAllStringSubmatch(expr, -1) {
		re, err := regexp.Compile("^(?:" + m[2] + ")$")
		if err != nil {
			t.Errorf("%s: job matcher %q: %v", where, m[2], err)
			continue
		}
		if !slices.ContainsFunc(jobs, re.MatchString) {
			t.Errorf("%s selects job %q, which prometheus.yml does not scrape (%v)", where, m[2], jobs)
		}
	}
}

// scrapeJobs reads the job names of prometheus.yml.
func scrapeJobs(t *testing.T) []string {
	t.Helper()
	var cfg struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "prometheus/prometheus.yml", &cfg, false) // promtool checks the rest
	var jobs []string
	for _, s := range cfg.ScrapeConfigs {
		jobs = append(jobs, s.JobName)
	}
	return jobs
}

// readYAML decodes path into v; strict refuses fields v does not have.
func readYAML(t *testing.T, path string, v any, strict bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var opts []yaml.DecodeOption
	if strict {
		opts = append(opts, yaml.Strict())
	}
	if err := yaml.UnmarshalWithOptions(b, v, opts...); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

var scraped exported

// scrapeDocplat starts docplat serve in embedded mode (the stats service,
// a detector and job workers in the one process: the same metric families
// as the processes of a deployment), sends it some traffic (a login, a
// text and an image upload and their jobs, a resumable upload, reads, a
// search, a failed login) and reads its /metrics; once per test binary.
func scrapeDocplat(t *testing.T) exported {
	t.Helper()
	if scraped != nil {
		return scraped
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, "docplat.log"))
	if err != nil {
		t.Fatal(err)
	}
	const password = "deploy-test-password"
	cmd := exec.Command(docplatBin, "serve", "--addr", addr, "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCPLAT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "DOCPLAT_ADMIN_PASSWORD="+password)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { // it is needed by this scrape only
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
	}()
	fail := func(format string, args ...any) {
		t.Helper()
		b, _ := os.ReadFile(logf.Name())
		t.Fatalf(format+"\ndocplat's log:\n%s", append(args, b)...)
	}
	base := "http://" + addr
	hc := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := hc.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			fail("docplat serve was not ready in 60 s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	do := func(method, path string, hdr map[string]string, body io.Reader, want int) ([]byte, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, body)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		r, err := hc.Do(req)
		if err != nil {
			fail("%s %s: %v", method, path, err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != want {
			fail("%s %s: %d %s, want %d", method, path, r.StatusCode, b, want)
		}
		return b, r.Header
	}
	asJSON := map[string]string{"Content-Type": "application/json"}
	var login struct{ Token string }
	b, _ := do("POST", "/api/v1/auth/login", asJSON, strings.NewReader(`{"username":"admin","password":"`+password+`"}`), 200)
	if err := json.Unmarshal(b, &login); err != nil || login.Token == "" {
		fail("login: %v", err)
	}
	do("POST", "/api/v1/auth/login", asJSON, strings.NewReader(`{"username":"admin","password":"wrong-password"}`), 401)
	auth := map[string]string{"Authorization": "Bearer " + login.Token}
	upload := func(name string, content []byte) string {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(content)
		mw.WriteField("visibility", "public")
		mw.Close()
		var doc struct{ ID string }
		b, _ := do("POST", "/api/v1/documents", map[string]string{"Authorization": auth["Authorization"], "Content-Type": mw.FormDataContentType()}, &buf, 201)
		if err := json.Unmarshal(b, &doc); err != nil {
			fail("upload %s: %v", name, err)
		}
		return doc.ID
	}
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		img.Set(x, x%48, color.RGBA{200, 30, 30, 255})
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	ids := []string{upload("notes.txt", []byte("the deployment guide's monitoring words")), upload("figure.png", pngBuf.Bytes())}
	// A resumable (tus) upload, its one PATCH finishing it.
	tusBody := "a resumable upload"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	_, h := do("POST", "/api/v1/uploads/", map[string]string{"Authorization": auth["Authorization"], "Tus-Resumable": "1.0.0",
		"Upload-Length": strconv.Itoa(len(tusBody)), "Upload-Metadata": "filename " + b64("tus.txt") + ",visibility " + b64("public")}, nil, 201)
	loc := h.Get("Location")
	if i := strings.Index(loc, "/api/v1/uploads/"); i >= 0 {
		loc = loc[i:]
	}
	do("PATCH", loc, map[string]string{"Authorization": auth["Authorization"], "Tus-Resumable": "1.0.0",
		"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}, strings.NewReader(tusBody), 204)
	for range 3 {
		for _, id := range ids {
			do("GET", "/api/v1/documents/"+id+"/content", nil, nil, 200)
			do("GET", "/api/v1/documents/"+id, nil, nil, 200)
		}
		do("GET", "/api/v1/documents?q=monitoring", auth, nil, 200)
	}
	do("GET", "/api/v1/documents/no-such-document", nil, nil, 404)

	// The jobs (text extraction, the image's preview) run in the
	// background: wait for their families.
	want := []string{"docplat_job_duration_seconds", "docplat_preview_generations_total", "docplat_stats_counter_flushes_total"}
	var fams map[string]*dto.MetricFamily
	for deadline := time.Now().Add(60 * time.Second); ; {
		r, err := hc.Get(base + "/metrics")
		if err != nil {
			fail("GET /metrics: %v", err)
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		fams, err = p.TextToMetricFamilies(r.Body)
		r.Body.Close()
		if err != nil {
			fail("parsing /metrics: %v", err)
		}
		missing := slices.DeleteFunc(slices.Clone(want), func(n string) bool { return fams[n] != nil })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			fail("after 60 s /metrics still lacks %v", missing)
		}
		time.Sleep(500 * time.Millisecond)
	}
	scraped = exported{}
	for name, f := range fams {
		labelSet := map[string]bool{}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				labelSet[l.GetName()] = true
			}
		}
		var labels []string
		for l := range labelSet {
			labels = append(labels, l)
		}
		labels = append(labels, scrapeLabels...)
		sort.Strings(labels)
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			scraped[name+"_bucket"] = append(slices.Clone(labels), "le")
			scraped[name+"_sum"], scraped[name+"_count"] = labels, labels
		case dto.MetricType_SUMMARY:
			scraped[name] = append(slices.Clone(labels), "quantile")
			scraped[name+"_sum"], scraped[name+"_count"] = labels, labels
		default:
			scraped[name] = labels
		}
	}
	t.Logf("scraped %d series names from docplat serve (embedded mode)", len(scraped))
	return scraped
}

// TestAlertRulesPromtool: Prometheus's own checker parses the rules and
// the example configuration (with the rules beside it).
func TestAlertRulesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		home, _ := os.UserHomeDir()
		promtool = filepath.Join(home, ".cache", "docplat", "promtool", "promtool")
		if _, err := os.Stat(promtool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("promtool is missing (scripts/test-deps.sh extracts it into ~/.cache/docplat/promtool)")
			}
			t.Skip("promtool is missing: run scripts/test-deps.sh")
		}
	}
	if out, err := exec.Command(promtool, "check", "rules", "prometheus/alerts.yml").CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
	dir := t.TempDir()
	abs, err := filepath.Abs("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "/etc/prometheus/docplat-alerts.yml", abs, 1)
	if cfg == string(b) {
		t.Fatal("prometheus.yml no longer loads /etc/prometheus/docplat-alerts.yml")
	}
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
	// alerts_test.yml feeds series to some rules and says what fires.
	cmd := exec.Command(promtool, "test", "rules", "alerts_test.yml")
	cmd.Dir = "prometheus"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s", err, out)
	}
}
