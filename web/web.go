// Package web serves docplat's browser UI: static files embedded in the binary. It knows the HTTP API only as a client does.
//
// The UI is one page (index.html at "/") plus its assets under "/assets/".
// Every file is read from the embedded tree once, when the handler is built,
// and served from memory by exact path: no request path ever reaches a file
// system, so "..", encoded slashes and directory listings cannot escape it.
// Unknown paths answer 404.
//
// Caching: index.html is served with Cache-Control: no-cache; it names its
// assets with a ?v=<content hash> query, so the assets themselves can carry
// a year-long max-age and still change the moment the binary does. The UI's
// ES modules import each other with the same ?v= (the placeholder in their
// import URLs is replaced here), so a module reached only through an import
// is as cache-safe as the ones index.html names.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed static
var static embed.FS

const (
	indexCacheControl = "no-cache"
	assetCacheControl = "public, max-age=31536000, immutable"

	// versionPlaceholder in index.html is replaced by a hash of all assets.
	versionPlaceholder = "__ASSET_VERSION__"

	// indexCSP confines the page to its own origin: scripts and styles only
	// from the embedded assets, API calls and previews only to the server.
	indexCSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

// contentTypes pins the types of the files the UI ships, so they do not
// depend on the host's mime.types (which may call .js application/x-javascript).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
}

// file is one response body with the headers that never change.
type file struct {
	body         []byte
	contentType  string
	etag         string
	cacheControl string
	page         bool // the HTML page, which gets the document security headers
}

type handler struct {
	files map[string]*file // by URL path: "/", "/index.html", "/assets/app.js"
}

// Handler serves the UI's static files (index.html at "/", assets under "/assets/...").
// Unknown paths under the UI answer 404. Sets Cache-Control: no-cache on index.html and a long max-age on /assets/.
func Handler() http.Handler { return loaded() }

// loaded builds the handler once; the embedded tree is fixed at compile time,
// so a failure here is a broken build, not a runtime condition.
var loaded = sync.OnceValue(func() *handler {
	h, err := load(static)
	if err != nil {
		panic("web: embedded UI is incomplete: " + err.Error())
	}
	return h
})

func load(fsys fs.FS) (*handler, error) {
	h := &handler{files: make(map[string]*file)}

	var names []string
	err := fs.WalkDir(fsys, "static/assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)

	version := sha256.New()
	bodies := make([][]byte, len(names))
	for i, p := range names {
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		bodies[i] = body
		sum := sha256.Sum256(body)
		fmt.Fprintf(version, "%s %x\n", p, sum)
	}
	v := hex.EncodeToString(version.Sum(nil))[:12]
	for i, p := range names {
		body := bodies[i]
		if path.Ext(p) == ".js" {
			// Module imports name their siblings with ?v=<version> too.
			body = bytes.ReplaceAll(body, []byte(versionPlaceholder), []byte(v))
		}
		h.files["/"+strings.TrimPrefix(p, "static/")] = newFile(body, p, assetCacheControl)
	}

	index, err := fs.ReadFile(fsys, "static/index.html")
	if err != nil {
		return nil, err
	}
	index = bytes.ReplaceAll(index, []byte(versionPlaceholder), []byte(v))
	f := newFile(index, "index.html", indexCacheControl)
	f.page = true
	h.files["/"] = f
	h.files["/index.html"] = f
	return h, nil
}

func newFile(body []byte, name, cacheControl string) *file {
	sum := sha256.Sum256(body)
	return &file{
		body:         body,
		contentType:  typeOf(name),
		etag:         `"` + hex.EncodeToString(sum[:16]) + `"`,
		cacheControl: cacheControl,
	}
}

func typeOf(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := h.files[r.URL.Path]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("Cache-Control", f.cacheControl)
	hdr.Set("ETag", f.etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if f.page {
		hdr.Set("Content-Security-Policy", indexCSP)
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("X-Frame-Options", "DENY")
	}
	// ServeContent answers If-None-Match (304), HEAD and Range from the ETag
	// set above; the zero time means no Last-Modified.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
