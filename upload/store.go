package upload

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/s3store"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/layout"
)

// statementID is the statement id inside a tus upload id: s3store appends
// "+<multipart id>" to the id we choose.
func statementID(uploadID string) string {
	id, _, _ := strings.Cut(uploadID, "+")
	return id
}

// entry is an upload found in storage by a sweep.
type entry struct {
	Info     handler.FileInfo // as saved at creation: no current offset
	Modified time.Time        // of the .info
}

// backend is what the service needs from the store beyond tusd's
// interfaces: reading an upload's saved info cheaply, listing uploads, the
// time of its last write, and making sure a complete upload is assembled.
type backend interface {
	core() handler.DataStore
	terminater() handler.TerminaterDataStore
	// readInfo returns the saved FileInfo of the statement's upload, or
	// handler.ErrNotFound.
	readInfo(ctx context.Context, statementID string) (handler.FileInfo, error)
	list(ctx context.Context) ([]entry, error)
	lastWrite(ctx context.Context, e entry) (time.Time, error)
	// assemble completes an upload whose bytes are all received but whose
	// FinishUpload failed; a no-op when already done.
	assemble(ctx context.Context, up handler.Upload, info handler.FileInfo) error
	// terminate removes an upload (aborting an S3 multipart upload).
	terminate(ctx context.Context, up handler.Upload) error
	// remove deletes the source of statement id and whatever tusd keeps
	// of its upload (.info, .part, an unfinished S3 multipart upload);
	// what is already gone is no error.
	remove(ctx context.Context, id string) error
}

// fileBackend is tusd's filestore in the storage directory's sources
// directory (layout.Sources), so its files are where the storage
// directory has the keys of layout.Source and layout.SourceInfo.
type fileBackend struct {
	root  string // the storage directory
	store filestore.FileStore
}

func newFileBackend(storageDir string) (*fileBackend, error) {
	b := &fileBackend{root: storageDir}
	dir := b.path(layout.Sources)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("upload: create %s: %w", dir, err)
	}
	b.store = filestore.New(dir)
	return b, nil
}

// path is the file of a storage key.
func (b *fileBackend) path(key string) string { return filepath.Join(b.root, filepath.FromSlash(key)) }

func (b *fileBackend) terminater() handler.TerminaterDataStore { return b.store }

func (b *fileBackend) core() handler.DataStore { return b.store }

func (b *fileBackend) readInfo(ctx context.Context, id string) (handler.FileInfo, error) {
	var info handler.FileInfo
	data, err := os.ReadFile(b.path(layout.SourceInfo(id)))
	if errors.Is(err, fs.ErrNotExist) {
		return info, handler.ErrNotFound
	}
	if err != nil {
		return info, err
	}
	return info, json.Unmarshal(data, &info)
}

