package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"docplat/loadgen/scenario"
)

// loadgenCmd runs `docplat-bench loadgen`: the scenario package does the work.
func loadgenCmd(ctx context.Context, args []string) error {
	var o scenario.Options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	o.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadgen: unexpected arguments %q", fs.Args())
	}
	p, err := o.Validate()
	if err != nil {
		return fmt.Errorf("invalid loadgen flags:\n%w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return scenario.Execute(ctx, p, os.Stdout, log)
}
