package upload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/internal/testenv"
)

// cutBodies is an HTTP client whose request bodies fail after n bytes, so
// that the connection closes in the middle of the body, as when the
// process sending it is killed.
type cutBodies struct{ n int64 }

func (c cutBodies) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.ContentLength > c.n {
		r.Body = io.NopCloser(io.MultiReader(io.LimitReader(r.Body, c.n), failingReader{}))
	}
	return http.DefaultTransport.RoundTrip(r)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("sender killed") }

// TestS3CutBodyNotStored: a part or object whose body is cut off on the
// way (the node killed while sending it) is not stored, so that s3store,
// which counts the sizes S3 lists as received bytes, never resumes after
// bytes that did not arrive. S3 checks Content-Length, but not every
// S3-compatible server does, and the bodies go as UNSIGNED-PAYLOAD: the
// checksum s3store's client sends with each body is what catches it.
func TestS3CutBodyNotStored(t *testing.T) {
	ctx := context.Background()
	bk := testenv.S3Bucket(t)
	client := NewS3Client(config.S3{Endpoint: bk.Endpoint, Region: bk.Region, Bucket: bk.Bucket,
		AccessKey: bk.AccessKey, SecretKey: config.Secret(bk.SecretKey)})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bk.Bucket}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	api := newS3Backend(client, bk.Bucket, S3Tuning{}).store.Service
	data := randomBytes(5<<20, 21)
	cut := func(o *s3.Options) { o.HTTPClient = cutBodies{n: 3 << 20}; o.RetryMaxAttempts = 1 }

	t.Run("part", func(t *testing.T) {
		key := aws.String("cut/part")
		mp, err := api.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bk.Bucket, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		part := func(n int32, opt ...func(*s3.Options)) error {
			_, err := api.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bk.Bucket, Key: key, UploadId: mp.UploadId,
				PartNumber: aws.Int32(n), Body: bytes.NewReader(data)}, opt...)
			return err
		}
		if err := part(1, cut); err == nil {
			t.Fatal("a cut part was acknowledged")
		}
		if err := part(2); err != nil {
			t.Fatalf("whole part: %v", err)
		}
		ls, err := api.ListParts(ctx, &s3.ListPartsInput{Bucket: &bk.Bucket, Key: key, UploadId: mp.UploadId})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls.Parts) != 1 || aws.ToInt32(ls.Parts[0].PartNumber) != 2 || aws.ToInt64(ls.Parts[0].Size) != int64(len(data)) {
			for _, p := range ls.Parts {
				t.Logf("part %d: %d bytes", aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size))
			}
			t.Fatalf("%d parts stored; want only the whole part 2", len(ls.Parts))
		}
	})

	t.Run("object", func(t *testing.T) {
		key := aws.String("cut/object.part")
		_, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: &bk.Bucket, Key: key, Body: bytes.NewReader(data)}, cut)
		if err == nil {
			t.Fatal("a cut object was acknowledged")
		}
		h, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bk.Bucket, Key: key})
		if err == nil {
			t.Fatalf("the cut object is stored, with %d bytes", aws.ToInt64(h.ContentLength))
		}
		if !isNotFound(err) {
			t.Fatal(err)
		}
	})
}