func (b *fileBackend) list(ctx context.Context) ([]entry, error) {
	des, err := os.ReadDir(b.path(layout.Sources))
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, de := range des {
		name, ok := layout.ParseSourceInfo(path.Join(layout.Sources, de.Name()))
		if !ok || de.IsDir() {
			continue
		}
		info, err := b.readInfo(ctx, name)
		if err != nil {
			continue // removed meanwhile, or being written
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		out = append(out, entry{Info: info, Modified: fi.ModTime()})
	}
	return out, nil
}

func (b *fileBackend) lastWrite(ctx context.Context, e entry) (time.Time, error) {
	t := e.Modified
	if fi, err := os.Stat(b.path(layout.Source(e.Info.ID))); err == nil && fi.ModTime().After(t) {
		t = fi.ModTime()
	}
	return t, nil
}

func (b *fileBackend) assemble(context.Context, handler.Upload, handler.FileInfo) error { return nil }

func (b *fileBackend) terminate(ctx context.Context, up handler.Upload) error {
	return b.store.AsTerminatableUpload(up).Terminate(ctx)
}

func (b *fileBackend) remove(ctx context.Context, id string) error {
	var errs []error
	for _, key := range []string{layout.Source(id), layout.SourceInfo(id)} {
		if err := os.Remove(b.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// s3Backend is tusd's s3store under layout.Sources in the bucket.
type s3Backend struct {
	client *s3.Client
	bucket string
	store  s3store.S3Store
}

const defaultPartSize = 16 << 20

// S3Tuning sets the s3store knobs that trade memory and disk for speed.
type S3Tuning struct {
	PartSize         int64  // preferred part size; 16 MiB when zero
	MaxBufferedParts int64  // parts staged on disk ahead of S3; 4 when zero
	Concurrency      int    // parts sent to S3 at once, across uploads; 4 when zero
	TempDir          string // where parts are staged; os.TempDir() when empty
}

// NewS3Client returns an aws-sdk-go-v2 client for an S3-compatible server:
// path-style, static credentials, checksums only where S3 requires them.
func NewS3Client(c config.S3) *s3.Client {
	scheme := "http"
	if c.UseSSL {
		scheme = "https"
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	o := s3.Options{
		Region:                     region,
		BaseEndpoint:               aws.String(scheme + "://" + c.Endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey.Reveal(), ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if !c.UseSSL {
		// Over TLS the SDK sends part bodies as UNSIGNED-PAYLOAD; over plain
		// HTTP (an S3 server inside the deployment's own network) it would
		// hash every byte again for the signature, the largest CPU cost of
		// an upload after the copies themselves. The request is still
		// signed; as over TLS, the body is not part of the signature, and
		// what protects s3store's bodies is their CRC32 (checkedBodies).
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	}
	return s3.New(o)
}

func newS3Backend(client *s3.Client, bucket string, t S3Tuning) *s3Backend {
	st := s3store.New(bucket, checkedBodies{client})
	st.ObjectPrefix = layout.Sources
	st.PreferredPartSize = defaultPartSize
	if t.PartSize > 0 {
		st.PreferredPartSize = t.PartSize
	}
	if st.PreferredPartSize < st.MinPartSize {
		st.MinPartSize = st.PreferredPartSize
	}
	st.MaxBufferedParts = 4
	if t.MaxBufferedParts > 0 {
		st.MaxBufferedParts = t.MaxBufferedParts
	}
	n := 4
	if t.Concurrency > 0 {
		n = t.Concurrency
	}
	st.SetConcurrentPartUploads(n)
	st.TemporaryDirectory = t.TempDir
	return &s3Backend{client: client, bucket: bucket, store: st}
}

// checkedBodies is the client s3store writes with: each part and object
// body goes with its CRC32 (x-amz-checksum-crc32), so the S3 server
// refuses a body that did not arrive whole.
//
// Without it nothing does where the server does not check Content-Length
// against the body: the bodies go as UNSIGNED-PAYLOAD, and versitygw
// stores a part cut off by a closed connection (the node killed while
// sending it, or the request cancelled) with its declared size, the
// missing tail as zeros. s3store counts the sizes S3 lists as received,
// so the upload resumed after bytes that never arrived.
type checkedBodies struct{ *s3.Client }

func (c checkedBodies) UploadPart(ctx context.Context, in *s3.UploadPartInput, opt ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if in.ChecksumAlgorithm == "" && in.ChecksumCRC32 == nil {
		sum, err := crc32Of(in.Body)
		if err != nil {
			return nil, fmt.Errorf("upload part: checksum: %w", err)
		}
		in.ChecksumCRC32 = sum
	}
	return c.Client.UploadPart(ctx, in, opt...)
}

func (c checkedBodies) PutObject(ctx context.Context, in *s3.PutObjectInput, opt ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if in.ChecksumAlgorithm == "" && in.ChecksumCRC32 == nil {
		sum, err := crc32Of(in.Body)
		if err != nil {
			return nil, fmt.Errorf("put object: checksum: %w", err)
		}
		in.ChecksumCRC32 = sum
	}
	return c.Client.PutObject(ctx, in, opt...)
}

// crc32Of returns the base64 CRC32 of what is left of body and seeks back
// to where it was; nil for a body that cannot be read twice (s3store's
// are files and byte readers).
func crc32Of(body io.Reader) (*string, error) {
	rs, ok := body.(io.ReadSeeker)
	if !ok {
		return nil, nil
	}
	at, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, rs); err != nil {
		return nil, err
	}
	if _, err := rs.Seek(at, io.SeekStart); err != nil {
		return nil, err
	}
	return aws.String(base64.StdEncoding.EncodeToString(h.Sum(nil))), nil
}

func (b *s3Backend) terminater() handler.TerminaterDataStore { return b.store }

func (b *s3Backend) core() handler.DataStore { return b.store }

func isNotFound(err error) bool {
	var nk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nk) || errors.As(err, &nf)
}

func (b *s3Backend) readInfo(ctx context.Context, id string) (handler.FileInfo, error) {
	var info handler.FileInfo
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: aws.String(layout.SourceInfo(id))})
	if isNotFound(err) {
		return info, handler.ErrNotFound
	}
	if err != nil {
		return info, err
	}
	defer out.Body.Close()
	return info, json.NewDecoder(out.Body).Decode(&info)
}

func (b *s3Backend) list(ctx context.Context) ([]entry, error) {
	var out []entry
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: aws.String(layout.Sources)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			name, ok := layout.ParseSourceInfo(aws.ToString(o.Key))
			if !ok {
				continue
			}
			info, err := b.readInfo(ctx, name)
			if err != nil {
				continue
			}
			out = append(out, entry{Info: info, Modified: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// lastWrite is the latest of the .info, the parts and the .part tail.
func (b *s3Backend) lastWrite(ctx context.Context, e entry) (time.Time, error) {
	t := e.Modified
	objectID := statementID(e.Info.ID)
	_, uploadID, _ := strings.Cut(e.Info.ID, "+")
	key := aws.String(layout.Source(objectID))
	p := s3.NewListPartsPaginator(b.client, &s3.ListPartsInput{Bucket: &b.bucket, Key: key, UploadId: &uploadID})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			var nu *types.NoSuchUpload
			if errors.As(err, &nu) || isNotFound(err) || strings.Contains(err.Error(), "NoSuchUpload") {
				break
			}
			return t, err
		}
		for _, part := range page.Parts {
			if lm := aws.ToTime(part.LastModified); lm.After(t) {
				t = lm
			}
		}
	}
	h, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(layout.SourcePart(objectID))})
	if err == nil {
		if lm := aws.ToTime(h.LastModified); lm.After(t) {
			t = lm
		}
	} else if !isNotFound(err) {
		return t, err
	}
	return t, nil
}

func (b *s3Backend) terminate(ctx context.Context, up handler.Upload) error {
	return b.store.AsTerminatableUpload(up).Terminate(ctx)
}

func (b *s3Backend) remove(ctx context.Context, id string) error {
	src := layout.Source(id)
	in := &s3.ListMultipartUploadsInput{Bucket: &b.bucket, Prefix: aws.String(src)}
	for {
		out, err := b.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return fmt.Errorf("list multipart uploads: %w", err)
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.Key) != src {
				continue
			}
			_, err := b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b.bucket, Key: u.Key, UploadId: u.UploadId})
			var nu *types.NoSuchUpload
			if err != nil && !errors.As(err, &nu) {
				return fmt.Errorf("abort multipart upload: %w", err)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	for _, key := range []string{src, layout.SourceInfo(id), layout.SourcePart(id)} {
		if _, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: aws.String(key)}); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete %s: %w", key, err)
		}
	}
	return nil
}

