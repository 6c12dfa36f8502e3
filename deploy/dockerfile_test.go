package deploy_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/internal/testenv"
)

// No Docker engine runs where the tests do, so the image is never built
// here; these tests read the Dockerfile the way its reviewers would.

type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, ...
	args string
}

type stage struct {
	from, name string
	ins        []instruction
}

// parseDockerfile joins continuation lines, drops comments (also inside
// continuations, as BuildKit does) and splits the result into stages.
func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	start := 0
	flush := func() {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{start, strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			s := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			return
		}
		if len(stages) == 0 {
			t.Fatalf("%s:%d: %s before the first FROM", path, in.line, in.cmd)
		}
		stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
	}
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cur.Len() == 0 {
			if trimmed == "" {
				continue
			}
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func (s stage) last(cmd string) (instruction, bool) {
	all := s.all(cmd)
	if len(all) == 0 {
		return instruction{}, false
	}
	return all[len(all)-1], true
}

func TestDockerfile(t *testing.T) {
	root := testenv.RepoRoot(t)
	stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(stages))
	}
	build, run := stages[0], stages[len(stages)-1]
	if !strings.HasPrefix(build.from, "golang:1.26") || build.name == "" {
		t.Errorf("build stage FROM %s AS %q; want golang:1.26-… AS <name>", build.from, build.name)
	}
	if run.from != "debian:bookworm-slim" {
		t.Errorf("runtime stage FROM %s; want debian:bookworm-slim", run.from)
	}

	t.Run("build", func(t *testing.T) {
		var goBuild string
		for _, in := range build.all("RUN") {
			if strings.Contains(in.args, "go build") {
				goBuild = in.args
			}
		}
		for _, want := range []string{
			"--mount=type=cache,target=/go/pkg/mod", "--mount=type=cache,target=/root/.cache/go-build",
			"CGO_ENABLED=0", "-trimpath", "./cmd/presession",
		} {
			if !strings.Contains(goBuild, want) {
				t.Errorf("the go build RUN lacks %s: %q", want, goBuild)
			}
		}
		// -ldflags="-s -w" plus the version stamps, each from a build
		// argument declared in the build stage (scripts/version.sh
		// --build-args gives them).
		ldflags := regexp.MustCompile(`-ldflags="([^"]*)"`).FindStringSubmatch(goBuild)
		if ldflags == nil {
			t.Fatalf("the go build RUN has no -ldflags=\"...\": %q", goBuild)
		}
		f := strings.Fields(ldflags[1])
		if len(f) < 2 || f[0] != "-s" || f[1] != "-w" {
			t.Errorf(`-ldflags=%q does not start with "-s -w"`, ldflags[1])
		}
		args := map[string]bool{}
		for _, in := range build.all("ARG") {
			name, _, _ := strings.Cut(in.args, "=")
			args[name] = true
		}
		for v, arg := range map[string]string{"version": "VERSION", "commit": "COMMIT", "built": "BUILT"} {
			stamp := "-X github.com/uprinfo/presession/internal/buildinfo." + v + "=${" + arg + "}"
			if !strings.Contains(strings.Join(f, " "), stamp) {
				t.Errorf("-ldflags=%q lacks %s", ldflags[1], stamp)
			}
			if !args[arg] {
				t.Errorf("the build stage declares no ARG %s", arg)
			}
		}
		copied := false
		for _, in := range run.all("COPY") {
			if strings.Contains(in.args, "--from="+build.name) && strings.Contains(in.args, "/presession") {
				copied = true
			}
		}
		if !copied {
			t.Errorf("the runtime stage does not COPY --from=%s the presession binary", build.name)
		}
	})

	t.Run("runtime", func(t *testing.T) {
		var apt string
		for _, in := range run.all("RUN") {
			if strings.Contains(in.args, "apt-get install") {
				apt = in.args
			}
		}
		for _, want := range []string{"--no-install-recommends", " ffmpeg", " ca-certificates", "rm -rf /var/lib/apt/lists"} {
			if !strings.Contains(apt, want) {
				t.Errorf("the apt-get RUN lacks %q: %q", want, apt)
			}
		}
		user, ok := run.last("USER")
		if !ok {
			t.Fatal("the runtime stage runs as root: no USER")
		}
		if u, _, _ := strings.Cut(user.args, ":"); u == "root" || u == "0" || u == "" {
			t.Errorf("USER %s is root", user.args)
		}
		hc, ok := run.last("HEALTHCHECK")
		switch {
		case !ok:
			t.Error("no HEALTHCHECK")
		case !strings.Contains(hc.args, "/healthz"):
			t.Errorf("HEALTHCHECK does not probe /healthz: %s", hc.args)
		default:
			// The probe's tool must be installed: slim has neither curl nor wget.
			_, cmd, _ := strings.Cut(hc.args, "CMD ")
			tool := strings.Fields(cmd)[0]
			if !strings.Contains(apt, " "+tool) {
				t.Errorf("HEALTHCHECK uses %s, which the apt-get RUN does not install", tool)
			}
		}
		if ep, ok := run.last("ENTRYPOINT"); !ok || !jsonArgs(ep.args, "presession") {
			t.Errorf(`ENTRYPOINT %q; want ["presession"]`, ep.args)
		}
		if c, ok := run.last("CMD"); !ok || !jsonArgs(c.args, "all") {
			t.Errorf(`CMD %q; want ["all"]`, c.args)
		}
		if e, ok := run.last("EXPOSE"); !ok || e.args != "8080" {
			t.Errorf("EXPOSE %q; want 8080", e.args)
		}
		if v, ok := run.last("VOLUME"); !ok || !jsonArgs(v.args, "/data") {
			t.Errorf(`VOLUME %q; want ["/data"]`, v.args)
		}
		env := map[string]string{}
		for _, in := range run.all("ENV") {
			for _, kv := range strings.Fields(in.args) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		}
		for k := range env {
			if !slices.Contains(config.Vars, k) {
				t.Errorf("ENV %s is not a variable the binary reads", k)
			}
		}
		if env["PRESESSION_DATA_DIR"] != "/data" {
			t.Errorf("ENV PRESESSION_DATA_DIR=%q; want /data", env["PRESESSION_DATA_DIR"])
		}
	})
}

