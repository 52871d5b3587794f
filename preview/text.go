package preview

import (
	"mime"
	"unicode/utf8"

	"docplat/charset"
)

// Text decodes the first bytes of a text document to UTF-8 by the charset
// its media type names, and reports the charset it used. A type naming
// none, or UTF-8, for bytes that are not UTF-8 (content stored before
// uploads were labelled by their charset) is decoded as package charset
// detects. cut says src is only the beginning of the content: a character
// split by the cut is dropped rather than shown broken.
func Text(src []byte, mediaType string, cut bool) (text, cs string) {
	cs = charset.UTF8
	if _, params, err := mime.ParseMediaType(mediaType); err == nil && params["charset"] != "" {
		_, cs = charset.Encoding(params["charset"])
	}
	if cs == charset.UTF8 && !utf8.Valid(src) {
		cs = charset.Detect(src, cut)
	}
	return charset.Decode(src, cs, cut), cs
}
