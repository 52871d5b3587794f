package docs

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxTitleRunes       = 200
	maxDescriptionRunes = 10000
	maxTags             = 20
	maxTagRunes         = 64
	maxFilenameBytes    = 255
)

// hidden reports characters that change how text around them reads
// without showing themselves: controls, and Unicode's format (Cf: the bidi
// overrides and isolates U+202A-E and U+2066-9, marks U+200E/F and U+061C,
// zero-width characters) and line and paragraph separators (Zl, Zp). In a
// file name "evil\u202etxt.exe" displays as "evilexe.txt".
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// checkFilename rejects names that look like paths or carry control or
// format characters; browsers send a plain base name.
func checkFilename(name string) error {
	switch {
	case name == "":
		return invalid("the file part has no file name")
	case len(name) > maxFilenameBytes:
		return invalid("file name is longer than %d bytes", maxFilenameBytes)
	case !utf8.ValidString(name):
		return invalid("file name is not valid UTF-8")
	case strings.ContainsAny(name, `/\`) || strings.Contains(name, ".."):
		return invalid("file name must not contain path separators or '..'")
	case strings.IndexFunc(name, hidden) >= 0:
		return invalid("file name must not contain control, format (bidi) or separator characters")
	}
	return nil
}

func checkTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if t == "" {
		return "", invalid("title must not be empty")
	}
	if !utf8.ValidString(t) || utf8.RuneCountInString(t) > maxTitleRunes || strings.IndexFunc(t, hidden) >= 0 {
		return "", invalid("title must be valid text of at most %d characters, without control, format (bidi) or separator characters", maxTitleRunes)
	}
	return t, nil
}

func checkDescription(d string) (string, error) {
	if !utf8.ValidString(d) || utf8.RuneCountInString(d) > maxDescriptionRunes {
		return "", invalid("description must be valid text of at most %d characters", maxDescriptionRunes)
	}
	return d, nil
}

// normalizeTags trims, drops empties and duplicates, and checks limits.
func normalizeTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		if !utf8.ValidString(t) || utf8.RuneCountInString(t) > maxTagRunes || strings.ContainsAny(t, ",") || strings.IndexFunc(t, unicode.IsControl) >= 0 {
			return nil, invalid("a tag must be valid text of at most %d characters without commas or control characters", maxTagRunes)
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, invalid("at most %d tags", maxTags)
	}
	return out, nil
}

// SplitTags turns the contract's comma list into tags.
func SplitTags(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func checkVisibility(v Visibility) error {
	if !v.Valid() {
		return invalid("visibility must be one of private, department, public")
	}
	return nil
}
