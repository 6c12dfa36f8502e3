package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMediaCache: every kind and result is on /metrics from the start,
// and what the cache reports shows there.
func TestMediaCache(t *testing.T) {
	m := NewMediaCache(256 << 20)
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	fams := scrape(t, reg)
	for _, k := range MediaKinds {
		for _, r := range CacheResults {
			if got := value(t, fams, "presession_media_cache_requests_total", "kind", string(k), "cache", string(r)); got != 0 {
				t.Errorf("%s/%s = %v before any request", k, r, got)
			}
		}
	}
	m.CacheLookup(MediaSegment, CacheMiss)
	m.CacheLookup(MediaSegment, CacheCollapsed)
	m.CacheLookup(MediaSegment, CacheHit)
	m.CacheLookup(MediaSegment, CacheHit)
	m.CacheLookup(MediaShifted, CacheBypass)
	m.CacheSize(3<<20, 2)
	m.CacheEvicted(3)
	fams = scrape(t, reg)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"presession_media_cache_requests_total", []string{"kind", "segment", "cache", "hit"}, 2},
		{"presession_media_cache_requests_total", []string{"kind", "segment", "cache", "miss"}, 1},
		{"presession_media_cache_requests_total", []string{"kind", "segment", "cache", "collapsed"}, 1},
		{"presession_media_cache_requests_total", []string{"kind", "shifted", "cache", "bypass"}, 1},
		{"presession_media_cache_requests_total", []string{"kind", "image", "cache", "hit"}, 0},
		{"presession_media_cache_bytes", nil, 3 << 20},
		{"presession_media_cache_objects", nil, 2},
		{"presession_media_cache_capacity_bytes", nil, 256 << 20},
		{"presession_media_cache_evictions_total", nil, 3},
	} {
		if got := value(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}
