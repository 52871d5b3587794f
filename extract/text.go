package extract

import (
	"fmt"
	"io"
	"mime"
	"os"
	"regexp"
	"strings"

	"docplat/charset"
)

var (
	htmlScriptStyle  = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`)
	htmlTag          = regexp.MustCompile(`(?s)<[^>]*>`)
	unescapeEntities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&nbsp;", " ")
)

// plainText reads the first limit bytes of a text file and decodes them to
// UTF-8 by the charset the media type names, or the one package charset
// detects when it names none or names UTF-8 for bytes that are not; HTML
// loses its markup. Reading at most limit bytes bounds the work, so this
// runs in the caller.
func plainText(path, mediaType string, limit int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("extract: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", fmt.Errorf("extract: %w", err)
	}
	cut := int64(len(b)) > limit
	if cut {
		b = b[:limit]
	}
	cs := charset.UTF8
	_, params, _ := mime.ParseMediaType(mediaType)
	if params["charset"] != "" {
		_, cs = charset.Encoding(params["charset"])
	}
	if cs == charset.UTF8 {
		cs = charset.Detect(b, cut)
	}
	var s string
	if cs == charset.UTF8 {
		// Invalid bytes are dropped, not replaced: U+FFFD is no word to find.
		s = strings.ToValidUTF8(string(b), "")
	} else {
		s = charset.Decode(b, cs, cut)
	}
	if baseType(mediaType) == "text/html" {
		s = htmlScriptStyle.ReplaceAllString(s, " ")
		s = htmlTag.ReplaceAllString(s, " ")
		s = unescapeEntities.Replace(s)
	}
	return s, nil
}
