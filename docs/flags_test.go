package docs

import (
	"strings"
	"testing"
	"time"
)

// TestRunOptionsValidateNamesEachFieldOutOfBounds: the defaults pass, and
// each field out of its bounds is reported by its name (which the command
// restates as its flag).
func TestRunOptionsValidateNamesEachFieldOutOfBounds(t *testing.T) {
	ok := RunOptions{GCInterval: 10 * time.Minute, CountsFlush: time.Second, SearchCacheTTL: 5 * time.Second, LockTimeout: 5 * time.Second, TextSweepAfter: 5 * time.Minute}
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		field string
		set   func(*RunOptions)
	}{
		{"GCInterval", func(o *RunOptions) { o.GCInterval = time.Millisecond }},
		{"CountsFlush", func(o *RunOptions) { o.CountsFlush = 2 * time.Minute }},
		{"CountsFlush", func(o *RunOptions) { o.CountsFlush = time.Millisecond }},
		{"SearchCacheTTL", func(o *RunOptions) { o.SearchCacheTTL = -time.Second }},
		{"SearchCacheTTL", func(o *RunOptions) { o.SearchCacheTTL = 2 * time.Hour }},
		{"LockTimeout", func(o *RunOptions) { o.LockTimeout = time.Millisecond }},
		{"TextSweepAfter", func(o *RunOptions) { o.TextSweepAfter = time.Second }},
	} {
		o := ok
		tc.set(&o)
		err := o.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.field+" ") {
			t.Errorf("%+v: %v, want an error about %s", o, err, tc.field)
		}
	}
}
