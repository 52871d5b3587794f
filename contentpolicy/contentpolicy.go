// Package contentpolicy decides how a document's content response is
// headed: its entity tag, media type (with its charset), disposition,
// modification time, caching and security headers. It is the one place
// that decides them: the app's content handler sets them before
// http.ServeContent answers, and the hot-document source hands them to the
// nginx hot tier, which replays them verbatim. What depends on the request
// beyond view-or-download (conditional requests, ranges) is net/http's, and
// the hot tier's mirror of it; this package never sees a request. It
// imports no other docplat package.
package contentpolicy

import (
	"mime"
	"net/http"
	"time"
)

// Content is what a content response's headers are decided from.
type Content struct {
	SHA256   string    // the bytes' hash: the entity tag
	Mime     string    // the media type as stored at upload, charset included
	Filename string    // the name the bytes were uploaded as
	Public   bool      // readable by anyone, so shared caches may keep it
	Modified time.Time // when these bytes became the version; zero: no Last-Modified
}

// ETag is the content's entity tag, quoted.
func (c Content) ETag() string { return `"` + c.SHA256 + `"` }

// SetHeader sets on h every header of the content's full (200) answer to
// a view (inline) or a download (attachment, ?download=1) but
// Last-Modified, which http.ServeContent writes from Modified (it needs
// Modified anyway, for If-Modified-Since). It writes into h rather than
// returning a Header so that the request path allocates nothing twice.
func (c Content) SetHeader(h http.Header, download bool) {
	disposition := "inline"
	if download {
		disposition = "attachment"
	}
	h.Set("ETag", c.ETag())
	h.Set("Content-Type", c.Mime)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": c.Filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	// Uploaded HTML must not run with the platform's origin.
	h.Set("Content-Security-Policy", "sandbox")
	// Revalidate every time: the ETag makes that a 304 when nothing changed,
	// and a changed visibility or version is seen at once.
	if c.Public {
		h.Set("Cache-Control", "public, no-cache")
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
}

// Header is every header of the content's full answer, Last-Modified
// included as http.ServeContent writes it (none for a zero or Unix-epoch
// time): what the hot tier replays.
func (c Content) Header(download bool) http.Header {
	h := make(http.Header, 7)
	c.SetHeader(h, download)
	if !c.Modified.IsZero() && !c.Modified.Equal(time.Unix(0, 0)) {
		h.Set("Last-Modified", c.Modified.UTC().Format(http.TimeFormat))
	}
	return h
}

// Derived is a file made from a content (a preview's page image): named
// by the content's hash and its own name, so its bytes never change.
type Derived struct {
	SHA256 string // the content's hash
	Name   string // the derived file's name (page-1-960.png)
	Mime   string
	// Immutable: the URL names one version, so the answer may be kept
	// without revalidation; otherwise (a document's latest version) it is
	// revalidated, a 304 while the version stays.
	Immutable bool
}

// ETag is the derived file's entity tag, quoted.
func (d Derived) ETag() string { return `"d-` + d.SHA256 + "-" + d.Name + `"` }

// SetHeader sets on h every header of the derived file's full (200)
// answer; conditional requests and ranges are net/http's, as for content.
// Always private: reading it needed the content's permission.
func (d Derived) SetHeader(h http.Header) {
	h.Set("ETag", d.ETag())
	h.Set("Content-Type", d.Mime)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	if d.Immutable {
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
}
