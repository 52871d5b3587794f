package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync/atomic"

	"docplat/loadgen"
)

// Source turns a Mix into requests: reads pick a seeded document by Zipf
// popularity, searches a random term, uploads send a small generated text
// file, updates PATCH the title and tags of a uniformly chosen document (so
// that the lock on one hot document does not dominate the write figures). It
// is safe for concurrent use.
type Source struct {
	base        string // server URL without trailing slash
	token       string
	ids         []string
	words       []string
	zipf        *Zipf
	kinds       []string
	cum         []float64 // cumulative weights of kinds
	uploadBytes int
	seq         atomic.Int64 // makes upload titles and file names unique
}

// SourceConfig is what a Source needs.
type SourceConfig struct {
	BaseURL     string
	Token       string // bearer token for uploads and updates
	IDs         []string
	Words       []string
	Mix         Mix
	ZipfS       float64
	UploadBytes int // size of each uploaded file
}

// NewSource checks cfg and builds the Source.
func NewSource(cfg SourceConfig) (*Source, error) {
	if _, err := url.ParseRequestURI(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("scenario: base URL: %w", err)
	}
	if cfg.Mix.total() <= 0 {
		return nil, errors.New("scenario: the mix is empty")
	}
	if cfg.Mix.Reads() && len(cfg.IDs) == 0 {
		return nil, errors.New("scenario: the mix reads or updates documents but there are none")
	}
	if cfg.Mix[Search] > 0 && len(cfg.Words) == 0 {
		return nil, errors.New("scenario: the mix searches but the word list is empty")
	}
	if cfg.Mix.Writes() && cfg.Token == "" {
		return nil, errors.New("scenario: uploads and updates need a token")
	}
	if cfg.UploadBytes < 1 {
		cfg.UploadBytes = 2048
	}
	s := &Source{
		base: strings.TrimRight(cfg.BaseURL, "/"), token: cfg.Token,
		ids: cfg.IDs, words: cfg.Words, uploadBytes: cfg.UploadBytes,
	}
	if len(cfg.IDs) > 0 {
		z, err := NewZipf(len(cfg.IDs), cfg.ZipfS)
		if err != nil {
			return nil, err
		}
		s.zipf = z
	}
	var sum float64
	for _, k := range Kinds {
		if w := cfg.Mix[k]; w > 0 {
			sum += w
			s.kinds = append(s.kinds, k)
			s.cum = append(s.cum, sum)
		}
	}
	return s, nil
}

// Next implements loadgen.Source.
func (s *Source) Next(rng *rand.Rand) loadgen.Request {
	u := rng.Float64() * s.cum[len(s.cum)-1]
	kind := s.kinds[len(s.kinds)-1]
	for i, c := range s.cum {
		if u < c {
			kind = s.kinds[i]
			break
		}
	}
	switch kind {
	case ReadMeta:
		return loadgen.Request{Name: ReadMeta, Method: http.MethodGet, URL: s.docURL(s.hotID(rng))}
	case ReadContent:
		return loadgen.Request{Name: ReadContent, Method: http.MethodGet, URL: s.docURL(s.hotID(rng)) + "/content"}
	case Search:
		q := s.words[rng.IntN(len(s.words))]
		return loadgen.Request{Name: Search, Method: http.MethodGet, URL: s.base + "/api/v1/documents?q=" + url.QueryEscape(q)}
	case Upload:
		return s.upload(rng)
	default:
		return s.update(rng)
	}
}

func (s *Source) hotID(rng *rand.Rand) string { return s.ids[s.zipf.Rank(rng)] }

func (s *Source) docURL(id string) string {
	return s.base + "/api/v1/documents/" + url.PathEscape(id)
}

func (s *Source) auth(h http.Header) http.Header {
	h.Set("Authorization", "Bearer "+s.token)
	return h
}

func (s *Source) upload(rng *rand.Rand) loadgen.Request {
	n := s.seq.Add(1)
	title := fmt.Sprintf("loadgen upload %d-%d", n, rng.Uint32())
	body, ctype := multipartBody(map[string]string{
		"title": title, "visibility": "public", "tags": "loadgen",
	}, fmt.Sprintf("loadgen-%d.txt", n), generatedText(rng, s.words, s.uploadBytes))
	h := s.auth(http.Header{})
	h.Set("Content-Type", ctype)
	return loadgen.Request{Name: Upload, Method: http.MethodPost, URL: s.base + "/api/v1/documents", Header: h, Body: body}
}

func (s *Source) update(rng *rand.Rand) loadgen.Request {
	id := s.ids[rng.IntN(len(s.ids))]
	patch := map[string]any{
		"title": fmt.Sprintf("loadgen title %d", rng.Uint32()),
		"tags":  []string{"loadgen", fmt.Sprintf("t%d", rng.IntN(10))},
	}
	b, _ := json.Marshal(patch) // a map of strings cannot fail
	h := s.auth(http.Header{})
	h.Set("Content-Type", "application/json")
	return loadgen.Request{Name: Update, Method: http.MethodPatch, URL: s.docURL(id), Header: h, Body: b}
}

// multipartBody builds the contract's upload body: the text fields, then the
// file part.
func multipartBody(fields map[string]string, filename string, content []byte) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, k := range []string{"title", "description", "tags", "visibility"} {
		if v, ok := fields[k]; ok {
			_ = w.WriteField(k, v) // writes to a bytes.Buffer cannot fail
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	h.Set("Content-Type", "text/plain; charset=utf-8")
	part, _ := w.CreatePart(h)
	_, _ = part.Write(content)
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// generatedText returns about n bytes of words, so that the server sniffs it
// as text and indexes something searchable.
func generatedText(rng *rand.Rand, words []string, n int) []byte {
	if len(words) == 0 {
		words = []string{"docplat", "load", "test"}
	}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(12) == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()
}
