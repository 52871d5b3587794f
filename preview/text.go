package preview

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Text decodes the first bytes of a text document to UTF-8 by the charset
// its media type names (UTF-8 when it names none or one unknown here; but
// GB18030 for text that is not UTF-8 and is GB18030, see isGB18030), and
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
	if enc == nil && !utf8.Valid(dropCutRune(src, cut)) && isGB18030(src, cut) {
		enc, charset = simplifiedchinese.GB18030, "gb18030"
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
		src = dropCutRune(src, true)
	}
	return strings.ToValidUTF8(string(src), "\uFFFD"), charset
}

// dropCutRune drops the invalid UTF-8 tail a cut leaves (cut: src is
// only the content's beginning).
func dropCutRune(src []byte, cut bool) []byte {
	for cut && len(src) > 0 {
		if r, size := utf8.DecodeLastRune(src); r != utf8.RuneError || size > 1 {
			break
		}
		src = src[:len(src)-1]
	}
	return src
}

// isGB18030 reports whether src decodes as GB18030 without a replacement
// character (beyond a character split by the cut). Uploads never name a
// charset (the stored type is sniffed, and the sniffer calls all text
// UTF-8), so a file saved by older Chinese software arrives as GBK
// labelled UTF-8; GB18030 is a superset of GBK. Text valid in neither
// stays UTF-8 with replacement characters.
func isGB18030(src []byte, cut bool) bool {
	b, err := simplifiedchinese.GB18030.NewDecoder().Bytes(src)
	if err != nil {
		return false
	}
	if cut {
		b = bytes.TrimSuffix(b, []byte("\uFFFD"))
	}
	return !bytes.ContainsRune(b, utf8.RuneError)
}
