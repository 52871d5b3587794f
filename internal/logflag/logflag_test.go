package logflag

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestValidateAcceptsTheChoicesAndNamesTheFlagOtherwise: the four levels
// (any case) and the two formats pass; anything else is refused with the
// flag's name; the logger honours the level.
func TestValidateAcceptsTheChoicesAndNamesTheFlagOtherwise(t *testing.T) {
	for _, level := range []string{"debug", "info", "WARN", "error"} {
		for _, format := range []string{"json", "text"} {
			o := Options{Level: level, Format: format}
			if err := o.Validate(); err != nil {
				t.Fatalf("%+v: %v", o, err)
			}
		}
	}
	for _, tc := range []struct {
		o    Options
		flag string
	}{
		{Options{Level: "loud", Format: "json"}, "log-level"},
		{Options{Level: "info", Format: "xml"}, "log-format"},
	} {
		if err := tc.o.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.flag+" ") {
			t.Errorf("%+v: %v, want an error naming %s", tc.o, err, tc.flag)
		}
	}
	l := Options{Level: "warn", Format: "json"}.Logger()
	if l.Enabled(context.Background(), slog.LevelInfo) || !l.Enabled(context.Background(), slog.LevelWarn) {
		t.Fatal("a warn logger must drop info and keep warn")
	}
}
