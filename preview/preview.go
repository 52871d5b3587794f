// Package preview shows a document's content safely in the browser:
// Markdown rendered to sanitized HTML, text decoded to UTF-8 and cut to a
// limit, and PDF pages rendered to PNG by poppler-utils in a bounded child
// process, cached on disk by content hash, page and width.
//
// It knows no documents or permissions: the caller decides who may read
// the content and hands it over as a Source.
package preview

import (
	"context"
	"docplat/internal/periodic"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"docplat/errs"
)

// Kinds of preview.
const (
	KindHTML = "html" // Markdown, rendered and sanitized
	KindText = "text" // plain text, CSV, JSON, HTML source, as UTF-8
	KindPDF  = "pdf"  // a page count; pages come as PNG from Page
	KindNone = "none" // no preview: download the content
)

// Preview is a content's preview as the API answers it.
type Preview struct {
	Kind      string `json:"kind"`
	HTML      string `json:"html,omitempty"`
	Text      string `json:"text,omitempty"`
	Charset   string `json:"charset,omitempty"`
	Truncated *bool  `json:"truncated,omitempty"` // html and text only
	Pages     int    `json:"pages,omitempty"`     // pdf only
	// Reason says why a PDF has no preview (kind none).
	Reason string `json:"reason,omitempty"`
}

// Source is one version's content, opened by the caller.
type Source struct {
	SHA256 string
	Size   int64
	Mime   string
	// Body reads the content from its start; a *os.File is handed to
	// poppler by name, anything else is copied to a file first.
	Body io.Reader
}

// Gate admits one render (the server's admission class "preview"); it
// returns the function that frees the slot.
type Gate func(ctx context.Context) (release func(), err error)

// Options configure a Service.
type Options struct {
	// CacheDir holds rendered pages and page counts; CacheBytes bounds it.
	CacheDir   string
	CacheBytes int64
	// MaxPDFBytes: larger PDFs get no page preview (kind none).
	MaxPDFBytes int64
	// MaxMarkdownBytes and MaxTextBytes: only this much of the content is
	// rendered or shown (truncated: true).
	MaxMarkdownBytes int64
	MaxTextBytes     int64
	// Timeout bounds one poppler run (also its CPU seconds).
	Timeout time.Duration
	// MaxRenderMemory bounds one poppler run's address space.
	MaxRenderMemory int64
	// PDFInfo and PDFToPPM name poppler's tools; "" looks them up on PATH.
	// Without them PDFs answer kind none.
	PDFInfo, PDFToPPM string
	Registerer        prometheus.Registerer
	Logger            *slog.Logger
}

// DefaultOptions are the limits docplat runs with.
func DefaultOptions() Options {
	return Options{CacheBytes: 512 << 20, MaxPDFBytes: 100 << 20, MaxMarkdownBytes: 1 << 20, MaxTextBytes: 256 << 10,
		Timeout: 10 * time.Second, MaxRenderMemory: 1 << 30}
}

// Service renders previews.
type Service struct {
	opt     Options
	log     *slog.Logger
	cache   *cache
	poppler *poppler // nil: no PDF previews
	flight  singleflight.Group
	m       *metrics
}

