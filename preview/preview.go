// Package preview shows a document's content safely in the browser:
// Markdown rendered to sanitized HTML and text decoded to UTF-8, on
// request; and page images of PDFs, Office files (converted to PDF by
// LibreOffice) and images (downscaled), generated off the request path by
// Generate in bounded child processes and stored beside the blob as its
// derived files, content-addressed by the blob's sha256.
//
// It knows no documents or permissions: the caller decides who may read
// the content and hands it over as a Source. Answering a request never
// renders: a page not generated yet answers kind "pending".
package preview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"docplat/blob"
	"docplat/errs"
)

// Kinds of preview.
const (
	KindHTML    = "html"    // Markdown, rendered and sanitized
	KindText    = "text"    // plain text, CSV, JSON, HTML source, as UTF-8
	KindPDF     = "pdf"     // a PDF: a page count; pages come as PNG from Page
	KindOffice  = "office"  // an Office file, converted to PDF: pages as for a PDF
	KindImage   = "image"   // an image: one page, downscaled
	KindPending = "pending" // pages not generated yet: ask again later
	KindNone    = "none"    // no preview: download the content
)

// Preview is a content's preview as the API answers it.
type Preview struct {
	Kind      string `json:"kind"`
	HTML      string `json:"html,omitempty"`
	Text      string `json:"text,omitempty"`
	Charset   string `json:"charset,omitempty"`
	Truncated *bool  `json:"truncated,omitempty"` // html and text only
	// Pages is how many page images there are (pdf, office, image);
	// TotalPages the document's page count when only the first Pages
	// have images.
	Pages      int   `json:"pages,omitempty"`
	TotalPages int   `json:"total_pages,omitempty"`
	Widths     []int `json:"widths,omitempty"` // the widths page images come in
	// Width and Height are an image's own size in pixels (kind image).
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Reason says why there are no page images (kind none).
	Reason string `json:"reason,omitempty"`
}

// Source is one version's content, opened by the caller.
type Source struct {
	SHA256 string
	Size   int64
	Mime   string
	// Body reads the content from its start; a local file (a *os.File, or
	// a blob.Object with a blob.LocalPath) is handed to the
	// converters by name, anything else is copied to a file first.
	Body io.Reader
}

// Store keeps generated previews as files derived from a blob (package
// blob's Store, on a directory or an S3 bucket).
type Store interface {
	PutDerived(sha, name string, r io.Reader, limit int64) error
	OpenDerived(sha, name string) (blob.Object, error)
}

// Options configure a Service.
type Options struct {
	// Store keeps generated previews (required).
	Store Store
	// WorkDir holds a generation's scratch files (a temp dir when "").
	WorkDir string
	// MaxPDFBytes, MaxOfficeBytes: larger files get no page images (kind
	// none, with the reason).
	MaxPDFBytes    int64
	MaxOfficeBytes int64
	// MaxPages: page images are made of the first MaxPages pages only.
	MaxPages int
	// MaxImagePixels bounds an image's width times height, read from its
	// header before it is decoded (a decompression bomb fails there).
	MaxImagePixels int64
	// MaxMarkdownBytes and MaxTextBytes: only this much of the content is
	// rendered or shown (truncated: true).
	MaxMarkdownBytes int64
	MaxTextBytes     int64
	// Timeout bounds one poppler run (also its CPU seconds);
	// OfficeTimeout one LibreOffice conversion.
	Timeout       time.Duration
	OfficeTimeout time.Duration
	// MaxRenderMemory bounds one poppler run's address space,
	// MaxOfficeMemory one LibreOffice run's.
	MaxRenderMemory int64
	MaxOfficeMemory int64
	// Concurrency: how many generations run at once in this process.
	Concurrency int
	// PDFInfo, PDFToPPM and SOffice name the tools; "" looks them up on
	// PATH. Without poppler nothing gets page images, without LibreOffice
	// Office files get none.
	PDFInfo, PDFToPPM, SOffice string
	Registerer                 prometheus.Registerer
	Logger                     *slog.Logger
}

// DefaultOptions are the limits docplat runs with.
func DefaultOptions() Options {
	return Options{MaxPDFBytes: 100 << 20, MaxOfficeBytes: 100 << 20, MaxPages: 100, MaxImagePixels: 50_000_000,
		MaxMarkdownBytes: 1 << 20, MaxTextBytes: 256 << 10,
		Timeout: 30 * time.Second, OfficeTimeout: 2 * time.Minute, MaxRenderMemory: 1 << 30, MaxOfficeMemory: 4 << 30,
		Concurrency: 1}
}

