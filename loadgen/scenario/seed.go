package scenario

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// API is the small part of docplat's contract that seeding needs.
type API struct {
	Base   string // server URL, no trailing slash
	Token  string
	Client *http.Client
}

// apiError is a non-2xx answer, with the contract's error body.
type apiError struct {
	op     string
	status int
	body   string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: status %d: %s", e.op, e.status, strings.TrimSpace(e.body))
}

// maxShedRetries bounds how often a call refused with 503 + Retry-After
// (the server shedding load, or a dependency down) is sent again.
const maxShedRetries = 5

// do sends one call. A call that is safe to repeat (retry: a read, a
// login, an upload carrying an Idempotency-Key) and is refused with 503
// and Retry-After is sent again after the advised delay, a few times.
func (a *API) do(ctx context.Context, op, method, path string, body []byte, header http.Header, retry bool, want int, out any) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, a.Base+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		if a.Token != "" {
			req.Header.Set("Authorization", "Bearer "+a.Token)
		}
		res, err := a.Client.Do(req)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if wait, ok := retryAfter(res); ok && retry && attempt < maxShedRetries {
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if res.StatusCode != want {
			return &apiError{op: op, status: res.StatusCode, body: string(b)}
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				return fmt.Errorf("%s: decoding the answer: %w", op, err)
			}
		}
		return nil
	}
}

// retryAfter is the delay a 503 answer advises (a second at least, a
// minute at most), and whether it advised one.
func retryAfter(res *http.Response) (time.Duration, bool) {
	if res.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(res.Header.Get("Retry-After")))
	if err != nil || n < 0 {
		return 0, false
	}
	return min(max(time.Duration(n)*time.Second, time.Second), time.Minute), true
}

// Login signs in and keeps the token for the calls that follow.
func (a *API) Login(ctx context.Context, username, password string) error {
	in, _ := json.Marshal(map[string]string{"username": username, "password": password})
	var out struct {
		Token string `json:"token"`
	}
	if err := a.do(ctx, "login", http.MethodPost, "/api/v1/auth/login", in, jsonHeader(), true, http.StatusOK, &out); err != nil {
		return err
	}
	if out.Token == "" {
		return errors.New("login: the answer has no token")
	}
	a.Token = out.Token
	return nil
}

// Document is the part of the document JSON seeding reads.
type Document struct {
	ID         string `json:"id"`
	Visibility string `json:"visibility"`
}

// PublicIDs returns up to n ids of existing public documents, newest listing
// order first (reads in the run are anonymous, so only public ones qualify).
func (a *API) PublicIDs(ctx context.Context, n int) ([]string, error) {
	var ids []string
	for page := 1; len(ids) < n && page <= 100000; page++ {
		var out struct {
			Items []Document `json:"items"`
			Total int        `json:"total"`
		}
		path := fmt.Sprintf("/api/v1/documents?page=%d&page_size=100", page)
		if err := a.do(ctx, "list documents", http.MethodGet, path, nil, nil, true, http.StatusOK, &out); err != nil {
			return nil, err
		}
		for _, d := range out.Items {
			if d.Visibility == "public" && len(ids) < n {
				ids = append(ids, d.ID)
			}
		}
		if len(out.Items) < 100 {
			break
		}
	}
	return ids, nil
}

// SeedFile is one document to upload.
type SeedFile struct {
	Name    string // file name sent in the multipart part
	Title   string
	Tags    string // comma list
	Content []byte
}

// Upload creates one public document and returns its id.
func (a *API) Upload(ctx context.Context, f SeedFile) (string, error) {
	body, ctype := multipartBody(map[string]string{
		"title": f.Title, "tags": f.Tags, "visibility": "public",
	}, f.Name, f.Content)
	// The key makes a resent upload return the first outcome instead of
	// creating the document twice. A server without Idempotency-Key
	// support ignores it; a resend may then leave a spare seed document,
	// which seeding tolerates.
	var key [12]byte
	_, _ = crand.Read(key[:])
	header := http.Header{"Content-Type": {ctype}, "Idempotency-Key": {"seed-" + hex.EncodeToString(key[:])}}
	var d Document
	if err := a.do(ctx, "upload "+f.Name, http.MethodPost, "/api/v1/documents", body, header, true, http.StatusCreated, &d); err != nil {
		return "", err
	}
	return d.ID, nil
}

