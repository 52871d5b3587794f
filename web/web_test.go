package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func serve(t *testing.T, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerServesOnlyTheUI(t *testing.T) {
	tests := []struct {
		name         string
		method       string
		target       string
		wantStatus   []int // any of
		wantType     string
		wantBody     string
		wantCache    string
		wantNoBodyOf string // must not appear in the body (escape checks)
	}{
		{name: "index", target: "/", wantStatus: []int{200}, wantType: "text/html", wantBody: "docplat", wantCache: "no-cache"},
		{name: "index by name", target: "/index.html", wantStatus: []int{200}, wantType: "text/html", wantBody: "docplat", wantCache: "no-cache"},
		{name: "script", target: "/assets/app.js", wantStatus: []int{200}, wantType: "javascript", wantCache: "max-age="},
		{name: "script with version query", target: "/assets/app.js?v=0123456789ab", wantStatus: []int{200}, wantType: "javascript", wantCache: "max-age="},
		{name: "stylesheet", target: "/assets/app.css", wantStatus: []int{200}, wantType: "text/css", wantCache: "max-age="},
		{name: "head of script", method: http.MethodHead, target: "/assets/app.js", wantStatus: []int{200}, wantType: "javascript"},
		{name: "unknown asset", target: "/assets/nope.js", wantStatus: []int{404}},
		{name: "assets directory", target: "/assets/", wantStatus: []int{404}},
		{name: "assets without slash", target: "/assets", wantStatus: []int{404}},
		{name: "unknown page", target: "/nope", wantStatus: []int{404}},
		{name: "dot-dot to module root", target: "/../go.mod", wantStatus: []int{400, 404}, wantNoBodyOf: "module docplat"},
		{name: "dot-dot from assets", target: "/assets/../../go.mod", wantStatus: []int{400, 404}, wantNoBodyOf: "module docplat"},
		{name: "encoded dot-dot", target: "/assets/%2e%2e/web.go", wantStatus: []int{400, 404}, wantNoBodyOf: "package web"},
		{name: "embedded tree root", target: "/static/index.html", wantStatus: []int{404}},
		{name: "go source", target: "/web.go", wantStatus: []int{404}},
		{name: "post", method: http.MethodPost, target: "/", wantStatus: []int{405}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			res := serve(t, method, tt.target, nil)
			b := body(t, res)
			ok := false
			for _, s := range tt.wantStatus {
				ok = ok || res.StatusCode == s
			}
			if !ok {
				t.Fatalf("%s %s: status %d, want one of %v", method, tt.target, res.StatusCode, tt.wantStatus)
			}
			if ct := res.Header.Get("Content-Type"); tt.wantType != "" && !strings.Contains(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want it to contain %q", ct, tt.wantType)
			}
			if tt.wantBody != "" && !strings.Contains(b, tt.wantBody) {
				t.Errorf("body does not contain %q", tt.wantBody)
			}
			if cc := res.Header.Get("Cache-Control"); tt.wantCache != "" && !strings.Contains(cc, tt.wantCache) {
				t.Errorf("Cache-Control %q, want it to contain %q", cc, tt.wantCache)
			}
			if tt.wantNoBodyOf != "" && strings.Contains(b, tt.wantNoBodyOf) {
				t.Errorf("body leaks %q", tt.wantNoBodyOf)
			}
			if method == http.MethodHead && b != "" {
				t.Errorf("HEAD answered a body of %d bytes", len(b))
			}
		})
	}
}

// The page must name its assets with the version that changes with their
// content, and every asset it names must exist: a long max-age on a stale
// or missing file would break the UI until the cache expires.
func TestIndexReferencesVersionedAssetsThatExist(t *testing.T) {
	page := body(t, serve(t, http.MethodGet, "/", nil))
	if strings.Contains(page, versionPlaceholder) {
		t.Fatalf("index.html still contains %s", versionPlaceholder)
	}
	refs := regexp.MustCompile(`(?:src|href)="(assets/[^"?]+)\?v=([0-9a-f]{12})"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("index.html names %d versioned assets, want the script and the stylesheet", len(refs))
	}
	for _, m := range refs {
		if res := serve(t, http.MethodGet, "/"+m[1], nil); res.StatusCode != http.StatusOK {
			t.Errorf("index.html names /%s, which answers %d", m[1], res.StatusCode)
		}
	}
}

func TestConditionalGetAnswersNotModified(t *testing.T) {
	for _, target := range []string{"/", "/assets/app.js"} {
		first := serve(t, http.MethodGet, target, nil)
		etag := first.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", target)
		}
		again := serve(t, http.MethodGet, target, http.Header{"If-None-Match": {etag}})
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: status %d, want 304", target, again.StatusCode)
		}
	}
}

func TestPageSecurityHeaders(t *testing.T) {
	res := serve(t, http.MethodGet, "/", nil)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q does not restrict scripts to the origin", csp)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q, want nosniff", got)
	}
}

// assetPaths lists the URL paths of every embedded asset with the extension.
func assetPaths(t *testing.T, ext string) []string {
	t.Helper()
	var out []string
	for p := range loaded().files {
		if strings.HasPrefix(p, "/assets/") && path.Ext(p) == ext {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("no %s assets", ext)
	}
	return out
}

// The UI's safety rule: server data reaches the page only as text nodes.
// Keep the HTML-parsing sinks out of every module. The one exception is
// the preview panel, which parses the preview API's sanitized Markdown
// HTML with DOMParser (and nothing else parses markup).
func TestScriptUsesNoHTMLSinks(t *testing.T) {
	parsesSanitizedHTML := map[string]bool{"/assets/screens/preview.js": true}
	for _, p := range assetPaths(t, ".js") {
		js := body(t, serve(t, http.MethodGet, p, nil))
		for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
			"createContextualFragment", "setHTMLUnsafe", "parseHTMLUnsafe", "DOMParser"} {
			if strings.Contains(js, sink) && !(sink == "DOMParser" && parsesSanitizedHTML[p]) {
				t.Errorf("%s uses %s", p, sink)
			}
		}
	}
	if js := body(t, serve(t, http.MethodGet, "/assets/screens/preview.js", nil)); !strings.Contains(js, "DOMParser") {
		t.Error("preview.js no longer uses DOMParser: drop its exception here")
	}
}

// Modules reached only through an import get no ?v= from index.html: each
// import must carry the current version itself (or a year-long max-age
// would keep an old module beside new ones), and name a module that exists.
// One module imported without it would also run twice, with two states.
func TestModuleImportsCarryTheAssetVersion(t *testing.T) {
	page := body(t, serve(t, http.MethodGet, "/", nil))
	m := regexp.MustCompile(`assets/app\.js\?v=([0-9a-f]{12})`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("index.html does not load assets/app.js?v=<version>")
	}
	version := m[1]
	importRE := regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\(\s*'([^']+)'`)
	reached := map[string]bool{}
	for _, p := range assetPaths(t, ".js") {
		js := body(t, serve(t, http.MethodGet, p, nil))
		if strings.Contains(js, versionPlaceholder) {
			t.Errorf("%s still contains %s", p, versionPlaceholder)
		}
		for _, im := range importRE.FindAllStringSubmatch(js, -1) {
			spec := im[1] + im[2] + im[3]
			target, query, _ := strings.Cut(spec, "?")
			if query != "v="+version {
				t.Errorf("%s imports %q without ?v=%s", p, spec, version)
			}
			resolved := path.Join(path.Dir(p), target)
			reached[resolved] = true
			if res := serve(t, http.MethodGet, resolved, nil); res.StatusCode != http.StatusOK {
				t.Errorf("%s imports %s, which answers %d", p, resolved, res.StatusCode)
			}
		}
	}
	if len(reached) < 2 {
		t.Errorf("found %d imported modules; the import pattern no longer matches the sources", len(reached))
	}
}

// Every UI string exists in both languages, and every t('key') names one.
func TestEveryStringIsTranslated(t *testing.T) {
	src := body(t, serve(t, http.MethodGet, "/assets/i18n.js", nil))
	enStart := strings.Index(src, "const en = {")
	zhStart := strings.Index(src, "const zh = {")
	end := strings.Index(src, "export const STRINGS")
	if enStart < 0 || zhStart < enStart || end < zhStart {
		t.Fatal("i18n.js no longer has the en and zh tables this test reads")
	}
	keyRE := regexp.MustCompile(`(?m)^\s*'([\w.]+)':`)
	keys := func(s string) map[string]bool {
		out := map[string]bool{}
		for _, m := range keyRE.FindAllStringSubmatch(s, -1) {
			out[m[1]] = true
		}
		return out
	}
	en, zh := keys(src[enStart:zhStart]), keys(src[zhStart:end])
	if len(en) < 100 {
		t.Fatalf("read %d English strings; the table format changed", len(en))
	}
	for k := range en {
		if !zh[k] {
			t.Errorf("%q has no Chinese text", k)
		}
	}
	for k := range zh {
		if !en[k] {
			t.Errorf("%q has no English text", k)
		}
	}
	useRE := regexp.MustCompile(`\bt\(\s*'([\w.]+)'`)
	for _, p := range assetPaths(t, ".js") {
		for _, m := range useRE.FindAllStringSubmatch(body(t, serve(t, http.MethodGet, p, nil)), -1) {
			if !en[m[1]] {
				t.Errorf("%s uses t(%q), which is in no table", p, m[1])
			}
		}
	}
}
