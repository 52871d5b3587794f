// Package extract reads the text of a stored document for search and
// snippets: plain text, Markdown, CSV, JSON and HTML in any charset package
// charset detects, PDF (poppler-utils' pdftotext), Office Open XML (docx,
// pptx, xlsx) and OpenDocument (odt, odp, ods). It is the one extractor.
//
// Untrusted bytes are parsed outside the caller's process only: PDF by
// pdftotext, and Office files by this binary run again as a child (see
// child.go), each in a sandbox bounded in time, CPU, address space and
// output (package internal/sandbox), Office files also within zip-bomb and
// XML-depth limits. A malicious or broken file fails its own call with an
// error; it never panics, blocks or exhausts the caller. Text is decoded in
// the caller: reading at most limit bytes is already bounded.
//
// It knows no documents, permissions or queues: the caller hands it a file.
package extract

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"docplat/errs"
)

// The errors of Text, told apart because a work queue answers them
// differently.
var (
	// ErrUnreadable: the file is damaged, password-protected, or exceeds
	// a structural limit (zip entries, decompressed bytes, compression
	// ratio, nesting): the same bytes will fail again, do not retry.
	ErrUnreadable = errs.New(errs.Unprocessable, "the document's text cannot be read (damaged, password-protected, or built to exhaust the reader); it can still be downloaded")
	// ErrLimit: the reader was killed at its time, CPU or memory limit. A
	// hostile file does that every time; a huge honest one on a busy
	// machine may pass later: retry at most once or twice, with backoff.
	ErrLimit = errs.New(errs.Unprocessable, "reading the document's text took more time or memory than allowed")
	// ErrUnavailable: the reader could not run (pdftotext is not
	// installed, this binary cannot be started again): retry later.
	ErrUnavailable = errs.New(errs.Unavailable, "text extraction cannot run on this server right now; retry later")
)

// Formats of the Office extractor by media type.
var officeFormats = map[string]string{
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   "docx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         "xlsx",
	"application/vnd.oasis.opendocument.text":                                   "odt",
	"application/vnd.oasis.opendocument.presentation":                           "odp",
	"application/vnd.oasis.opendocument.spreadsheet":                            "ods",
}

// limits bound the readers; a variable so that tests can reach a limit
// in less than its production time.
var limits = struct {
	pdfTimeout, officeTimeout time.Duration
	pdfMemory, officeMemory   int64 // address space of one run
	pdfPages                  int   // pages read of a PDF
}{
	pdfTimeout: 60 * time.Second, officeTimeout: 30 * time.Second,
	pdfMemory: 1 << 30,
	// The Go runtime reserves 0.7 to 1.3 GiB of address space as it starts
	// (page summaries, arena hints; seen failing to start under 1.25 GiB),
	// so the Office child's bound is that plus what it may really use;
	// GOMEMLIMIT (child.go) keeps its heap well inside.
	officeMemory: 2 << 30,
	pdfPages:     2000,
}

// Supported reports whether Text reads anything of a media type: a type it
// does not read answers "" and no error.
func Supported(mediaType string) bool {
	base := baseType(mediaType)
	return isText(base) || base == "application/pdf" || officeFormats[base] != ""
}

// Inline reports whether Text reads a media type in the caller's process
// (text, Markdown, CSV, JSON, HTML: read up to its limit and decoded, no
// child process, no tool), so that its time is bounded by the limit alone.
// PDF and Office files are read by tools in a sandbox, for seconds.
func Inline(mediaType string) bool {
	return isText(baseType(mediaType))
}

// Text answers the text of the file at path, which holds content of the
// media type mimeType (as docplat stores it, charset included): valid
// UTF-8, runs of blanks collapsed to one space, at most limit bytes (the
// beginning of the document when it has more). A type it does not read
// (images, zip archives) answers "" and no error. Errors: ErrUnreadable,
// ErrLimit, ErrUnavailable (all with their cause), the context's error,
// or an error opening path.
func Text(ctx context.Context, path, mimeType string, limit int64) (string, error) {
	if limit <= 0 {
		return "", nil
	}
	base := baseType(mimeType)
	var (
		raw string
		err error
	)
	switch {
	case isText(base):
		raw, err = plainText(path, mimeType, limit)
	case base == "application/pdf":
		raw, err = pdfText(ctx, path, limit)
	case officeFormats[base] != "":
		raw, err = officeText(ctx, path, officeFormats[base], limit)
	default:
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return clean(raw, limit), nil
}

func baseType(mediaType string) string {
	if base, _, err := mime.ParseMediaType(mediaType); err == nil {
		return base
	}
	base, _, _ := strings.Cut(mediaType, ";")
	return strings.ToLower(strings.TrimSpace(base))
}

// isText: the types read as text in the caller.
func isText(base string) bool {
	return strings.HasPrefix(base, "text/") || base == "application/json"
}

var (
	blanks     = regexp.MustCompile(`[ \t\r\f\v]+`)
	emptyLines = regexp.MustCompile(`\n(?: ?\n)+`)
)

// clean makes raw text indexable: valid UTF-8 without NUL or byte-order
// mark, runs of blanks
// one space, runs of empty lines one (newlines stay: snippets keep their
// lines), cut to limit bytes at a character boundary.
func clean(s string, limit int64) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.TrimPrefix(s, "\uFEFF") // a byte-order mark is no text
	s = strings.ReplaceAll(s, "\x00", "")
	s = blanks.ReplaceAllString(s, " ")
	s = emptyLines.ReplaceAllString(s, "\n\n")
	if int64(len(s)) > limit {
		s = s[:limit]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// unreadable wraps a reader's verdict on the file.
func unreadable(format string, cause error) error {
	return fmt.Errorf("%s: %w: %w", format, cause, ErrUnreadable)
}

var errEnough = errors.New("enough text")
