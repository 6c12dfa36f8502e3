package config_test

import (
	"strings"
	"testing"

	"github.com/uprinfo/presession/config"
)

func TestMediaCacheBytes(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  int64
		err   bool
	}{
		{"", 256 << 20, false},
		{"0", 0, false},
		{"1048576", 1 << 20, false},
		{"-1", 0, true},
		{"lots", 0, true},
		{"1.5e9", 0, true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			c, err := config.Load(env(map[string]string{"PRESESSION_MEDIA_CACHE_BYTES": tc.value}))
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), "PRESESSION_MEDIA_CACHE_BYTES") {
					t.Fatalf("err %v, want one naming PRESESSION_MEDIA_CACHE_BYTES", err)
				}
				return
			}
			if err != nil || c.MediaCacheBytes != tc.want {
				t.Fatalf("%d, %v; want %d", c.MediaCacheBytes, err, tc.want)
			}
		})
	}
}
