package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/drafts"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

var testSecret = []byte("upload-test-secret-0123456789abcdef")

var closedBG = time.Date(2020, 5, 20, 23, 59, 59, 0, time.UTC)

// testSessions has one session open for a month, with Bulgaria closed
// on 20 May 2020 as in the call.
func testSessions() *presession.Sessions {
	bg := closedBG
	ss := &presession.Sessions{List: []presession.Session{{
		ID: "t36", Title: "UPR Pre-session T", Review: "test",
		UploadDeadline:      time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second),
		MaxStatementSeconds: 600, Languages: []string{"en", "fr", "es"},
		Countries: []presession.Country{{Code: "AD", Name: "Andorra"}, {Code: "BG", Name: "Bulgaria", UploadDeadline: &bg}},
	}}}
	if err := ss.Validate(); err != nil {
		panic(err)
	}
	return ss
}

// env is one test's endpoint: the services it shares with a second node
// (Redis, storage, catalog double) and one or more Service instances.
type env struct {
	t      testing.TB
	kind   string // "s3" or "file"
	rdb    *redis.Client
	ropts  *redis.Options
	st     *redisStatements
	proc   *redisProcessor
	signer *token.Signer
	cfg    Config
	s3     *s3.Client
	bucket testenv.S3
	svc    *Service
	srv    *httptest.Server
	// localizer, when set, translates the refusals of nodes started after.
	localizer Localizer
	// metrics, when set, receives the measures of nodes started after.
	metrics Metrics
	// revocations, when set, tells nodes started after which invitations
	// were revoked.
	revocations web.Revocations
	// captions, when set, keeps the organisations' captions files for
	// nodes started after.
	captions drafts.Store
}

var kinds = []string{"s3", "file"}

func newEnv(t testing.TB, kind string, tune ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, kind: kind, signer: token.NewSigner(testSecret)}
	e.ropts = testenv.RedisDB(t)
	e.rdb = redis.NewClient(e.ropts)
	t.Cleanup(func() { e.rdb.Close() })
	e.st = &redisStatements{rdb: e.rdb}
	e.proc = &redisProcessor{rdb: e.rdb}
	e.cfg = Config{MaxUploadBytes: 64 << 20, MaxStatementsPerInvitation: 3, LockTTL: 3 * time.Second,
		S3Tuning: S3Tuning{PartSize: 5 << 20, TempDir: t.TempDir()}}
	switch kind {
	case "s3":
		e.bucket = testenv.S3Bucket(t)
		e.cfg.S3 = config.S3{Endpoint: e.bucket.Endpoint, Region: e.bucket.Region, Bucket: e.bucket.Bucket,
			AccessKey: e.bucket.AccessKey, SecretKey: config.Secret(e.bucket.SecretKey)}
		e.s3 = NewS3Client(e.cfg.S3)
		if _, err := e.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &e.bucket.Bucket}); err != nil {
			t.Fatalf("create bucket: %v", err)
		}
	case "file":
		e.cfg.StorageDir = t.TempDir()
	}
	for _, f := range tune {
		f(&e.cfg)
	}
	e.svc, e.srv = e.node()
	return e
}