// New opens the cache directory and finds poppler.
func New(opt Options) (*Service, error) {
	d := DefaultOptions()
	if opt.CacheBytes <= 0 {
		opt.CacheBytes = d.CacheBytes
	}
	if opt.MaxPDFBytes <= 0 {
		opt.MaxPDFBytes = d.MaxPDFBytes
	}
	if opt.MaxMarkdownBytes <= 0 {
		opt.MaxMarkdownBytes = d.MaxMarkdownBytes
	}
	if opt.MaxTextBytes <= 0 {
		opt.MaxTextBytes = d.MaxTextBytes
	}
	if opt.Timeout <= 0 {
		opt.Timeout = d.Timeout
	}
	if opt.MaxRenderMemory <= 0 {
		opt.MaxRenderMemory = d.MaxRenderMemory
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.CacheDir == "" {
		return nil, errors.New("preview: no cache directory")
	}
	c, err := openCache(opt.CacheDir, opt.CacheBytes)
	if err != nil {
		return nil, fmt.Errorf("preview: cache: %w", err)
	}
	s := &Service{opt: opt, log: opt.Logger, cache: c, m: newMetrics(opt.Registerer)}
	info, errInfo := lookTool(opt.PDFInfo, "pdfinfo")
	ppm, errPPM := lookTool(opt.PDFToPPM, "pdftoppm")
	if err := errors.Join(errInfo, errPPM); err != nil {
		s.log.Warn("PDF previews are off: poppler-utils is not installed", "err", err)
	} else {
		s.poppler = &poppler{pdfinfo: info, pdftoppm: ppm, timeout: opt.Timeout, maxMemory: opt.MaxRenderMemory}
	}
	return s, nil
}

func lookTool(path, name string) (string, error) {
	if path == "" {
		path = name
	}
	return exec.LookPath(path)
}

// PDFs reports whether PDF pages can be rendered.
func (s *Service) PDFs() bool { return s.poppler != nil }

// Describe answers src's preview: rendered Markdown, text, or a PDF's page
// count (which may run pdfinfo through gate).
func (s *Service) Describe(ctx context.Context, src Source, gate Gate) (Preview, error) {
	base, _, _ := mime.ParseMediaType(src.Mime)
	switch {
	case base == "text/markdown":
		b, cut, err := head(src.Body, s.opt.MaxMarkdownBytes)
		if err != nil {
			return Preview{}, err
		}
		utf8, _ := Text(b, src.Mime, cut)
		return Preview{Kind: KindHTML, HTML: Markdown([]byte(utf8)), Truncated: &cut}, nil
	case strings.HasPrefix(base, "text/") || base == "application/json":
		b, cut, err := head(src.Body, s.opt.MaxTextBytes)
		if err != nil {
			return Preview{}, err
		}
		t, charset := Text(b, src.Mime, cut)
		return Preview{Kind: KindText, Text: t, Charset: charset, Truncated: &cut}, nil
	case base == "application/pdf":
		if reason := s.noPages(src); reason != "" {
			return Preview{Kind: KindNone, Reason: reason}, nil
		}
		n, err := s.pages(ctx, src, gate)
		if err != nil {
			return Preview{}, err
		}
		return Preview{Kind: KindPDF, Pages: n}, nil
	}
	return Preview{Kind: KindNone}, nil
}

// noPages says why a PDF gets no page images, or "".
func (s *Service) noPages(src Source) string {
	switch {
	case s.poppler == nil:
		return "this server cannot render PDF pages (poppler-utils is not installed)"
	case src.Size > s.opt.MaxPDFBytes:
		return fmt.Sprintf("the PDF is larger than the %d MiB a preview renders", s.opt.MaxPDFBytes>>20)
	}
	return ""
}

// head reads up to limit bytes and says whether there was more.
func head(r io.Reader, limit int64) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > limit {
		return b[:limit], true, nil
	}
	return b, false, nil
}

// Widths are the page widths rendered: a request's width is rounded up to
// the next (the largest at most), so that the cache holds a few sizes per
// page, not one per window size.
var Widths = []int{240, 480, 720, 960, 1280, 1600, 1920}

// DefaultWidth is the width of a page asked for without one.
const DefaultWidth = 960

// MaxWidth is the largest width a request may ask for.
const MaxWidth = 4096

// Width is the width rendered for a request of w pixels (1 to MaxWidth).
func Width(w int) int {
	for _, s := range Widths {
		if w <= s {
			return s
		}
	}
	return Widths[len(Widths)-1]
}

// ETag is a page image's entity tag: content-addressed, so it never
// changes meaning.
func ETag(sha string, page, width int) string {
	return `"pv1-` + sha + "-" + strconv.Itoa(page) + "-" + strconv.Itoa(width) + `"`
}

// Page renders page (1-based) of a PDF at width (see Width) as PNG, from
// the cache when it holds it. errs.BadRequest for a page the PDF does not
// have; errs.Unprocessable for a PDF poppler cannot read; errs.Unavailable
// when poppler failed or timed out (retry), or the gate shed the render.
func (s *Service) Page(ctx context.Context, src Source, page, width int, gate Gate) ([]byte, error) {
	if base, _, _ := mime.ParseMediaType(src.Mime); base != "application/pdf" {
		return nil, errs.New(errs.BadRequest, "page images exist for PDF documents only; this one is "+src.Mime)
	}
	if reason := s.noPages(src); reason != "" {
		return nil, errs.New(errs.Unprocessable, reason)
	}
	width = Width(width)
	key := fmt.Sprintf("%d.%d.png", page, width)
	if b, ok := s.cache.get(src.SHA256, key); ok {
		s.m.cache.WithLabelValues("page", "hit").Inc()
		return b, nil
	}
	n, err := s.pages(ctx, src, gate)
	if err != nil {
		return nil, err
	}
	if page < 1 || page > n {
		return nil, errs.Errorf(errs.BadRequest, "page %d does not exist: the PDF has %d pages", page, n)
	}
	s.m.cache.WithLabelValues("page", "miss").Inc()
	b, err, _ := s.flight.Do(src.SHA256+"."+key, func() (any, error) {
		return s.withFile(ctx, src, gate, "page", func(file string) ([]byte, error) {
			in, err := s.poppler.info(ctx, file, page)
			if err != nil {
				return nil, err
			}
			return s.poppler.render(ctx, file, page, width, in)
		})
	})
	if err != nil {
		return nil, err
	}
	png := b.([]byte)
	if err := s.cache.put(src.SHA256, key, png); err != nil {
		s.log.WarnContext(ctx, "caching a page preview", "err", err)
	}
	return png, nil
}

