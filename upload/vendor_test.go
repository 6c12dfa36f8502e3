package upload

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestVendoredTus: the tus-js-client the page embeds
// (static/vendor/tus-js-client, written by scripts/vendor.sh) is, byte for
// byte, the browser build and licence inside the package tarball whose
// integrity e2e/package-lock.json names. The tarball is fetched through
// npm and its sha512 checked here, not taken on npm's word. Without npm or
// the registry the test skips, except in the test command's runs (CI),
// where it fails.
func TestVendoredTus(t *testing.T) {
	lockFile := filepath.Join(testenv.RepoRoot(t), "e2e", "package-lock.json")
	raw, err := os.ReadFile(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct{ Version, Integrity string } `json:"packages"`
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatalf("%s: %v", lockFile, err)
	}
	pkg, ok := lock.Packages["node_modules/tus-js-client"]
	if !ok || pkg.Version == "" || pkg.Integrity == "" {
		t.Fatalf("%s pins no tus-js-client", lockFile)
	}

	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable(t, "npm")
	}
	dir := t.TempDir()
	cmd := exec.Command(npm, "pack", "tus-js-client@"+pkg.Version, "--silent")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		unavailable(t, "npm pack tus-js-client@"+pkg.Version+": "+err.Error()+"\n"+string(out))
	}
	tgz, err := os.ReadFile(filepath.Join(dir, "tus-js-client-"+pkg.Version+".tgz"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(tgz)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != pkg.Integrity {
		t.Fatalf("tarball of tus-js-client %s has integrity %s; the lock names %s", pkg.Version, got, pkg.Integrity)
	}
	inside, err := untar(tgz, "package/dist/tus.min.js", "package/LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ embedded, packaged string }{
		{"static/vendor/tus-js-client/tus.min.js", "package/dist/tus.min.js"},
		{"static/vendor/tus-js-client/LICENSE", "package/LICENSE"},
	} {
		got, err := assets.ReadFile(c.embedded)
		if err != nil {
			t.Fatalf("%s is not embedded: %v (run scripts/vendor.sh)", c.embedded, err)
		}
		if !bytes.Equal(got, inside[c.packaged]) {
			t.Errorf("%s (%d bytes) differs from %s in tus-js-client %s (%d bytes): run scripts/vendor.sh",
				c.embedded, len(got), c.packaged, pkg.Version, len(inside[c.packaged]))
		}
	}
}

// unavailable skips the test on a laptop without npm or the registry and
// fails it in the test command's runs.
func unavailable(t *testing.T, what string) {
	t.Helper()
	if testenv.Required() {
		t.Fatalf("cannot check the vendored tus-js-client: %s", what)
	}
	t.Skipf("cannot check the vendored tus-js-client: %s", what)
}

// untar returns the named files of a .tgz.
func untar(tgz []byte, names ...string) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if want[h.Name] {
			if out[h.Name], err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		}
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, errors.New("tarball lacks " + n)
		}
	}
	return out, nil
}
