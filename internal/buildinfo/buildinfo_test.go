package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestVersionResolve(t *testing.T) {
	vcs := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/uprinfo/presession", Version: "v0.0.0-20261201213800-72da41c1d2f3+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "72da41c1d2f3aa00bb11cc22dd33ee44ff556677"},
			{Key: "vcs.time", Value: "2026-12-01T21:38:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tc := range []struct {
		name                   string
		version, commit, built string
		bi                     *debug.BuildInfo
		want                   Info
	}{
		{"stamped wins over vcs", "v0.1.0", "abc123", "2026-12-02T10:00:00Z", vcs,
			Info{"v0.1.0", "abc123", "2026-12-02T10:00:00Z", "go1.26.8"}},
		{"vcs settings when not stamped", "", "", "", vcs,
			Info{"v0.0.0-20261201213800-72da41c1d2f3+dirty", "72da41c1d2f3aa00bb11cc22dd33ee44ff556677", Unknown, "go1.26.8"}},
		{"a partial stamp keeps the rest from vcs", "v0.1.0", "", "", vcs,
			Info{"v0.1.0", "72da41c1d2f3aa00bb11cc22dd33ee44ff556677", Unknown, "go1.26.8"}},
		{"no vcs (-buildvcs=false)", "", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			Info{Devel, Unknown, Unknown, "go1.26.8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolve(tc.version, tc.commit, tc.built, tc.bi); got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if got := resolve("", "", "", nil); got.Version != Devel || got.Commit != Unknown || got.Built != Unknown || got.Go == "" {
		t.Errorf("no build info: %+v", got)
	}
}