func jsonArgs(s string, want ...string) bool {
	var got []string
	return json.Unmarshal([]byte(s), &got) == nil && slices.Equal(got, want)
}

// TestDockerignore: the context keeps out VCS, data and node_modules, and
// keeps every file the Go build needs (sources, embedded templates).
func TestDockerignore(t *testing.T) {
	root := testenv.RepoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	for _, p := range []string{".git", "data/", "node_modules", "e2e/node_modules"} {
		if !ignored(patterns, strings.TrimSuffix(p, "/")) {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}

	// Files inside a Go package's tree (sources, go:embed directories) and
	// go.mod/go.sum must reach the build.
	goDirs := map[string]bool{}
	var files []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "node_modules" || rel == "data" {
				return filepath.SkipDir
			}
			return nil
		}
		files = append(files, rel)
		if strings.HasSuffix(rel, ".go") {
			goDirs[filepath.ToSlash(filepath.Dir(rel))] = true
		}
		return nil
	})
	for _, f := range files {
		need := f == "go.mod" || f == "go.sum" || strings.HasSuffix(f, ".go")
		for d := filepath.ToSlash(filepath.Dir(f)); !need && d != "."; d = filepath.ToSlash(filepath.Dir(d)) {
			need = goDirs[d]
		}
		if need && ignored(patterns, f) {
			t.Errorf(".dockerignore excludes %s, which the build needs", f)
		}
	}
}

// ignored applies .dockerignore patterns to a slash path: a pattern that
// matches the path or one of its parent directories excludes it; later
// "!" patterns re-include; "**/" matches any number of directories.
func ignored(patterns []string, path string) bool {
	var prefixes []string
	parts := strings.Split(path, "/")
	for i := range parts {
		prefixes = append(prefixes, strings.Join(parts[:i+1], "/"))
	}
	out := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimSuffix(strings.TrimPrefix(p, "!"), "/")
		for _, pre := range prefixes {
			if matchPattern(p, pre) {
				out = !neg
				break
			}
		}
	}
	return out
}

func matchPattern(p, path string) bool {
	if rest, ok := strings.CutPrefix(p, "**/"); ok {
		segs := strings.Split(path, "/")
		for i := range segs {
			if m, _ := filepath.Match(rest, strings.Join(segs[i:], "/")); m {
				return true
			}
		}
		return false
	}
	m, _ := filepath.Match(p, path)
	return m
}
