package playlist

import (
	"context"
	"strings"
	"testing"

	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/storage"
)

// TestMediaHeaders: each kind of media file is answered with its type and
// caching, from a directory and from S3 alike, through the store's Open;
// only the download MP4 on S3 is a redirect to a presigned URL.
func TestMediaHeaders(t *testing.T) {
	for _, backend := range []string{"dir", "s3"} {
		t.Run(backend, func(t *testing.T) {
			var store Store
			if backend == "s3" {
				cfg := testenv.S3Bucket(t)
				s3, err := storage.NewS3(context.Background(), storage.Config{Endpoint: cfg.Endpoint, Region: cfg.Region, Bucket: cfg.Bucket, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey})
				if err != nil {
					t.Fatal(err)
				}
				store = s3
			}
			e := newEnv(t, store)
			e.cat.Put(genStatement(t, e.store, "m1", "AD", 3, clipLo))
			for _, tc := range []struct {
				path, ctype, cache, disposition string
			}{
				{"hls/240p/seg_00000.m4s", "video/iso.segment", segmentCache, ""},
				{"hls/240p/init.mp4", "video/mp4", segmentCache, ""},
				{"poster.jpg", "image/jpeg", fileCache, ""},
				{"thumb.jpg?download=1", "image/jpeg", fileCache, ""},
				{"hls/master.m3u8", "application/vnd.apple.mpegurl", playlistCache, ""},
				{"hls/240p/index.m3u8", "application/vnd.apple.mpegurl", playlistCache, ""},
				{"captions/en.vtt", "text/vtt; charset=utf-8", fileCache, ""},
				{"captions/fr.vtt?download=1", "text/vtt; charset=utf-8", fileCache, `attachment; filename="m1-fr.vtt"`},
				{"download.mp4", "video/mp4", fileCache, ""},
				{"download.mp4?download=1", "video/mp4", fileCache, `attachment; filename="m1.mp4"`},
			} {
				r := e.get("/media/m1/"+tc.path, e.staff)
				if backend == "s3" && strings.HasPrefix(tc.path, "download.mp4") {
					if r.status != 302 || r.header.Get("Cache-Control") != "private, max-age=60" || !strings.HasPrefix(r.header.Get("Location"), "http://") {
						t.Errorf("%s: %d %v, want a redirect to storage", tc.path, r.status, r.header)
					}
					continue
				}
				h := r.header
				if r.status != 200 || h.Get("Content-Type") != tc.ctype || h.Get("Cache-Control") != tc.cache ||
					h.Get("X-Content-Type-Options") != "nosniff" || h.Get("ETag") == "" || h.Get("Content-Disposition") != tc.disposition {
					t.Errorf("%s: %d %v, want %s, %s, disposition %q", tc.path, r.status, h, tc.ctype, tc.cache, tc.disposition)
				}
				if tag := h.Get("ETag"); tag != "" {
					if again := e.get("/media/m1/"+tc.path, e.staff, "If-None-Match", tag); again.status != 304 {
						t.Errorf("%s with If-None-Match: %d", tc.path, again.status)
					}
				}
			}
			part := e.get("/media/m1/download.mp4", e.staff, "Range", "bytes=10-19")
			if backend == "dir" && (part.status != 206 || len(part.body) != 10) {
				t.Errorf("MP4 range: %d, %d bytes", part.status, len(part.body))
			}
			// A file the statement names but storage lacks is the same 404
			// as a file it does not name.
			if err := e.store.(interface {
				Delete(ctx context.Context, key string) error
			}).Delete(context.Background(), "statements/m1/poster.jpg"); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"poster.jpg", "nothing.jpg"} {
				if r := e.get("/media/m1/"+p, e.staff); r.status != 404 || !strings.Contains(r.body, `"code":"not_found"`) || !strings.Contains(r.body, "No such media, or not for this link.") {
					t.Errorf("%s: %d %s, want 404 not_found", p, r.status, r.body)
				}
			}
		})
	}
}
