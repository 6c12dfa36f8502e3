// Package a11y runs the axe-core accessibility scan (e2e/a11y.mjs) in
// Chromium from Go tests: zero serious or critical violations and no
// horizontal overflow, at desktop width and at 390 px.
package a11y

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// Cookie is a browser cookie to set before loading a page.
type Cookie struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	URL    string `json:"url"`
	Secure bool   `json:"secure,omitempty"`
}

// Page is one page to scan.
type Page struct {
	Name    string   `json:"name"`
	URL     string   `json:"url"`
	Cookies []Cookie `json:"cookies,omitempty"`
	WaitFor string   `json:"waitFor,omitempty"` // CSS selector to wait for (content filled by script)
}

// Result is the scan of one page at one width.
type Result struct {
	Name       string `json:"name"`
	Width      int    `json:"width"`
	Lang       string `json:"lang"`
	Violations []struct {
		ID     string   `json:"id"`
		Impact string   `json:"impact"`
		Help   string   `json:"help"`
		Nodes  []string `json:"nodes"`
	} `json:"violations"`
	Overflow struct {
		ScrollWidth int      `json:"scrollWidth"`
		ClientWidth int      `json:"clientWidth"`
		Wide        []string `json:"wide"`
	} `json:"overflow"`
}

// Scan runs axe on pages at 1280 and 390 px and fails t for every serious
// or critical violation and every horizontal overflow. It returns the raw
// results for further checks (the page's lang attribute, say).
func Scan(t *testing.T, pages ...Page) []Result {
	t.Helper()
	dir := testenv.NodeModules(t)
	chromium := testenv.Chromium(t)
	spec, _ := json.Marshal(map[string]any{"pages": pages, "widths": []int{1280, 390}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "a11y.mjs"), string(spec))
	cmd.Env = append(cmd.Environ(), "CHROMIUM="+chromium)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("a11y scan: %v\n%s", err, stderr.String())
	}
	var res struct{ Results []Result }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("a11y scan output: %v\n%s", err, out)
	}
	for _, r := range res.Results {
		for _, v := range r.Violations {
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("%s at %d px: %s (%s): %s\n  %s", r.Name, r.Width, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
			}
		}
		if r.Overflow.ScrollWidth > r.Overflow.ClientWidth+1 {
			t.Errorf("%s at %d px overflows horizontally (%d > %d): %v", r.Name, r.Width, r.Overflow.ScrollWidth, r.Overflow.ClientWidth, r.Overflow.Wide)
		}
	}
	return res.Results
}
