package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/internal/testenv"
	"go.yaml.in/yaml/v3"
)

// requiredSecrets must be set in .env: they are the same in every container
// (tokens signed by one are checked by another) or guard the storage. They
// stay empty in .env.example so nobody runs on a published value.
var requiredSecrets = []string{"PRESESSION_SECRET", "PRESESSION_STAFF_TOKEN", "S3_SECRET_KEY", "MINIO_ROOT_PASSWORD"}

// notFromConfig are variables api/worker get that config.Vars does not
// list, each with the reason it is there; the test checks cmd/presession
// reads them.
var notFromConfig = map[string]string{
	"PRESESSION_LOG_LEVEL": "read by cmd/presession's main for the slog level, not by config.Load",
}

// deliberatelyUnset are config.Vars the compose file leaves to the
// binary's default, with the reason. Empty: compose sets every one.
var deliberatelyUnset = map[string]string{}

// The rendered `docker-compose config` output, the parts we check.
type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image           string                                `yaml:"image"`
	Build           any                                   `yaml:"build"`
	Command         []string                              `yaml:"command"`
	Environment     map[string]string                     `yaml:"environment"`
	DependsOn       map[string]struct{ Condition string } `yaml:"depends_on"`
	Healthcheck     *struct{ Test []string }              `yaml:"healthcheck"`
	Deploy          *struct{ Replicas *int }              `yaml:"deploy"`
	Volumes         []string                              `yaml:"volumes"`
	Ports           []struct{ Target int }                `yaml:"ports"`
	Restart         string                                `yaml:"restart"`
	StopGracePeriod string                                `yaml:"stop_grace_period"`
	ContainerName   string                                `yaml:"container_name"`
}

type envLine struct{ key, value string }

// readEnvFile parses KEY=VALUE lines, skipping comments and blanks.
func readEnvFile(t *testing.T, path string) []envLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []envLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s:%d: not KEY=VALUE: %q", path, n, line)
		}
		out = append(out, envLine{k, v})
	}
	return out
}

func writeEnvFile(t *testing.T, lines []envLine) string {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.key + "=" + l.value + "\n")
	}
	p := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// compose runs docker-compose in the repository root with a clean