// WaitSearchable waits until the text of every document of ids (empty ids
// skipped) is extracted for search: the server extracts it off the request
// path, so a body word finds a document a moment after its upload.
// Documents of a server that does not say (no text_state) count as done.
func (a *API) WaitSearchable(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if id == "" {
			continue
		}
		for delay := 10 * time.Millisecond; ; delay = min(2*delay, time.Second) {
			var d struct {
				TextState string `json:"text_state"`
			}
			if err := a.do(ctx, "read "+id, http.MethodGet, "/api/v1/documents/"+id, nil, nil, true, http.StatusOK, &d); err != nil {
				return err
			}
			if d.TextState != "pending" {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
		}
	}
	return nil
}

// UploadAll uploads files with a few concurrent requests and returns their
// ids in the same order. It stops at the first error.
func (a *API) UploadAll(ctx context.Context, files []SeedFile, workers int) ([]string, error) {
	return a.uploadAll(ctx, files, workers, false)
}

// UploadCorpus is UploadAll for real files, some of which the server may
// refuse as a type it does not store (415 unsupported_type; e.g. Go's
// sniffer takes a text whose bytes 34-35 are "LP" for a font): those get an
// empty id and are counted in refused instead of stopping the seeding.
func (a *API) UploadCorpus(ctx context.Context, files []SeedFile, workers int) (ids []string, refused int, err error) {
	ids, err = a.uploadAll(ctx, files, workers, true)
	for _, id := range ids {
		if id == "" {
			refused++
		}
	}
	return ids, refused, err
}

func (a *API) uploadAll(ctx context.Context, files []SeedFile, workers int, skipRefused bool) ([]string, error) {
	ids := make([]string, len(files))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				id, err := a.Upload(ctx, files[i])
				var ae *apiError
				if skipRefused && errors.As(err, &ae) && ae.status == http.StatusUnsupportedMediaType {
					continue
				}
				if err != nil {
					cancel(err)
					return
				}
				ids[i] = id
			}
		}()
	}
	func() {
		defer close(next)
		for i := range files {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return ids, nil
}

// CorpusFiles returns n documents from a corpus directory laid out like
// /work/shared/corpus: manifest.tsv (file, lang, bytes, sha256, title) and
// the files it names. When n exceeds the corpus it cycles through it again
// with numbered titles (identical content is stored once by the server);
// n <= 0 is every file once.
func CorpusFiles(dir string, n int) ([]SeedFile, error) {
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	type entry struct{ file, lang, title string }
	var entries []entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for first := true; sc.Scan(); first = false {
		cols := strings.Split(sc.Text(), "\t")
		if first || len(cols) < 5 {
			continue // header, or a line that is not an entry
		}
		entries = append(entries, entry{file: cols[0], lang: cols[1], title: cols[4]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("corpus: %s lists no files", filepath.Join(dir, "manifest.tsv"))
	}
	if n <= 0 {
		n = len(entries)
	}
	out := make([]SeedFile, 0, n)
	cache := map[string][]byte{}
	for i := range n {
		e := entries[i%len(entries)]
		b, ok := cache[e.file]
		if !ok {
			b, err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.file)))
			if err != nil {
				return nil, fmt.Errorf("corpus: %w", err)
			}
			cache[e.file] = b
		}
		title := truncateRunes(strings.TrimSpace(e.title), 180)
		if title == "" {
			title = filepath.Base(e.file)
		}
		if round := i / len(entries); round > 0 {
			title = fmt.Sprintf("%s (%d)", title, round+1)
		}
		out = append(out, SeedFile{Name: filepath.Base(e.file), Title: title, Tags: "loadgen," + e.lang, Content: b})
	}
	return out, nil
}

// GeneratedFiles returns n small text documents made of words, for runs
// without a corpus.
func GeneratedFiles(n, size int, words []string, seed int64) []SeedFile {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	out := make([]SeedFile, n)
	for i := range out {
		out[i] = SeedFile{
			Name:    fmt.Sprintf("loadgen-seed-%d.txt", i),
			Title:   fmt.Sprintf("loadgen seed %d", i),
			Tags:    "loadgen",
			Content: generatedText(rng, words, size),
		}
	}
	return out
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// BaseURL normalizes a server URL (scheme and host, no trailing slash).
func BaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL such as http://127.0.0.1:8080", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }
