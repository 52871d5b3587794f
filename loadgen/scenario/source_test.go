package scenario

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func newTestSource(t *testing.T, mix string) *Source {
	t.Helper()
	m, err := ParseMix(mix)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSource(SourceConfig{
		BaseURL: "http://docplat.test:8080/", Token: "tok", IDs: []string{"a1", "b2", "c3"},
		Words: []string{"文件", "cloud"}, Mix: m, ZipfS: 1.1, UploadBytes: 300,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRequestShapesMatchTheContract checks each kind against shared/API.md:
// method, path, query, auth and body.
func TestRequestShapesMatchTheContract(t *testing.T) {
	ids := []string{"a1", "b2", "c3"}
	for _, tc := range []struct {
		kind   string
		method string
		check  func(t *testing.T, u *url.URL, h http.Header, body []byte)
	}{
		{ReadMeta, http.MethodGet, func(t *testing.T, u *url.URL, h http.Header, body []byte) {
			id, ok := strings.CutPrefix(u.Path, "/api/v1/documents/")
			if !ok || !slices.Contains(ids, id) || h.Get("Authorization") != "" || body != nil {
				t.Fatalf("metadata read %s, auth %q, body %q", u, h.Get("Authorization"), body)
			}
		}},
		{ReadContent, http.MethodGet, func(t *testing.T, u *url.URL, h http.Header, body []byte) {
			rest, _ := strings.CutPrefix(u.Path, "/api/v1/documents/")
			id, ok := strings.CutSuffix(rest, "/content")
			if !ok || !slices.Contains(ids, id) || h.Get("Authorization") != "" {
				t.Fatalf("content read %s", u)
			}
		}},
		{Search, http.MethodGet, func(t *testing.T, u *url.URL, h http.Header, body []byte) {
			if u.Path != "/api/v1/documents" || !slices.Contains([]string{"文件", "cloud"}, u.Query().Get("q")) {
				t.Fatalf("search %s", u)
			}
		}},
		{Upload, http.MethodPost, func(t *testing.T, u *url.URL, h http.Header, body []byte) {
			if u.Path != "/api/v1/documents" || h.Get("Authorization") != "Bearer tok" {
				t.Fatalf("upload %s auth %q", u, h.Get("Authorization"))
			}
			mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
			if err != nil || mt != "multipart/form-data" {
				t.Fatalf("upload content type %q", h.Get("Content-Type"))
			}
			r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
			fields := map[string]string{}
			var file []byte
			var filename string
			for {
				p, err := r.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(p)
				if p.FormName() == "file" {
					file, filename = b, p.FileName()
				} else {
					fields[p.FormName()] = string(b)
				}
			}
			for k := range fields {
				if !slices.Contains([]string{"title", "description", "tags", "visibility"}, k) {
					t.Fatalf("unknown multipart field %q (the server answers 400)", k)
				}
			}
			if fields["visibility"] != "public" || fields["title"] == "" || len(file) < 300 || filename == "" || strings.ContainsAny(filename, `/\`) {
				t.Fatalf("upload fields %q, file %q of %d bytes", fields, filename, len(file))
			}
		}},
		{Update, http.MethodPatch, func(t *testing.T, u *url.URL, h http.Header, body []byte) {
			id, ok := strings.CutPrefix(u.Path, "/api/v1/documents/")
			if !ok || !slices.Contains(ids, id) || h.Get("Authorization") != "Bearer tok" || h.Get("Content-Type") != "application/json" {
				t.Fatalf("update %s headers %v", u, h)
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			var p struct {
				Title *string   `json:"title"`
				Tags  *[]string `json:"tags"`
			}
			if err := dec.Decode(&p); err != nil || p.Title == nil || p.Tags == nil || len(*p.Tags) == 0 {
				t.Fatalf("update body %s: %v", body, err)
			}
		}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			s := newTestSource(t, tc.kind+"=1")
			rng := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				req := s.Next(rng)
				if req.Name != tc.kind || req.Method != tc.method {
					t.Fatalf("got %s %s named %q", req.Method, req.URL, req.Name)
				}
				u, err := url.Parse(req.URL)
				if err != nil || u.Host != "docplat.test:8080" {
					t.Fatalf("URL %q: %v", req.URL, err)
				}
				h := req.Header
				if h == nil {
					h = http.Header{}
				}
				tc.check(t, u, h, req.Body)
			}
		})
	}
}

func TestMixSharesAreRespected(t *testing.T) {
	s := newTestSource(t, "read-meta=50,read-content=30,search=20")
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 100_000
	counts := map[string]int{}
	for range n {
		counts[s.Next(rng).Name]++
	}
	for kind, share := range map[string]float64{ReadMeta: 0.5, ReadContent: 0.3, Search: 0.2, Upload: 0, Update: 0} {
		got := float64(counts[kind]) / n
		if math.Abs(got-share) > 0.01 {
			t.Errorf("%s: share %.3f, want %.2f", kind, got, share)
		}
	}
}

func TestNewSourceRefusesWhatCannotRun(t *testing.T) {
	reads, _ := ParseMix("read-meta=1")
	writes, _ := ParseMix("upload=1")
	search, _ := ParseMix("search=1")
	for _, tc := range []struct {
		name string
		cfg  SourceConfig
	}{
		{"reads without documents", SourceConfig{BaseURL: "http://x", Mix: reads}},
		{"writes without token", SourceConfig{BaseURL: "http://x", Mix: writes, IDs: []string{"a"}}},
		{"search without words", SourceConfig{BaseURL: "http://x", Mix: search}},
		{"bad URL", SourceConfig{BaseURL: "::", Mix: reads, IDs: []string{"a"}}},
	} {
		if _, err := NewSource(tc.cfg); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