// assemble completes the multipart upload unless the object exists.
func (b *s3Backend) assemble(ctx context.Context, up handler.Upload, info handler.FileInfo) error {
	_, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(layout.Source(statementID(info.ID)))})
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return err
	}
	return up.FinishUpload(ctx)
}

// gatedStore tells the locker when a request starts writing an upload
// (see Locker.askRelease). It wraps the core store and its terminater.
type gatedStore struct {
	handler.DataStore
	term   handler.TerminaterDataStore
	locker *Locker
}

type gatedUpload struct {
	handler.Upload
	id     string
	locker *Locker
}

func (g gatedUpload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	g.locker.writing(g.id)
	return g.Upload.WriteChunk(ctx, offset, src)
}

func (g gatedStore) NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error) {
	return newWrapped(ctx, g.DataStore, info, g.wrap)
}

func (g gatedStore) GetUpload(ctx context.Context, id string) (handler.Upload, error) {
	return getWrapped(ctx, g.DataStore, id, g.wrap)
}

func (g gatedStore) wrap(up handler.Upload, id string) handler.Upload {
	return gatedUpload{Upload: up, id: id, locker: g.locker}
}

// newWrapped creates an upload in ds and returns it wrapped, for the
// stores (gatedStore, examinedStore) whose uploads wrap those of the
// store below and know their id.
func newWrapped(ctx context.Context, ds handler.DataStore, info handler.FileInfo, wrap func(up handler.Upload, id string) handler.Upload) (handler.Upload, error) {
	up, err := ds.NewUpload(ctx, info)
	if err != nil {
		return nil, err
	}
	created, err := up.GetInfo(ctx) // s3store has it at hand: no request
	if err != nil {
		return nil, err
	}
	return wrap(up, created.ID), nil
}

// getWrapped is newWrapped for an upload ds has.
func getWrapped(ctx context.Context, ds handler.DataStore, id string, wrap func(up handler.Upload, id string) handler.Upload) (handler.Upload, error) {
	up, err := ds.GetUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	return wrap(up, id), nil
}

func (g gatedStore) AsTerminatableUpload(up handler.Upload) handler.TerminatableUpload {
	if gu, ok := up.(gatedUpload); ok {
		up = gu.Upload
	}
	return g.term.AsTerminatableUpload(up)
}