// unreadable is the cached page count of a PDF poppler cannot read.
const unreadable = "unreadable"

// pages is the PDF's page count, cached like the pages (and so is a PDF
// poppler cannot read).
func (s *Service) pages(ctx context.Context, src Source, gate Gate) (int, error) {
	if b, ok := s.cache.get(src.SHA256, "pages"); ok {
		if string(b) == unreadable {
			s.m.cache.WithLabelValues("pages", "hit").Inc()
			return 0, errBroken
		}
		if n, err := strconv.Atoi(string(b)); err == nil && n > 0 {
			s.m.cache.WithLabelValues("pages", "hit").Inc()
			return n, nil
		}
	}
	s.m.cache.WithLabelValues("pages", "miss").Inc()
	b, err, _ := s.flight.Do(src.SHA256+".pages", func() (any, error) {
		return s.withFile(ctx, src, gate, "info", func(file string) ([]byte, error) {
			in, err := s.poppler.info(ctx, file, 0)
			return []byte(strconv.Itoa(in.pages)), err
		})
	})
	if errors.Is(err, errBroken) {
		// poppler's verdict on these bytes will not change: remembered, so
		// that asking again costs no run.
		if err := s.cache.put(src.SHA256, "pages", []byte(unreadable)); err != nil {
			s.log.WarnContext(ctx, "caching a page count", "err", err)
		}
	}
	if err != nil {
		return 0, err
	}
	if err := s.cache.put(src.SHA256, "pages", b.([]byte)); err != nil {
		s.log.WarnContext(ctx, "caching a page count", "err", err)
	}
	return strconv.Atoi(string(b.([]byte)))
}

// withFile runs fn on src as a file, inside a gate's slot, measured.
func (s *Service) withFile(ctx context.Context, src Source, gate Gate, op string, fn func(file string) ([]byte, error)) ([]byte, error) {
	if gate != nil {
		release, err := gate(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	file, cleanup, err := s.asFile(src)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	start := time.Now()
	out, err := fn(file)
	outcome := "ok"
	switch {
	case errors.Is(err, errBroken):
		outcome = "unreadable"
	case err != nil:
		outcome = "failed"
		s.log.WarnContext(ctx, "PDF preview failed", "sha256", src.SHA256, "op", op, "err", err)
	}
	s.m.renders.WithLabelValues(op, outcome).Inc()
	s.m.seconds.WithLabelValues(op).Observe(time.Since(start).Seconds())
	return out, err
}

// asFile names a file holding src: the blob itself when the body is one,
// else a copy in the cache's staging directory.
func (s *Service) asFile(src Source) (string, func(), error) {
	if f, ok := src.Body.(*os.File); ok {
		return f.Name(), func() {}, nil
	}
	tmp, err := os.CreateTemp(filepath.Join(s.cache.dir, "tmp"), "pdf-*")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, io.LimitReader(src.Body, s.opt.MaxPDFBytes))
	if err = errors.Join(err, tmp.Close()); err != nil {
		cleanup()
		return "", nil, err
	}
	return tmp.Name(), cleanup, nil
}

// Collect removes cached previews of contents that exists says are gone,
// then the least recently used ones over the size bound; it answers how
// many files it removed.
func (s *Service) Collect(ctx context.Context, exists func(sha string) bool) (int, error) {
	return s.cache.collect(ctx, exists)
}

// Run collects every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration, exists func(sha string) bool) {
	periodic.Run(ctx, interval, func(ctx context.Context) {
		if n, err := s.Collect(ctx, exists); err != nil {
			s.log.Warn("collecting page previews", "err", err)
		} else if n > 0 {
			s.log.Info("page previews collected", "files", n)
		}
	})
}

// CacheDir is where a data directory keeps the preview cache.
func CacheDir(dataDir string) string { return filepath.Join(dataDir, "previews") }

// CollectOrphans removes the cached previews under dir of contents that
// exists says are gone, whatever the cache's size (for `docplat gc`,
// which does not know the serving processes' bound).
func CollectOrphans(ctx context.Context, dir string, exists func(sha string) bool) (int, error) {
	c, err := openCache(dir, math.MaxInt64)
	if err != nil {
		return 0, err
	}
	return c.collect(ctx, exists)
}
