package playlist

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestVendoredHlsJS: the hls.js the watch page serves is the npm release
// e2e/ pins, byte for byte, with that release's licence, and
// THIRD_PARTY_NOTICES names the same version.
func TestVendoredHlsJS(t *testing.T) {
	modules := testenv.NodeModules(t)
	root := testenv.RepoRoot(t)
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile(filepath.Join(root, "e2e", "package.json"))
	if err != nil || json.Unmarshal(b, &pkg) != nil {
		t.Fatalf("e2e/package.json: %v", err)
	}
	version := pkg.Dependencies["hls.js"]
	var installed struct{ Version string }
	b, _ = os.ReadFile(filepath.Join(modules, "node_modules", "hls.js", "package.json"))
	if json.Unmarshal(b, &installed) != nil || installed.Version != version {
		t.Fatalf("e2e pins hls.js %q, node_modules has %q", version, installed.Version)
	}
	for _, f := range []struct{ ours, theirs string }{
		{"assets/hls.min.js", "dist/hls.min.js"},
		{"assets/hls.js.LICENSE", "LICENSE"},
	} {
		ours, err := assets.ReadFile(f.ours)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.ReadFile(filepath.Join(modules, "node_modules", "hls.js", f.theirs))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, theirs) {
			t.Errorf("playlist/%s is not hls.js %s's %s: copy it again", f.ours, version, f.theirs)
		}
	}
	notices, err := os.ReadFile(filepath.Join(root, "THIRD_PARTY_NOTICES"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(notices), "hls.js "+version+" (npm)") {
		t.Errorf("THIRD_PARTY_NOTICES does not list hls.js %s", version)
	}
}
