package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/uprinfo/presession"
)

// Config locates an S3-compatible bucket.
type Config struct {
	// Endpoint is host[:port], or an http:// or https:// URL (whose scheme
	// then overrides UseSSL).
	Endpoint  string
	Region    string // "" means us-east-1
	Bucket    string
	AccessKey string
	SecretKey string
	UseSSL    bool
	// PublicEndpoint, when set, is where browsers and players reach the
	// same S3 service (host[:port] or an http(s):// URL): PublicURL
	// presigns for it. Endpoint stays what the service itself uses.
	PublicEndpoint string
}

// LogValue implements slog.LogValuer; the secret key is never logged.
func (c Config) LogValue() slog.Value {
	secret := ""
	if c.SecretKey != "" {
		secret = "REDACTED"
	}
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint),
		slog.String("region", c.Region),
		slog.String("bucket", c.Bucket),
		slog.String("access_key", c.AccessKey),
		slog.String("secret_key", secret),
		slog.Bool("use_ssl", c.UseSSL),
	)
}

// String implements fmt.Stringer without the secret key.
func (c Config) String() string {
	return fmt.Sprintf("s3 endpoint=%s region=%s bucket=%s ssl=%t", c.Endpoint, c.Region, c.Bucket, c.UseSSL)
}

// PartSize is the multipart part size of S3 uploads, and so the most
// memory one upload of a stream of unknown size holds.
const PartSize = 16 << 20

// S3 is a Store on an S3-compatible bucket.
type S3 struct {
	client *minio.Client
	public *minio.Client // presigns browser URLs; client itself unless PublicEndpoint is set
	bucket string
}

// NewS3 connects to the bucket of cfg, creating it if missing.
func NewS3(ctx context.Context, cfg Config) (*S3, error) {
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	client, err := newMinio(cfg.Endpoint, cfg.UseSSL, region, cfg)
	if err != nil {
		return nil, err
	}
	s := &S3{client: client, public: client, bucket: cfg.Bucket}
	if cfg.PublicEndpoint != "" {
		// Presigning is computed locally (the region is known), so this
		// client never needs to reach the public address itself.
		if s.public, err = newMinio(cfg.PublicEndpoint, cfg.UseSSL, region, cfg); err != nil {
			return nil, err
		}
	}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("storage: s3 %s: bucket %s: %w", cfg.Endpoint, cfg.Bucket, err)
	}
	if !exists {
		err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: region})
		if err != nil {
			switch s3Code(err) {
			case "BucketAlreadyOwnedByYou", "BucketAlreadyExists": // created meanwhile
			default:
				return nil, fmt.Errorf("storage: s3 %s: create bucket %s: %w", cfg.Endpoint, cfg.Bucket, err)
			}
		}
	}
	return s, nil
}

func newMinio(endpoint string, secure bool, region string, cfg Config) (*minio.Client, error) {
	raw := endpoint
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("storage: s3 endpoint %q: want host:port or http(s)://host:port", raw)
		}
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: s3 %s: %w", raw, err)
	}
	return client, nil
}

// PublicURL implements Store: URL for a browser or player outside the
// service's own network, presigned for Config.PublicEndpoint when one is
// set. Like URL, it does not check that the object exists.
func (s *S3) PublicURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	u, err := s.public.PresignedGetObject(ctx, s.bucket, key, ttl, nil)
	if err != nil {
		return "", s.translate("presign", key, err)
	}
	return u.String(), nil
}

// Client returns the underlying minio client, for what Store does not
// cover.
func (s *S3) Client() *minio.Client { return s.client }

// Bucket returns the bucket name.
func (s *S3) Bucket() string { return s.bucket }

func s3Code(err error) string {
	var e minio.ErrorResponse
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// translate maps S3 errors to ENOTFOUND and the package's sentinels.
func (s *S3) translate(op, key string, err error) error {
	var e minio.ErrorResponse
	if errors.As(err, &e) {
		switch {
		case e.Code == "NoSuchKey" || (e.StatusCode == http.StatusNotFound && e.Code != "NoSuchBucket"):
			return notFound(op, key, err)
		case e.Code == "InvalidRange" || e.StatusCode == http.StatusRequestedRangeNotSatisfiable:
			return fmt.Errorf("storage: %s %s: %w", op, key, ErrInvalidRange)
		}
	}
	return fmt.Errorf("storage: %s %s: %w", op, key, err)
}

func (s *S3) putOptions(key string, o PutOptions) minio.PutObjectOptions {
	return minio.PutObjectOptions{
		ContentType:  contentType(key, o),
		CacheControl: o.CacheControl,
		PartSize:     PartSize,
	}
}

// Put implements Store. An object larger than PartSize, or of unknown
// size, goes up as a multipart upload; one PartSize buffer at most is held.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, o PutOptions) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := s.client.PutObject(ctx, s.bucket, key, r, size, s.putOptions(key, o)); err != nil {
		return s.translate("put", key, err)
	}
	return nil
}

