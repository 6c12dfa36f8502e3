package storage_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/storage"
)

// TestS3PublicURL: with a public endpoint (here "localhost" for a server
// the service reaches as 127.0.0.1), browser URLs are presigned for that
// host and the server accepts them there.
func TestS3PublicURL(t *testing.T) {
	b := testenv.S3Bucket(t)
	_, port, _ := strings.Cut(b.Endpoint, ":")
	public := "http://localhost:" + port
	ctx := context.Background()
	s, err := storage.NewS3(ctx, storage.Config{Endpoint: b.Endpoint, Region: b.Region, Bucket: b.Bucket,
		AccessKey: b.AccessKey, SecretKey: b.SecretKey, PublicEndpoint: public})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a/b.txt", strings.NewReader("hello"), 5, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	internal, _ := s.URL(ctx, "a/b.txt", time.Minute)
	browser, err := s.PublicURL(ctx, "a/b.txt", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ u, host string }{{internal, b.Endpoint}, {browser, "localhost:" + port}} {
		u, _ := url.Parse(tc.u)
		if u.Host != tc.host {
			t.Fatalf("%s: host %s, want %s", tc.u, u.Host, tc.host)
		}
		resp, err := http.Get(tc.u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "hello" {
			t.Fatalf("%s: %d %s", tc.u, resp.StatusCode, body)
		}
	}
}
