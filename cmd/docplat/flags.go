package main

import (
	"os"

	"docplat/internal/envflag"
)

// envSource reads DOCPLAT_* variables; tests pass their own map.
type envSource func(string) (string, bool)

// osEnv reads the process environment: the only place docplat does.
func osEnv(name string) (string, bool) { return os.LookupEnv(name) }

// newFlags is a command's flag set, each flag with its DOCPLAT_* variable.
func newFlags(name string, env envSource) *envflag.Set { return envflag.New(name, "DOCPLAT_", env) }
