package main

import (
	"context"
	"log/slog"

	"docplat/internal/envflag"
	"docplat/internal/logflag"
)

// processConfig is a package's configuration of a process of its own
// (`docplat stats`, `kafka`, `hotspot`, `nginx`): it declares its flags.
type processConfig[C any] interface {
	*C
	Bind(*envflag.Set)
}

// processFlags is a process command's flag set: logging and the package's
// configuration.
func processFlags[C any, P processConfig[C]](name string, env envSource) (*envflag.Set, *logflag.Options, P) {
	var lo logflag.Options
	c := P(new(C))
	b := newFlags(name, env)
	lo.Bind(b)
	c.Bind(b)
	return b, &lo, c
}

// flagsOf is processFlags for the configuration reference.
func flagsOf[C any, P processConfig[C]](name string) func(envSource) *envflag.Set {
	return func(env envSource) *envflag.Set { b, _, _ := processFlags[C, P](name, env); return b }
}

// runProcess is a process command: it parses and validates the flags and
// runs the package's process, logging as the service name.
func runProcess[C any, P processConfig[C]](name string, validate func(P, *envflag.Set) error, run func(context.Context, C, *slog.Logger) error) func(context.Context, []string, envSource) error {
	return func(ctx context.Context, args []string, env envSource) error {
		b, lo, c := processFlags[C, P](name, env)
		if err := b.Parse(args); err != nil {
			return err
		}
		if err := b.Check(lo.Validate(), validate(c, b)); err != nil {
			return err
		}
		return run(ctx, *c, lo.Logger().With("service", name))
	}
}
