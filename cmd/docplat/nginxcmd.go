package main

import (
	"context"

	"docplat/internal/envflag"
	"docplat/internal/logflag"
	"docplat/nginx"
)

// nginxFlags is the nginx command's flag set: logging and the hot tier.
func nginxFlags(env envSource) (*envflag.Set, *logflag.Options, *nginx.ProcessConfig) {
	var lo logflag.Options
	var c nginx.ProcessConfig
	b := newFlags("nginx", env)
	lo.Bind(b)
	c.Bind(b)
	return b, &lo, &c
}

// nginxCmd runs `docplat nginx`: the hot tier's nginx in the foreground,
// on a prefix of its own, until interrupted.
func nginxCmd(ctx context.Context, args []string, env envSource) error {
	b, lo, cfg := nginxFlags(env)
	if err := b.Parse(args); err != nil {
		return err
	}
	if err := b.Check(lo.Validate(), cfg.Validate()); err != nil {
		return err
	}
	return nginx.RunProcess(ctx, *cfg, lo.Logger().With("service", "nginx"))
}
