// Package storage keeps presession's media (uploaded sources, HLS
// renditions, MP4s, posters, captions, manifests) in an S3-compatible
// bucket or in a local directory, behind one small set of methods.
//
// Both backends implement [Store]:
//
//   - [S3] talks to any S3-compatible server with minio-go (path-style
//     bucket lookup, the bucket is created if missing). Uploads stream in
//     16 MiB parts, so memory stays bounded whatever the object size, also
//     when the size is not known in advance. URL returns a presigned GET
//     that ffmpeg can read (Range included) until it expires; PublicURL one
//     for browsers, on the public endpoint when one is configured. Open
//     reads with ranged GETs from where the reader seeks.
//   - [Dir] keeps each object as a plain file under a root directory:
//     the object "a/b/c.m3u8" is the file ROOT/a/b/c.m3u8. Writes go to a
//     hidden temporary file in the same directory, are fsynced and renamed
//     into place, so a reader sees either the old or the new object, never
//     a partial one. Directories are created on write and pruned when they
//     become empty. URL returns the file's absolute path (ffmpeg reads
//     paths); PublicURL returns "", so browsers get Dir objects through
//     the app, which serves them with Open (the file itself).
//
// # Keys
//
// A key is a slash-separated relative path such as "a/b/c.m3u8" (package
// layout names presession's keys). Both backends accept the same
// keys and refuse others with [ErrInvalidKey]: no empty key, no leading or
// trailing slash, no empty segment ("a//b"), no segment starting with a dot
// (which also excludes "." and ".."), no backslash, no NUL or other control
// character. Names starting with a dot are reserved for Dir's temporary
// files and metadata, so List never returns them. Because Dir maps keys to
// files, one key cannot be both an object and the parent of another
// ("a" and "a/b"); S3 allows that, presession's key layout never needs it.
//
// # Metadata
//
// Every object has a content type and an optional Cache-Control value. When
// PutOptions.ContentType is empty it is inferred from the key's extension
// ([ContentTypeOf]) by both backends alike. Dir records a content type
// different from the inferred one, and any Cache-Control, in a sidecar JSON
// file named ".NAME.meta" next to the object; objects without such metadata
// have no sidecar. Stat and Get report content type and Cache-Control;
// List reports only Key, Size, ETag and ModTime (S3 listings carry no more).
//
// # Errors
//
// Get, Open and Stat of a missing key (and Dir's URL) return a
// *presession.Error with code presession.ENOTFOUND: S3's NoSuchKey and a
// missing file are translated where they are read. Delete of a missing key
// succeeds. A range that starts past the end of the object matches
// [ErrInvalidRange].
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/uprinfo/presession"
)

// Store is the method set both backends provide. Consumers should declare
// the subset they call in their own package rather than depend on Store.
type Store interface {
	// Put stores r under key. size is the exact length, or -1 if unknown.
	// It streams: the object is never held in memory whole.
	Put(ctx context.Context, key string, r io.Reader, size int64, o PutOptions) error
	// PutFile stores the file at path under key.
	PutFile(ctx context.Context, key, path string, o PutOptions) error
	// Get opens the object, or the part rng selects (nil: all of it). The
	// returned ObjectInfo describes the whole object (Size is its full size).
	Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, ObjectInfo, error)
	// Stat describes the object.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// List returns every object whose key starts with prefix (a plain
	// string prefix, "" for all), recursively, sorted by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes the object; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every object whose key starts with prefix,
	// which must not be empty.
	DeletePrefix(ctx context.Context, prefix string) error
	// Open opens the object for serving: a reader that seeks (so that
	// http.ServeContent answers Range requests) and reads from storage only
	// what is read from it, with the object's description.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error)
	// URL returns a location ffmpeg can read the object from for at least
	// ttl: a presigned HTTP(S) URL for S3, an absolute file path for Dir.
	URL(ctx context.Context, key string, ttl time.Duration) (string, error)
	// PublicURL returns a URL a browser outside the service can fetch the
	// object from for at least ttl, or "" when the store has none (Dir):
	// the object is then served through the app, with Open.
	PublicURL(ctx context.Context, key string, ttl time.Duration) (string, error)
	// Ping reports whether the storage is reachable and usable.
	Ping(ctx context.Context) error
}

var (
	_ Store = (*S3)(nil)
	_ Store = (*Dir)(nil)
)

var (
	// ErrInvalidKey is matched by the error for a key or prefix that
	// breaks the rules in the package documentation.
	ErrInvalidKey = errors.New("storage: invalid key")
	// ErrInvalidRange is matched by the error of Get for a range that
	// cannot be satisfied (it starts at or past the end of the object).
	ErrInvalidRange = presession.ErrInvalidRange
)

// The value types of the Store methods live in the root package, where
// the packages that declare the storage methods they call see them too.
type (
	ObjectInfo = presession.ObjectInfo
	PutOptions = presession.PutOptions
	Range      = presession.Range
)

// notFound is the error for a key that has no object: ENOTFOUND, with the
// backend's own error as its cause.
func notFound(op, key string, cause error) error {
	return &presession.Error{Code: presession.ENOTFOUND, Message: "the file " + key + " is not in storage",
		Err: fmt.Errorf("storage: %s %s: %w", op, key, cause)}
}

// checkKey validates key against the rules of the package documentation.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	for _, seg := range strings.Split(key, "/") {
		if err := checkSegment(seg); err != nil {
			return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, err)
		}
	}
	return nil
}

// checkPrefix validates a List/DeletePrefix prefix: a key, a key followed
// by a slash, or any leading part of those (the empty prefix included).
func checkPrefix(prefix string) error {
	segs := strings.Split(prefix, "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		if last && seg == "" {
			break // "" or "a/"
		}
		if err := checkSegment(seg); err != nil {
			return fmt.Errorf("%w: prefix %q: %s", ErrInvalidKey, prefix, err)
		}
	}
	return nil
}

func checkSegment(seg string) error {
	switch {
	case seg == "":
		return errors.New("empty path segment (leading, trailing or double slash)")
	case seg[0] == '.':
		return errors.New("a path segment starts with a dot")
	}
	for _, c := range seg {
		switch {
		case c == '\\':
			return errors.New("backslash")
		case c < 0x20 || c == 0x7f:
			return errors.New("control character")
		}
	}
	return nil
}

// mediaTypes are the types presession serves, fixed here rather than left
// to the host's mime.types, so that every machine stores the same.
var mediaTypes = map[string]string{
	".m3u8": "application/vnd.apple.mpegurl",
	".m4s":  "video/iso.segment",
	".mp4":  "video/mp4",
	".m4a":  "audio/mp4",
	".ts":   "video/mp2t",
	".mov":  "video/quicktime",
	".webm": "video/webm",
	".mkv":  "video/x-matroska",
	".vtt":  "text/vtt; charset=utf-8",
	".srt":  "application/x-subrip",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".webp": "image/webp",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// ContentTypeOf returns the content type that Put stores for key when
// PutOptions.ContentType is empty: a fixed table for media and web types,
// then the mime package, then application/octet-stream.
func ContentTypeOf(key string) string {
	ext := strings.ToLower(path.Ext(key))
	if t, ok := mediaTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" && ext != "" {
		return t
	}
	return "application/octet-stream"
}

func contentType(key string, o PutOptions) string {
	if o.ContentType != "" {
		return o.ContentType
	}
	return ContentTypeOf(key)
}
