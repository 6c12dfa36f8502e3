package layout_test

import (
	"testing"

	"github.com/uprinfo/presession/layout"
)

func TestParseViewerLink(t *testing.T) {
	for _, tc := range []struct {
		key string
		id  string
		ok  bool
	}{
		{"viewer-links/a1b2.json", "a1b2", true},
		{layout.ViewerLink("x1"), "x1", true},
		{"viewer-links/.json", "", false},
		{"viewer-links/a/b.json", "", false},
		{"viewer-links/a1b2.txt", "", false},
		{"invitations/a1b2.json", "", false},
	} {
		if id, ok := layout.ParseViewerLink(tc.key); ok != tc.ok || (ok && id != tc.id) {
			t.Errorf("ParseViewerLink(%q) = %q, %v", tc.key, id, ok)
		}
	}
}
