// Package buildinfo is the version the docplat commands report, so that the
// server and the benchmark tool name the same build.
package buildinfo

import "runtime/debug"

// version is set at build time with
// -ldflags "-X docplat/internal/buildinfo.version=...".
var version = "dev"

// Version is the build's version, followed by the VCS revision the go tool
// recorded when there is one.
func Version() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