// PutFile implements Store. Parts are read straight from the file.
func (s *S3) PutFile(ctx context.Context, key, path string, o PutOptions) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := s.client.FPutObject(ctx, s.bucket, key, path, s.putOptions(key, o)); err != nil {
		return s.translate("put", key, err)
	}
	return nil
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, ObjectInfo{}, err
	}
	var opts minio.GetObjectOptions
	if rng != nil {
		if !rng.Valid() {
			return nil, ObjectInfo{}, fmt.Errorf("storage: get %s: %w: %s", key, ErrInvalidRange, rng)
		}
		opts.Set("Range", rng.String())
	}
	body, oi, h, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, ObjectInfo{}, s.translate("get", key, err)
	}
	info := objectInfo(oi)
	if cr := h.Get("Content-Range"); cr != "" {
		// "bytes 0-99/1234": the object's size follows the slash.
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				info.Size = n
			}
		}
	}
	return body, info, nil
}

func objectInfo(oi minio.ObjectInfo) ObjectInfo {
	return ObjectInfo{
		Key:          oi.Key,
		Size:         oi.Size,
		ContentType:  oi.ContentType,
		ETag:         oi.ETag,
		CacheControl: oi.Metadata.Get("Cache-Control"),
		ModTime:      oi.LastModified,
	}
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return ObjectInfo{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return ObjectInfo{}, s.translate("stat", key, err)
	}
	return objectInfo(oi), nil
}

// Open implements Store: the object's description from one HEAD, then a
// ranged GET from wherever the reader is when it reads after a Seek, so
// http.ServeContent answers a Range request without holding the object.
// The reader reads under ctx.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	return &objectReader{ctx: ctx, s: s, key: key, size: info.Size}, info, nil
}

// objectReader reads an S3 object of known size as an io.ReadSeeker: the
// first Read after a Seek opens a ranged Get from that offset.
type objectReader struct {
	ctx       context.Context
	s         *S3
	key       string
	size, off int64
	body      io.ReadCloser
}

func (o *objectReader) Read(p []byte) (int, error) {
	if o.off >= o.size {
		return 0, io.EOF
	}
	if o.body == nil {
		body, _, err := o.s.Get(o.ctx, o.key, &Range{Start: o.off, End: -1})
		if err != nil {
			return 0, err
		}
		o.body = body
	}
	n, err := o.body.Read(p)
	o.off += int64(n)
	return n, err
}

func (o *objectReader) Seek(offset int64, whence int) (int64, error) {
	abs := offset
	switch whence {
	case io.SeekCurrent:
		abs += o.off
	case io.SeekEnd:
		abs += o.size
	}
	if abs < 0 {
		return 0, errors.New("storage: seek before the start of " + o.key)
	}
	if abs != o.off {
		o.Close()
		o.off = abs
	}
	return abs, nil
}

func (o *objectReader) Close() error {
	if o.body == nil {
		return nil
	}
	err := o.body.Close()
	o.body = nil
	return err
}

// List implements Store.
func (s *S3) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	var out []ObjectInfo
	for oi := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, fmt.Errorf("storage: list %q: %w", prefix, oi.Err)
		}
		out = append(out, ObjectInfo{Key: oi.Key, Size: oi.Size, ETag: oi.ETag, ModTime: oi.LastModified})
	}
	return out, nil // S3 lists in key (UTF-8 byte) order
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if err = s.translate("delete", key, err); presession.ErrorCode(err) != presession.ENOTFOUND {
			return err
		}
	}
	return nil
}

// DeletePrefix implements Store, with multi-object deletes.
func (s *S3) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: DeletePrefix needs a non-empty prefix", ErrInvalidKey)
	}
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	objs := s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true})
	var listErr error
	keys := func(yield func(minio.ObjectInfo) bool) {
		for oi := range objs {
			if oi.Err != nil {
				listErr = oi.Err
				return
			}
			if !yield(oi) {
				return
			}
		}
	}
	results, err := s.client.RemoveObjectsWithIter(ctx, s.bucket, keys, minio.RemoveObjectsOptions{})
	if err != nil {
		return fmt.Errorf("storage: delete prefix %q: %w", prefix, err)
	}
	for r := range results {
		if r.Err != nil && s3Code(r.Err) != "NoSuchKey" {
			return fmt.Errorf("storage: delete prefix %q: %s: %w", prefix, r.ObjectName, r.Err)
		}
	}
	if listErr != nil {
		return fmt.Errorf("storage: delete prefix %q: %w", prefix, listErr)
	}
	return nil
}

// URL implements Store: a presigned GET valid for ttl (at most 7 days, the
// S3 limit). It does not check that the object exists.
func (s *S3) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, nil)
	if err != nil {
		return "", s.translate("presign", key, err)
	}
	return u.String(), nil
}

// Ping implements Store: the bucket must exist and answer.
func (s *S3) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("storage: s3 bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("storage: s3 bucket %s does not exist", s.bucket)
	}
	return nil
}
