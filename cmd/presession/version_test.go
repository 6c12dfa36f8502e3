package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/buildinfo"
	"github.com/uprinfo/presession/internal/testenv"
)

// versionFields parses `presession version` (and scripts/version.sh):
// one "key value" a line.
func versionFields(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(l, " ")
		if !ok {
			t.Fatalf("line %q is not \"key value\" in:\n%s", l, out)
		}
		m[k] = strings.TrimSpace(v)
	}
	return m
}

// TestVersionCommand: `presession version` prints the build's version,
// commit, date and Go toolchain, needs no configuration, takes no
// arguments, and is listed in the usage.
func TestVersionCommand(t *testing.T) {
	// A configuration that every other command refuses.
	bad := map[string]string{"REDIS_URL": "http://x"}
	code, out, errs := runCLI(t, bad, "version")
	if code != 0 || errs != "" {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
	got := versionFields(t, out)
	b := buildinfo.Read()
	want := map[string]string{"version": b.Version, "commit": b.Commit, "built": b.Built,
		"go": b.Go + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if len(got) != len(want) {
		t.Errorf("fields %v; want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q; want %q\n%s", k, got[k], v, out)
		}
	}
	if code, _, errs := runCLI(t, nil, "version", "--json"); code != exitConfig || !strings.Contains(errs, "version takes no arguments") {
		t.Errorf("version --json: code %d, stderr %q", code, errs)
	}
	if _, out, _ := runCLI(t, nil, "help"); !strings.Contains(out, "presession version") {
		t.Errorf("usage does not list version:\n%s", out)
	}
}

// TestVersionStamped builds the binary with the linker flags
// scripts/version.sh gives scripts/run.sh (the Dockerfile stamps the same
// variables) and checks that `presession version` prints what the script
// computed: a misspelt -X target would be ignored by the linker silently.
func TestVersionStamped(t *testing.T) {
	root := testenv.RepoRoot(t)
	env := append(os.Environ(), "SOURCE_DATE_EPOCH=1764547200") // 2025-12-01T00:00:00Z
	script := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(root, "scripts", "version.sh"), args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("scripts/version.sh %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	want := versionFields(t, script())
	if want["built"] != "2025-12-01T00:00:00Z" {
		t.Errorf("SOURCE_DATE_EPOCH not honoured: built %q", want["built"])
	}
	if !regexp.MustCompile(`^([0-9a-f]{40}|unknown)$`).MatchString(want["commit"]) {
		t.Errorf("commit %q is neither a full hash nor unknown", want["commit"])
	}

	bin := filepath.Join(t.TempDir(), "presession")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-ldflags", script("--ldflags"), "-o", bin, "./cmd/presession")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("presession version: %v", err)
	}
	got := versionFields(t, string(out))
	for _, k := range []string{"version", "commit", "built"} {
		if got[k] != want[k] {
			t.Errorf("%s = %q; scripts/version.sh says %q", k, got[k], want[k])
		}
	}
}
