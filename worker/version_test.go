package worker

import "testing"

// TestMediaVersion: the version of a run's media depends on every file's
// key and content, not on the order the files were stored in.
func TestMediaVersion(t *testing.T) {
	files := []fileFact{
		{Key: "statements/a/hls/240p/seg_00000.m4s", SHA256: "11"},
		{Key: "statements/a/hls/240p/init.mp4", SHA256: "22"},
		{Key: "statements/a/poster.jpg", SHA256: "33"},
	}
	v := mediaVersion(files)
	if len(v) != 16 {
		t.Fatalf("version %q, want 16 hex digits", v)
	}
	for _, tc := range []struct {
		name  string
		files []fileFact
		same  bool
	}{
		{"another order", []fileFact{files[2], files[0], files[1]}, true},
		{"one file changed", []fileFact{files[0], files[1], {Key: files[2].Key, SHA256: "34"}}, false},
		{"one file more", append([]fileFact{{Key: "statements/a/thumb.jpg", SHA256: "44"}}, files...), false},
		{"one file less", files[:2], false},
		{"a file renamed", []fileFact{files[0], files[1], {Key: "statements/a/thumb.jpg", SHA256: "33"}}, false},
	} {
		if got := mediaVersion(tc.files); (got == v) != tc.same {
			t.Errorf("%s: %q against %q, same %v", tc.name, got, v, tc.same)
		}
	}
}
