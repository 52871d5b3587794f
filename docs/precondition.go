package docs

import (
	"strconv"
	"strings"
)

// Precondition is a parsed If-Match header. Its zero value matches anything.
type Precondition struct {
	set      bool
	revision int    // "r<revision>": the metadata ETag
	sha256   string // "<sha256>": the content ETag
	version  int    // 3 or "3": a content version
}

// pendingTag marks the metadata ETag of a document whose text is still
// pending: the text settling bumps no revision (see Fence), but it does
// change the document's JSON, so a client revalidating it (If-None-Match)
// must not be told it is unchanged. As an If-Match it is its revision.
const pendingTag = "-pending"

// MetaETag is the document's metadata ETag: "r<revision>", with
// "-pending" while its text is being extracted.
func MetaETag(d Document) string {
	tag := "r" + strconv.Itoa(d.Revision)
	if d.TextState == TextPending {
		tag += pendingTag
	}
	return `"` + tag + `"`
}

// ETagRevision is the revision a quoted metadata ETag names (MetaETag,
// "-pending" included), or 0 for anything else.
func ETagRevision(tag string) int {
	v := strings.TrimSpace(tag)
	if len(v) < 4 || !strings.HasPrefix(v, `"r`) || !strings.HasSuffix(v, `"`) {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v[2:len(v)-1], pendingTag))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// ParseIfMatch accepts `*`, `"r<revision>"` (MetaETag, "-pending"
// included), `"<sha256>"` and a content version number, quoted or not.
// An empty header sets no precondition.
func ParseIfMatch(h string) (Precondition, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return Precondition{}, nil
	}
	if strings.HasPrefix(h, "W/") {
		// If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches.
		return Precondition{set: true}, nil
	}
	v := strings.Trim(h, `"`)
	switch {
	case len(v) == 64 && isHex(v):
		return Precondition{set: true, sha256: v}, nil
	case strings.HasPrefix(v, "r"):
		if n, err := strconv.Atoi(strings.TrimSuffix(v[1:], pendingTag)); err == nil && n > 0 {
			return Precondition{set: true, revision: n}, nil
		}
	default:
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return Precondition{set: true, version: n}, nil
		}
	}
	return Precondition{}, invalid(`If-Match must be *, "r<revision>", the content ETag, or a version number`)
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (p Precondition) check(d Document) error {
	switch {
	case !p.set:
		return nil
	case p.revision > 0 && p.revision == d.Revision,
		p.sha256 != "" && p.sha256 == d.SHA256,
		p.version > 0 && p.version == d.Version:
		return nil
	}
	return ErrPrecondition
}
