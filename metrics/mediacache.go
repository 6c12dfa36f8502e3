package metrics

import "github.com/prometheus/client_golang/prometheus"

// Label names of the media cache's metrics.
const (
	labelKind  = "kind"  // media_cache_requests_total: a MediaKind
	labelCache = "cache" // media_cache_requests_total: a CacheResult
)

// MediaKind is what a media request asked for, as the media cache tells
// them apart: a value of the kind label.
type MediaKind string

// Media kinds: the fixed set of the kind label.
const (
	MediaSegment MediaKind = "segment" // an HLS media segment as stored
	MediaShifted MediaKind = "shifted" // a media segment moved later in the stitched stream (?at=)
	MediaInit    MediaKind = "init"    // an HLS init segment
	MediaImage   MediaKind = "image"   // poster, thumbnail, storyboard sprite
)

// MediaKinds lists the values of the kind label.
var MediaKinds = []MediaKind{MediaSegment, MediaShifted, MediaInit, MediaImage}

// CacheResult is how the media cache answered a request: a value of the
// cache label.
type CacheResult string

// Cache results: the fixed set of the cache label.
const (
	CacheHit       CacheResult = "hit"       // served from memory
	CacheMiss      CacheResult = "miss"      // read from storage (one read, shared by the collapsed requests)
	CacheCollapsed CacheResult = "collapsed" // waited for another request's read of the same object
	CacheBypass    CacheResult = "bypass"    // not cacheable (too large, media being processed, cache off): streamed from storage
)

// CacheResults lists the values of the cache label.
var CacheResults = []CacheResult{CacheHit, CacheMiss, CacheCollapsed, CacheBypass}

// MediaCache measures the in-memory cache of immutable media in front of
// storage. A premiere is healthy when misses stay at one per object
// however many viewers. Its methods are safe for concurrent use.
type MediaCache struct {
	requests  *prometheus.CounterVec
	bytes     prometheus.Gauge
	objects   prometheus.Gauge
	capacity  prometheus.Gauge
	evictions prometheus.Counter
}

// NewMediaCache returns the media cache's collectors for a cache of
// capacity bytes, every kind and result at zero.
func NewMediaCache(capacity int64) *MediaCache {
	m := &MediaCache{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "media_cache_requests_total",
			Help: "Media requests by kind (segment, shifted, init, image) and how the in-memory cache answered: hit, miss (one storage read), collapsed (waited for another request's read), bypass."},
			[]string{labelKind, labelCache}),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "media_cache_bytes",
			Help: "Bytes the media cache holds (bodies and bookkeeping)."}),
		objects: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "media_cache_objects",
			Help: "Objects the media cache holds."}),
		capacity: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "media_cache_capacity_bytes",
			Help: "The media cache's bound (PRESESSION_MEDIA_CACHE_BYTES); 0 when it is off."}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "media_cache_evictions_total",
			Help: "Objects the media cache dropped, least recently used first, to make room."}),
	}
	m.capacity.Set(float64(max(capacity, 0)))
	for _, k := range MediaKinds {
		for _, r := range CacheResults {
			m.requests.WithLabelValues(string(k), string(r))
		}
	}
	return m
}

// CacheLookup counts one media request of kind answered as r.
func (m *MediaCache) CacheLookup(kind MediaKind, r CacheResult) {
	m.requests.WithLabelValues(string(kind), string(r)).Inc()
}

// CacheSize records what the cache holds.
func (m *MediaCache) CacheSize(bytes int64, objects int) {
	m.bytes.Set(float64(bytes))
	m.objects.Set(float64(objects))
}

// CacheEvicted counts n objects dropped.
func (m *MediaCache) CacheEvicted(n int) { m.evictions.Add(float64(n)) }

// Describe implements prometheus.Collector.
func (m *MediaCache) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.bytes.Describe(ch)
	m.objects.Describe(ch)
	m.capacity.Describe(ch)
	m.evictions.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *MediaCache) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.bytes.Collect(ch)
	m.objects.Collect(ch)
	m.capacity.Collect(ch)
	m.evictions.Collect(ch)
}