// node starts one more Service on the env's shared services; wrap, if
// any, wraps its handler.
func (e *env) node(wrap ...func(http.Handler) http.Handler) (*Service, *httptest.Server) {
	e.t.Helper()
	rdb := redis.NewClient(e.ropts)
	e.t.Cleanup(func() { rdb.Close() })
	svc, err := New(e.cfg, Deps{
		Sessions: testSessions(), Signer: e.signer, Statements: e.st, Processor: e.proc, Redis: rdb,
		Logger: testLogger(e.t), Localizer: e.localizer, Metrics: e.metrics, Revocations: e.revocations,
		Captions: e.captions,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	h := svc.Handler()
	for _, w := range wrap {
		h = w(h)
	}
	mux := http.NewServeMux()
	mux.Handle("/files/", h)
	srv := httptest.NewServer(mux)
	e.t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		svc.Close()
	})
	return svc, srv
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("UPLOAD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// invite signs an invitation for the test session.
func (e *env) invite(country, org string, until time.Time) (string, token.Invitation) {
	return e.signer.SignInvitation(token.Invitation{Session: "t36", Country: country, Organisation: org, Until: until})
}

// randomBytes is n bytes of noise that start as a Matroska file does, so
// that the examination of uploads as they arrive (early.go) takes them
// for a video it cannot refuse from its beginning (ffprobe reads no
// streams in them): the worker, which these tests do not run, would.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	copy(b, "\x1A\x45\xDF\xA3")
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// stored returns the bytes of a statement's source in storage.
func (e *env) stored(id string) []byte {
	e.t.Helper()
	switch e.kind {
	case "s3":
		out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &e.bucket.Bucket, Key: aws.String(layout.Source(id))})
		if err != nil {
			e.t.Fatalf("get %s: %v", layout.Source(id), err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			e.t.Fatal(err)
		}
		return b
	default:
		b, err := os.ReadFile(filepath.Join(e.cfg.StorageDir, layout.Source(id)))
		if err != nil {
			e.t.Fatal(err)
		}
		return b
	}
}

// leftovers lists what storage holds under layout.Sources, and S3's unfinished
// multipart uploads.
func (e *env) leftovers() []string {
	e.t.Helper()
	var out []string
	switch e.kind {
	case "s3":
		ctx := context.Background()
		l, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &e.bucket.Bucket, Prefix: aws.String(layout.Sources)})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, o := range l.Contents {
			out = append(out, aws.ToString(o.Key))
		}
		m, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &e.bucket.Bucket})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, u := range m.Uploads {
			out = append(out, "multipart:"+aws.ToString(u.Key))
		}
	default:
		des, _ := os.ReadDir(filepath.Join(e.cfg.StorageDir, "uploads"))
		for _, d := range des {
			out = append(out, layout.Sources+d.Name())
		}
	}
	sort.Strings(out)
	return out
}

func (e *env) statement(id string) *presession.Statement {
	e.t.Helper()
	st, err := e.st.Get(context.Background(), id)
	if err != nil {
		e.t.Fatalf("statement %s: %v", id, err)
	}
	return st
}

// A minimal tus client for protocol tests.

type tusResp struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(method, url, tok string, hdr map[string]string, body []byte) tusResp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return tusResp{res.StatusCode, res.Header, string(b)}
}

func encodeMeta(meta map[string]string) string {
	var parts []string
	for k, v := range meta {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func goodMeta() map[string]string {
	return map[string]string{"filename": "statement.mp4", "filetype": "video/mp4", "title": "Freedom of expression", "speaker": "A. Speaker", "language": "en"}
}

// create POSTs a new upload; base is the server URL.
func (e *env) create(base, tok string, size int64, meta map[string]string) tusResp {
	e.t.Helper()
	return e.do("POST", base+"/files/", tok, map[string]string{
		"Upload-Length": strconv.FormatInt(size, 10), "Upload-Metadata": encodeMeta(meta)}, nil)
}

func (e *env) mustCreate(base, tok string, size int64) string {
	e.t.Helper()
	r := e.create(base, tok, size, goodMeta())
	if r.status != http.StatusCreated {
		e.t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.header.Get("Location")
}

func (e *env) patch(url, tok string, offset int64, chunk []byte) tusResp {
	e.t.Helper()
	return e.do("PATCH", url, tok, map[string]string{
		"Upload-Offset": strconv.FormatInt(offset, 10), "Content-Type": "application/offset+octet-stream"}, chunk)
}

// onServer rewrites an upload URL to another node.
func onServer(url string, srv *httptest.Server) string {
	i := strings.Index(url, "/files/")
	return srv.URL + url[i:]
}

func idOf(url string) string {
	return statementID(url[strings.LastIndex(url, "/")+1:])
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
