package server

import (
	"testing"
)

func TestNoneMatch(t *testing.T) {
	etag := `"pv1-abc-1-240"`
	for header, want := range map[string]bool{
		etag: true, `W/` + etag: true, `"x", ` + etag: true, "*": true,
		"": false, `"pv1-abc-1-480"`: false, `pv1-abc-1-240`: false,
	} {
		if got := noneMatch(header, etag); got != want {
			t.Errorf("noneMatch(%q) = %v, want %v", header, got, want)
		}
	}
}
