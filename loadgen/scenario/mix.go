package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kinds of request in a mix; they are also the Request.Name of each, so the
// report breaks the figures down by them.
const (
	ReadMeta    = "read-meta"    // GET /api/v1/documents/{id}
	ReadContent = "read-content" // GET /api/v1/documents/{id}/content
	Search      = "search"       // GET /api/v1/documents?q=
	Upload      = "upload"       // POST /api/v1/documents (multipart)
	Update      = "update"       // PATCH /api/v1/documents/{id}
)

// Kinds lists every kind, in the order a Mix prints them.
var Kinds = []string{ReadMeta, ReadContent, Search, Upload, Update}

// Mix gives each kind a relative weight (they need not sum to 100).
type Mix map[string]float64

// DefaultMix is read-heavy, as a class reading the same handouts is.
const DefaultMix = "read-meta=45,read-content=35,search=10,upload=5,update=5"

// ParseMix reads "kind=weight,kind=weight"; kinds left out weigh 0.
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok {
			return nil, fmt.Errorf("mix: %q is not kind=weight", part)
		}
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("mix: unknown kind %q (want one of %s)", k, strings.Join(Kinds, ", "))
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("mix: %q given twice", k)
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || w < 0 || w != w || w > 1e9 {
			return nil, fmt.Errorf("mix: weight of %q must be a number >= 0, got %q", k, v)
		}
		m[k] = w
	}
	if m.total() <= 0 {
		return nil, fmt.Errorf("mix: %q gives no kind a weight above 0", s)
	}
	return m, nil
}

func (m Mix) total() float64 {
	var t float64
	for _, k := range Kinds {
		t += m[k]
	}
	return t
}

// Writes reports whether the mix needs a signed-in user (uploads, updates).
func (m Mix) Writes() bool { return m[Upload] > 0 || m[Update] > 0 }

// Reads reports whether the mix reads seeded documents by id.
func (m Mix) Reads() bool { return m[ReadMeta] > 0 || m[ReadContent] > 0 || m[Update] > 0 }

func (m Mix) String() string {
	var parts []string
	for _, k := range Kinds {
		if m[k] > 0 {
			parts = append(parts, k+"="+strconv.FormatFloat(m[k], 'g', -1, 64))
		}
	}
	return strings.Join(parts, ",")
}
