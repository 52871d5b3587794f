package docs

import (
	"mime"
	"net/http"
	"path"
	"strings"
)

// zipBased maps extensions of zip containers we accept to their types;
// sniffing alone only says "application/zip".
var zipBased = map[string]string{
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text",
	".ods":  "application/vnd.oasis.opendocument.spreadsheet",
	".odp":  "application/vnd.oasis.opendocument.presentation",
	".zip":  "application/zip",
}

// textRefined maps extensions of text files to a more precise type than the
// sniffer's "text/plain".
var textRefined = map[string]string{
	".md":       "text/markdown; charset=utf-8",
	".markdown": "text/markdown; charset=utf-8",
	".csv":      "text/csv; charset=utf-8",
	".json":     "application/json",
}

var allowedSniffed = map[string]bool{
	"text/plain": true, "text/html": true, "application/pdf": true,
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
}

// detectType decides the stored type of content from its first bytes and,
// for containers and text, its file name. Types off the allow-list answer
// ErrUnsupportedType: executables and unknown binaries are never stored.
func detectType(head []byte, filename string) (string, error) {
	sniffed := http.DetectContentType(head)
	base, _, _ := strings.Cut(sniffed, ";")
	if base == "application/vnd.ms-fontobject" && !hasBinaryBytes(head) {
		// The sniffer's only test for this font is "LP" at bytes 34-35,
		// which ordinary text has too (11 of the 2,291 pages of the shared
		// corpus); a real font's header there is binary.
		sniffed, base = "text/plain; charset=utf-8", "text/plain"
	}
	ext := strings.ToLower(path.Ext(filename))
	switch {
	case base == "application/zip":
		if t, ok := zipBased[ext]; ok {
			return t, nil
		}
	case base == "text/plain":
		if t, ok := textRefined[ext]; ok {
			return t, nil
		}
		return sniffed, nil
	case base == "text/html":
		return "text/html; charset=utf-8", nil
	case allowedSniffed[base]:
		return base, nil
	}
	return "", ErrUnsupportedType
}

// hasBinaryBytes reports whether b holds a byte that never occurs in text:
// the sniffing standard's "binary data byte" set, as net/http uses it.
func hasBinaryBytes(b []byte) bool {
	for _, c := range b {
		if c <= 0x08 || c == 0x0B || (0x0E <= c && c <= 0x1A) || (0x1C <= c && c <= 0x1F) {
			return true
		}
	}
	return false
}

// withCharset sets the charset parameter of a text type to cs (utf-8,
// gb18030, big5: package charset's verdict on the content), so that the
// stored type, and with it the Content-Type the content is served with,
// tells the truth.
func withCharset(mediaType, cs string) string {
	base, params, err := mime.ParseMediaType(mediaType)
	if err != nil || !strings.HasPrefix(base, "text/") {
		return mediaType
	}
	params["charset"] = cs
	return mime.FormatMediaType(base, params)
}

// isText reports whether a type's content is indexed as text.
func isText(mime string) bool {
	return strings.HasPrefix(mime, "text/") || strings.HasPrefix(mime, "application/json")
}
