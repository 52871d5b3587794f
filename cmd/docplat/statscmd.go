package main

import (
	"context"

	"docplat/internal/envflag"
	"docplat/internal/logflag"
	"docplat/stats"
)

// statsFlags is the stats command's flag set: logging and the stats process.
func statsFlags(env envSource) (*envflag.Set, *logflag.Options, *stats.ProcessConfig) {
	var lo logflag.Options
	var c stats.ProcessConfig
	b := newFlags("stats", env)
	lo.Bind(b)
	c.Bind(b)
	return b, &lo, &c
}

// statsCmd runs `docplat stats`.
func statsCmd(ctx context.Context, args []string, env envSource) error {
	b, lo, cfg := statsFlags(env)
	if err := b.Parse(args); err != nil {
		return err
	}
	if err := b.Check(lo.Validate(), cfg.Validate(b)); err != nil {
		return err
	}
	return stats.RunProcess(ctx, *cfg, lo.Logger().With("service", "stats"))
}
