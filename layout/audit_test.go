package layout_test

import (
	"slices"
	"testing"
	"time"

	"github.com/uprinfo/presession/layout"
)

// TestAuditKeys: an entry's key names its UTC day and time, and keys
// sort as their times do, so a listing is chronological.
func TestAuditKeys(t *testing.T) {
	at := time.Date(2026, 12, 2, 0, 12, 17, 123456789, time.FixedZone("CET", 3600))
	if got, want := layout.Audit(at, "a1b2"), "audit/2026/12/01/20261201T231217.123456789Z-a1b2.json"; got != want {
		t.Fatalf("Audit = %q, want %q", got, want)
	}
	times := []time.Time{
		time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 2, 10, 0, 0, 1, time.UTC),
		time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	var keys []string
	for _, at := range times {
		keys = append(keys, layout.Audit(at, "zz"))
	}
	if !slices.IsSorted(keys) {
		t.Errorf("keys do not sort by time: %q", keys)
	}
	for _, tc := range []struct {
		key string
		id  string
		ok  bool
	}{
		{layout.Audit(at, "a1b2"), "a1b2", true},
		{"audit/2026/12/01/20261201T231217.123456789Z-.json", "", false},
		{"audit/2026/12/02/20261201T231217.123456789Z-a1b2.json", "", false}, // day and time disagree
		{"audit/2026/12/01/20261201T231217Z-a1b2.json", "", false},
		{"audit/2026/12/01/20261201T231217.123456789Z-a1b2.txt", "", false},
		{"audit/2026/12/01/x/20261201T231217.123456789Z-a1b2.json", "", false},
		{"webhooks/a1b2.json", "", false},
	} {
		got, id, ok := layout.ParseAudit(tc.key)
		if ok != tc.ok || id != tc.id || (ok && !got.Equal(at)) {
			t.Errorf("ParseAudit(%q) = %v, %q, %v", tc.key, got, id, ok)
		}
	}
}
