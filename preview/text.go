package preview

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
)

// Text decodes the first bytes of a text document to UTF-8 by the charset
// its media type names (UTF-8 when it names none or one unknown here), and
// reports the charset it used. cut says src is only the beginning of the
// content: a character split by the cut is dropped rather than shown
// broken.
func Text(src []byte, mediaType string, cut bool) (text, charset string) {
	charset = "utf-8"
	var enc encoding.Encoding
	if _, params, err := mime.ParseMediaType(mediaType); err == nil && params["charset"] != "" {
		if e, err := htmlindex.Get(params["charset"]); err == nil {
			if name, err := htmlindex.Name(e); err == nil && name != "utf-8" {
				enc, charset = e, name
			}
		}
	}
	if enc != nil {
		if b, err := enc.NewDecoder().Bytes(src); err == nil {
			src = b
		}
	}
	if cut {
		// A multi-byte character cut at the end decodes as one U+FFFD
		// (legacy encodings) or stays an invalid tail (UTF-8).
		if enc != nil {
			src = bytes.TrimSuffix(src, []byte("\uFFFD"))
		}
		for len(src) > 0 {
			if r, size := utf8.DecodeLastRune(src); r != utf8.RuneError || size > 1 {
				break
			}
			src = src[:len(src)-1]
		}
	}
	return strings.ToValidUTF8(string(src), "\uFFFD"), charset
}