// Service answers previews and generates page images.
type Service struct {
	opt     Options
	log     *slog.Logger
	store   Store
	poppler *poppler // nil: no page images
	office  *office  // nil: no Office previews
	slots   chan struct{}
	flight  singleflight.Group
	m       *metrics
}

// New finds poppler and LibreOffice.
func New(opt Options) (*Service, error) {
	d := DefaultOptions()
	for _, f := range []struct{ v, d *int64 }{{&opt.MaxPDFBytes, &d.MaxPDFBytes}, {&opt.MaxOfficeBytes, &d.MaxOfficeBytes},
		{&opt.MaxImagePixels, &d.MaxImagePixels}, {&opt.MaxMarkdownBytes, &d.MaxMarkdownBytes}, {&opt.MaxTextBytes, &d.MaxTextBytes},
		{&opt.MaxRenderMemory, &d.MaxRenderMemory}, {&opt.MaxOfficeMemory, &d.MaxOfficeMemory}} {
		if *f.v <= 0 {
			*f.v = *f.d
		}
	}
	if opt.MaxPages <= 0 {
		opt.MaxPages = d.MaxPages
	}
	if opt.Timeout <= 0 {
		opt.Timeout = d.Timeout
	}
	if opt.OfficeTimeout <= 0 {
		opt.OfficeTimeout = d.OfficeTimeout
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = d.Concurrency
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Store == nil {
		return nil, errors.New("preview: no store for generated previews")
	}
	s := &Service{opt: opt, log: opt.Logger, store: opt.Store, slots: make(chan struct{}, opt.Concurrency), m: newMetrics(opt.Registerer)}
	info, errInfo := lookTool(opt.PDFInfo, "pdfinfo")
	ppm, errPPM := lookTool(opt.PDFToPPM, "pdftoppm")
	if err := errors.Join(errInfo, errPPM); err != nil {
		s.log.Warn("page previews are off: poppler-utils is not installed", "err", err)
	} else {
		s.poppler = &poppler{pdfinfo: info, pdftoppm: ppm, timeout: opt.Timeout, maxMemory: opt.MaxRenderMemory}
	}
	if so, err := lookTool(opt.SOffice, "soffice"); err != nil {
		s.log.Warn("Office previews are off: LibreOffice is not installed", "err", err)
	} else {
		s.office = &office{soffice: so, timeout: opt.OfficeTimeout, maxMemory: opt.MaxOfficeMemory}
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

// Office reports whether Office files can be converted.
func (s *Service) Office() bool { return s.poppler != nil && s.office != nil }

// officeTypes are the Office formats LibreOffice converts, by media type,
// with the file extension it is handed under.
var officeTypes = map[string]string{
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   "docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         "xlsx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
	"application/vnd.oasis.opendocument.text":                                   "odt",
	"application/vnd.oasis.opendocument.spreadsheet":                            "ods",
	"application/vnd.oasis.opendocument.presentation":                           "odp",
}

var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// pagedKind is the kind of page images a media type gets, or "".
func pagedKind(mediaType string) string {
	base, _, _ := mime.ParseMediaType(mediaType)
	switch {
	case base == "application/pdf":
		return KindPDF
	case officeTypes[base] != "":
		return KindOffice
	case imageTypes[base]:
		return KindImage
	}
	return ""
}

// Paged reports whether a content of this media type gets page images,
// generated by Generate (the caller queues a job for it).
func Paged(mediaType string) bool { return pagedKind(mediaType) != "" }

// Describe answers src's preview: rendered Markdown or text (read from
// src now), or what Generate stored for a PDF, Office file or image (kind
// pending until it has). errs.Unprocessable for a file whose generation
// failed for good (damaged, protected, over the limits).
func (s *Service) Describe(ctx context.Context, src Source) (Preview, error) {
	base, _, _ := mime.ParseMediaType(src.Mime)
	switch kind := pagedKind(base); {
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
	case kind != "":
		m, err := s.manifest(src.SHA256)
		if errors.Is(err, blob.ErrNotFound) {
			if reason := s.cannot(kind, src.Size); reason != "" {
				return Preview{Kind: KindNone, Reason: reason}, nil
			}
			return Preview{Kind: KindPending}, nil
		}
		if err != nil {
			return Preview{}, err
		}
		return m.preview()
	}
	return Preview{Kind: KindNone}, nil
}

// cannot says why this server makes no page images of a content of this
// kind and size, or "".
func (s *Service) cannot(kind string, size int64) string {
	switch {
	case kind != KindImage && s.poppler == nil:
		return "this server cannot render pages (poppler-utils is not installed)"
	case kind == KindOffice && s.office == nil:
		return "this server cannot convert Office files (LibreOffice is not installed)"
	case kind == KindPDF && size > s.opt.MaxPDFBytes:
		return fmt.Sprintf("the PDF is larger than the %d MiB a preview renders", s.opt.MaxPDFBytes>>20)
	case kind == KindOffice && size > s.opt.MaxOfficeBytes:
		return fmt.Sprintf("the file is larger than the %d MiB a preview converts", s.opt.MaxOfficeBytes>>20)
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

// Widths are the widths page images are generated at (the UI asks for
// them): a request's width is rounded up to the next (the largest at
// most). Three, because each costs a render of every page.
var Widths = []int{480, 960, 1440}

// DefaultWidth is the width of a page asked for without one.
const DefaultWidth = 960

// MaxWidth is the largest width a request may ask for.
const MaxWidth = 4096

// Width is the width served for a request of w pixels (1 to MaxWidth).
func Width(w int) int {
	for _, s := range Widths {
		if w <= s {
			return s
		}
	}
	return Widths[len(Widths)-1]
}

// PageName is the derived file holding page (1-based) at width.
func PageName(page, width int) string {
	return "page-" + strconv.Itoa(page) + "-" + strconv.Itoa(width) + ".png"
}

// Page opens the image of page (1-based) at width (see Width) and
// answers the name it is stored under (for its entity tag).
// errs.BadRequest for a page the content does not have or a content
// without page images; errs.Unavailable while it is being generated;
// errs.Unprocessable when its generation failed.
func (s *Service) Page(ctx context.Context, src Source, page, width int) (blob.Object, string, error) {
	kind := pagedKind(src.Mime)
	if kind == "" {
		return nil, "", errs.New(errs.BadRequest, "page images exist for PDF, Office and image documents only; this one is "+src.Mime)
	}
	p, err := s.Describe(ctx, Source{SHA256: src.SHA256, Size: src.Size, Mime: src.Mime})
	switch {
	case err != nil:
		return nil, "", err
	case p.Kind == KindPending:
		return nil, "", ErrPending
	case p.Kind == KindNone:
		return nil, "", errs.New(errs.Unprocessable, p.Reason)
	case page < 1 || page > p.Pages:
		return nil, "", errs.Errorf(errs.BadRequest, "page %d has no image: the document has %d pages with images", page, p.Pages)
	}
	name := PageName(page, Width(width))
	f, err := s.store.OpenDerived(src.SHA256, name)
	if err != nil {
		// The manifest is written last: a page it names is there unless
		// the collector took the blob's files meanwhile.
		return nil, "", errs.Wrap(err, errs.Unavailable, "the page image is not available right now; retry in a moment")
	}
	return f, name, nil
}

// ErrPending: the content's page images are not generated yet.
var ErrPending = errs.New(errs.Unavailable, "the preview is being generated; retry in a moment")

// manifestName is the derived file that says what Generate made; it is
// written last, so its presence means every page it names is stored.
// The version in its name changes when the generated files' meaning does
// (then every content is generated again).
const manifestName = "preview-v1.json"

// manifest is what Generate stored for one content.
type manifest struct {
	Kind       string `json:"kind"` // pdf, office, image; none: failed or not previewable
	Pages      int    `json:"pages,omitempty"`
	TotalPages int    `json:"total_pages,omitempty"`
	Widths     []int  `json:"widths,omitempty"`
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	// Failed: the file cannot be previewed (Reason says why); asking
	// again will not help.
	Failed bool   `json:"failed,omitempty"`
	Reason string `json:"reason,omitempty"`
	// GaveUp: Failed, but not for the file's sake (the generation kept
	// failing otherwise: GiveUp); a later Generate tries again.
	GaveUp bool `json:"gave_up,omitempty"`
}

func (m manifest) preview() (Preview, error) {
	if m.Failed {
		return Preview{}, errs.New(errs.Unprocessable, m.Reason)
	}
	p := Preview{Kind: m.Kind, Pages: m.Pages, Widths: m.Widths, Width: m.Width, Height: m.Height, Reason: m.Reason}
	if m.TotalPages > m.Pages {
		p.TotalPages = m.TotalPages
	}
	return p, nil
}

func (s *Service) manifest(sha string) (manifest, error) {
	var m manifest
	f, err := s.store.OpenDerived(sha, manifestName)
	if err != nil {
		return m, err
	}
	defer f.Close()
	if err := json.NewDecoder(io.LimitReader(f, 64<<10)).Decode(&m); err != nil {
		return m, fmt.Errorf("preview: manifest of %s: %w", sha, err)
	}
	return m, nil
}