// environment, so the caller's variables can't leak into interpolation.
func compose(t *testing.T, envFile string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	bin := testenv.Tool(t, "docker-compose")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-f", "docker-compose.yml", "--env-file", envFile}, args...)...)
	cmd.Dir = testenv.RepoRoot(t)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// filled is .env.example with every required secret given a test value.
func filled(t *testing.T, example []envLine) []envLine {
	t.Helper()
	out := slices.Clone(example)
	for i, l := range out {
		if slices.Contains(requiredSecrets, l.key) {
			out[i].value = "test-value-" + strings.ToLower(l.key)
		}
	}
	return out
}

func TestEnvExample(t *testing.T) {
	root := testenv.RepoRoot(t)
	example := readEnvFile(t, filepath.Join(root, ".env.example"))
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, l := range example {
		if _, dup := keys[l.key]; dup {
			t.Errorf(".env.example sets %s twice", l.key)
		}
		keys[l.key] = l.value
	}
	// ${VAR}, ${VAR:-x}, ${VAR:?x} and $VAR, but not the escaped $$.
	refs := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?:^|[^$])\$\{?([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(string(raw), -1) {
		refs[m[1]] = true
	}
	for v := range refs {
		if _, ok := keys[v]; !ok {
			t.Errorf("docker-compose.yml uses ${%s} but .env.example does not document it", v)
		}
	}
	for k := range keys {
		if !refs[k] {
			t.Errorf(".env.example documents %s but docker-compose.yml never uses it", k)
		}
	}
	for _, s := range requiredSecrets {
		v, ok := keys[s]
		switch {
		case !ok:
			t.Errorf(".env.example lacks the required %s", s)
		case v != "":
			t.Errorf(".env.example gives %s a value; leave it empty so a deployment must choose its own", s)
		}
		if !strings.Contains(string(raw), "${"+s+":?") {
			t.Errorf("docker-compose.yml must require %s with ${%s:?message}", s, s)
		}
	}
}

func TestComposeRequiresSecrets(t *testing.T) {
	example := readEnvFile(t, filepath.Join(testenv.RepoRoot(t), ".env.example"))
	for _, s := range requiredSecrets {
		t.Run(s, func(t *testing.T) {
			lines := filled(t, example)
			for i := range lines {
				if lines[i].key == s {
					lines[i].value = ""
				}
			}
			_, stderr, err := compose(t, writeEnvFile(t, lines), "config", "-q")
			if err == nil {
				t.Fatalf("docker-compose config accepted an empty %s", s)
			}
			if !strings.Contains(stderr, s) {
				t.Errorf("the refusal does not name %s:\n%s", s, stderr)
			}
		})
	}
}

func TestCompose(t *testing.T) {
	root := testenv.RepoRoot(t)
	envFile := writeEnvFile(t, filled(t, readEnvFile(t, filepath.Join(root, ".env.example"))))
	if _, stderr, err := compose(t, envFile, "config", "-q"); err != nil {
		t.Fatalf("docker-compose config -q: %v\n%s", err, stderr)
	}
	out, stderr, err := compose(t, envFile, "config")
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, stderr)
	}
	var cf composeFile
	if err := yaml.Unmarshal([]byte(out), &cf); err != nil {
		t.Fatalf("rendered config does not parse: %v\n%s", err, out)
	}
	for _, name := range []string{"minio", "minio-init", "redis", "api", "worker"} {
		if _, ok := cf.Services[name]; !ok {
			t.Fatalf("no service %q", name)
		}
	}
	api, worker, redis, minio, initSvc := cf.Services["api"], cf.Services["worker"], cf.Services["redis"], cf.Services["minio"], cf.Services["minio-init"]

	t.Run("environment", func(t *testing.T) {
		if !equalMaps(api.Environment, worker.Environment) {
			t.Errorf("api and worker environments differ:\napi    %v\nworker %v", api.Environment, worker.Environment)
		}
		mainSrc, err := os.ReadFile(filepath.Join(root, "cmd", "presession", "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		for k := range api.Environment {
			if slices.Contains(config.Vars, k) {
				continue
			}
			if why, ok := notFromConfig[k]; ok {
				if !bytes.Contains(mainSrc, []byte(`"`+k+`"`)) {
					t.Errorf("%s is allowed because it is %s, but cmd/presession/main.go no longer mentions it", k, why)
				}
				continue
			}
			t.Errorf("api/worker get %s, which the binary does not read (not in config.Vars)", k)
		}
		for _, k := range config.Vars {
			_, set := api.Environment[k]
			_, allowed := deliberatelyUnset[k]
			switch {
			case !set && !allowed:
				t.Errorf("config.Vars has %s but docker-compose.yml does not set it on api/worker", k)
			case set && allowed:
				t.Errorf("%s is set, so remove it from deliberatelyUnset", k)
			}
		}
		// The rendered defaults (with the secrets from .env) must be a
		// configuration the binary accepts.
		cfg, err := config.Load(func(k string) string { return api.Environment[k] })
		if err != nil {
			t.Fatalf("config.Load rejects the compose environment: %v", err)
		}
		if cfg.Embedded() || cfg.EmbeddedStorage() {
			t.Errorf("compose must use the real Redis and S3, got REDIS_URL=%q S3_ENDPOINT=%q", cfg.RedisURL, cfg.S3.Endpoint)
		}
		if cfg.Redis.Addr != "redis:6379" {
			t.Errorf("REDIS_URL points at %s, want the redis service", cfg.Redis.Addr)
		}
		if host, _, _ := strings.Cut(cfg.S3.Endpoint, ":"); host != "minio" {
			t.Errorf("S3_ENDPOINT %s is not the minio service", cfg.S3.Endpoint)
		}
		if cfg.Addr != ":8080" {
			t.Errorf("PRESESSION_ADDR %s: the published port and healthcheck assume :8080", cfg.Addr)
		}
		if got := initSvc.Environment["S3_BUCKET"]; got != cfg.S3.Bucket {
			t.Errorf("minio-init creates bucket %q but the service uses %q", got, cfg.S3.Bucket)
		}
		if initSvc.Environment["S3_ACCESS_KEY"] != cfg.S3.AccessKey || initSvc.Environment["S3_SECRET_KEY"] != cfg.S3.SecretKey.Reveal() {
			t.Error("minio-init creates a different user than the service's S3_ACCESS_KEY/S3_SECRET_KEY")
		}
		for _, svc := range []service{api, worker} {
			if d, err := time.ParseDuration(svc.StopGracePeriod); err != nil || d <= cfg.ShutdownTimeout {
				t.Errorf("stop_grace_period %q must exceed PRESESSION_SHUTDOWN_TIMEOUT %s, or Docker kills mid-shutdown", svc.StopGracePeriod, cfg.ShutdownTimeout)
			}
		}
	})

	t.Run("healthchecks", func(t *testing.T) {
		for name, svc := range map[string]service{"minio": minio, "redis": redis, "api": api} {
			if svc.Healthcheck == nil || len(svc.Healthcheck.Test) == 0 || svc.Healthcheck.Test[0] == "NONE" {
				t.Errorf("%s has no healthcheck", name)
			}
		}
		if api.Healthcheck != nil && !strings.Contains(strings.Join(api.Healthcheck.Test, " "), "127.0.0.1:8080/healthz") {
			t.Errorf("api healthcheck %v does not probe /healthz on :8080", api.Healthcheck.Test)
		}
		// A worker serves no HTTP: it must switch the image's /healthz check
		// off rather than be reported unhealthy.
		if worker.Healthcheck == nil || !slices.Equal(worker.Healthcheck.Test, []string{"NONE"}) {
			t.Errorf("worker must disable the image's HTTP healthcheck, got %+v", worker.Healthcheck)
		}
	})

	t.Run("redis", func(t *testing.T) {
		if !containsSeq(redis.Command, "--appendonly", "yes") {
			t.Errorf("redis command %v lacks --appendonly yes", redis.Command)
		}
		if !namedVolumeAt(cf, redis, "/data") {
			t.Errorf("redis /data is not a named volume: %v", redis.Volumes)
		}
		if !namedVolumeAt(cf, minio, "/data") {
			t.Errorf("minio /data is not a named volume: %v", minio.Volumes)
		}
	})

	t.Run("services", func(t *testing.T) {
		if !slices.Equal(api.Command, []string{"serve"}) || !slices.Equal(worker.Command, []string{"worker"}) {
			t.Errorf("commands: api %v, worker %v; want [serve], [worker]", api.Command, worker.Command)
		}
		if api.Build == nil || worker.Build == nil || api.Image != worker.Image {
			t.Errorf("api and worker must build the one image from the Dockerfile (build %v/%v, image %q/%q)", api.Build, worker.Build, api.Image, worker.Image)
		}
		if len(api.Ports) != 1 || api.Ports[0].Target != 8080 {
			t.Errorf("api ports %+v; want one, to container port 8080", api.Ports)
		}
		if worker.Deploy == nil || worker.Deploy.Replicas == nil || *worker.Deploy.Replicas < 1 {
			t.Errorf("worker needs deploy.replicas >= 1, got %+v", worker.Deploy)
		}
		if len(worker.Ports) > 0 || worker.ContainerName != "" {
			t.Error("worker can't be scaled with published ports or a container_name")
		}
		want := map[string]string{"redis": "service_healthy", "minio": "service_healthy", "minio-init": "service_completed_successfully"}
		for name, svc := range map[string]service{"api": api, "worker": worker} {
			for dep, cond := range want {
				if got := svc.DependsOn[dep].Condition; got != cond {
					t.Errorf("%s depends_on %s: condition %q, want %q", name, dep, got, cond)
				}
			}
		}
		if initSvc.DependsOn["minio"].Condition != "service_healthy" {
			t.Errorf("minio-init must wait for a healthy minio, got %+v", initSvc.DependsOn)
		}
		if initSvc.Restart != "no" {
			t.Errorf("minio-init is one-shot: restart %q, want \"no\"", initSvc.Restart)
		}
	})
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func containsSeq(s []string, a, b string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == a && s[i+1] == b {
			return true
		}
	}
	return false
}

// namedVolumeAt reports whether svc mounts a top-level named volume at dir.
func namedVolumeAt(cf composeFile, svc service, dir string) bool {
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == dir {
			if _, ok := cf.Volumes[parts[0]]; ok {
				return true
			}
		}
	}
	return false
}
