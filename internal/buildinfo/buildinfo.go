// Package buildinfo says which build of presession is running: the
// version, commit and build date stamped at link time, or, for a plain
// `go build` or `go install`, what the Go toolchain recorded.
//
// scripts/version.sh computes the stamps; scripts/run.sh and the
// Dockerfile pass them to the linker:
//
//	-X github.com/uprinfo/presession/internal/buildinfo.version=v0.1.0
//	-X github.com/uprinfo/presession/internal/buildinfo.commit=<full hash>
//	-X github.com/uprinfo/presession/internal/buildinfo.built=2026-12-01T21:38:00Z
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// The link-time stamps. The linker writes them; nothing else does.
var version, commit, built string

// Unknown stands for a value that was neither stamped nor recorded.
const Unknown = "unknown"

// Devel is the version of a build with no stamp and no module version.
const Devel = "devel"

// Info is what `presession version`, the first log line and /healthz say.
type Info struct {
	Version string // a release tag, `git describe` output, or the module version
	Commit  string // the VCS revision
	Built   string // build time, RFC 3339 UTC
	Go      string // the Go toolchain, e.g. go1.26.8
}

// Read returns the running binary's build information.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, commit, built, bi)
}

// resolve prefers the link-time stamps and falls back to the module
// version and the VCS settings the toolchain recorded (bi may be nil).
func resolve(version, commit, built string, bi *debug.BuildInfo) Info {
	in := Info{Version: version, Commit: commit, Built: built, Go: runtime.Version()}
	if bi != nil {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && in.Commit == "" {
				in.Commit = s.Value
			}
		}
		if bi.GoVersion != "" {
			in.Go = bi.GoVersion
		}
	}
	if in.Version == "" {
		in.Version = Devel
	}
	if in.Commit == "" {
		in.Commit = Unknown
	}
	if in.Built == "" {
		in.Built = Unknown
	}
	return in
}
