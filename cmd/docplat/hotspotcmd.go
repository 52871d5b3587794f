package main

import (
	"context"

	"docplat/hotspot"
	"docplat/internal/envflag"
	"docplat/internal/logflag"
)

// hotspotFlags is the hotspot command's flag set: logging and the detector
// process.
func hotspotFlags(env envSource) (*envflag.Set, *logflag.Options, *hotspot.ProcessConfig) {
	var lo logflag.Options
	var c hotspot.ProcessConfig
	b := newFlags("hotspot", env)
	lo.Bind(b)
	c.Bind(b)
	return b, &lo, &c
}

// hotspotCmd runs `docplat hotspot`: one hot-document detector, a member of
// the detector consumer group on the access topic.
func hotspotCmd(ctx context.Context, args []string, env envSource) error {
	b, lo, cfg := hotspotFlags(env)
	if err := b.Parse(args); err != nil {
		return err
	}
	if err := b.Check(lo.Validate(), cfg.Validate(b)); err != nil {
		return err
	}
	return hotspot.RunProcess(ctx, *cfg, lo.Logger().With("service", "hotspot"))
}
