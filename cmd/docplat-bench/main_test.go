package main

import (
	"context"
	"strings"
	"testing"
)

// The server's commands are not the tool's: each must be refused (before
// anything starts) rather than run as something else.
func TestRunRefusesWhatIsNotACommandOfTheTool(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"serve"},
		{"bench"},
		{"-quick"},
		{"suite", "extra"},
		{"loadgen", "extra"},
		{"jtl"},
	} {
		if err := run(context.Background(), args); err == nil {
			t.Errorf("docplat-bench %s: succeeded", strings.Join(args, " "))
		}
	}
}
