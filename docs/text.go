package docs

import (
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	htmlScriptStyle = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`)
	htmlTag         = regexp.MustCompile(`(?s)<[^>]*>`)
	spaces          = regexp.MustCompile(`[ \t\r\f\v]+`)
)

// extractText returns up to limit bytes of searchable text from r, valid UTF-8.
func extractText(r io.Reader, mime string, limit int64) (string, error) {
	if !isText(mime) {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return "", err
	}
	s := strings.ToValidUTF8(string(b), "")
	// A cut at the limit may end inside a rune; ToValidUTF8 dropped it.
	if strings.HasPrefix(mime, "text/html") {
		s = htmlScriptStyle.ReplaceAllString(s, " ")
		s = htmlTag.ReplaceAllString(s, " ")
		s = unescapeEntities.Replace(s)
	}
	s = spaces.ReplaceAllString(strings.ReplaceAll(s, "\x00", ""), " ")
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s, nil
}

var unescapeEntities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&nbsp;", " ")
