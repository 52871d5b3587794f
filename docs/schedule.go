package docs

import (
	"encoding/json"
	"time"
)

// A document's schedule: PublishAt hides it from all but its managers
// until then (PermissionOf, ReadScope), LectureAt is when it is handed out
// (the hot tier is pre-warmed for the later of the two, hotspot.Prewarmer).

// maxScheduleAhead bounds how far ahead a time may be set: a typo's year
// 20260 would hide a document for ever.
const maxScheduleAhead = 5 * 365 * 24 * time.Hour

// TimeField is a time in a PATCH: Set when the field was present; Value
// is its RFC 3339 text, "" when the field was null (clear the time).
type TimeField struct {
	Set   bool
	Value string
}

// UnmarshalJSON accepts null or a string; the string is checked by Update.
func (f *TimeField) UnmarshalJSON(b []byte) error {
	f.Set = true
	if string(b) == "null" {
		f.Value = ""
		return nil
	}
	return json.Unmarshal(b, &f.Value)
}

// ParseScheduleTime reads a schedule time (RFC 3339; "" is none) for the
// field name, as whole seconds in UTC: the search index and the nginx hot
// tier compare in seconds, and truncating here makes every form agree on
// the second a document appears. A time in the past is accepted (it
// publishes at once); one more than five years ahead is refused.
func ParseScheduleTime(name, s string, now time.Time) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, invalid("%s must be an RFC 3339 time such as 2026-12-08T08:00:00Z (got %q)", name, s)
	}
	t = t.UTC().Truncate(time.Second)
	if t.After(now.Add(maxScheduleAhead)) {
		return nil, invalid("%s must be within five years from now", name)
	}
	return &t, nil
}

// WarmAt is when d is handed out: the later of LectureAt and PublishAt
// (a lecture before publication is read at publication), zero for neither.
func (d Document) WarmAt() time.Time {
	var t time.Time
	for _, p := range []*time.Time{d.LectureAt, d.PublishAt} {
		if p != nil && p.After(t) {
			t = *p
		}
	}
	return t
}
