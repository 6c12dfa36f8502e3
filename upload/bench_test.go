package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/token"
)

// benchTuning is the s3store setting the benchmark measures (and the
// default of S3Tuning).
var benchTuning = S3Tuning{PartSize: defaultPartSize, MaxBufferedParts: 4, Concurrency: 4}

// BenchmarkUpload1GiB uploads 1 GiB through /files/ (tus-style: one POST,
// one streaming PATCH, as tus-js-client does by default) into versitygw,
// and the same bytes directly with an S3 multipart upload of the same part
// size and concurrency, twice each in the same run (direct, tus, tus,
// direct). It reports both throughputs, their
// ratio (tus/direct; target ≥ 0.9) and the server process's peak RSS
// (VmHWM; target ≤ 100 MiB). UPLOAD_BENCH_BYTES overrides the size.
func BenchmarkUpload1GiB(b *testing.B) {
	size := int64(1 << 30)
	if v, err := strconv.ParseInt(os.Getenv("UPLOAD_BENCH_BYTES"), 10, 64); err == nil && v > 0 {
		size = v
	}
	ctx := context.Background()
	ropts := testenv.RedisDB(b)
	bk := testenv.S3Bucket(b)
	s3cfg := config.S3{Endpoint: bk.Endpoint, Region: bk.Region, Bucket: bk.Bucket, AccessKey: bk.AccessKey, SecretKey: config.Secret(bk.SecretKey)}
	client := NewS3Client(s3cfg)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bk.Bucket}); err != nil {
		b.Fatal(err)
	}
	tuning := benchTuning
	tuning.TempDir = b.TempDir()
	// For tuning runs: UPLOAD_BENCH_PART (MiB), UPLOAD_BENCH_CONCURRENCY, UPLOAD_BENCH_BUFFERED.
	if v, err := strconv.ParseInt(os.Getenv("UPLOAD_BENCH_PART"), 10, 64); err == nil && v > 0 {
		tuning.PartSize = v << 20
	}
	if v, err := strconv.Atoi(os.Getenv("UPLOAD_BENCH_CONCURRENCY")); err == nil && v > 0 {
		tuning.Concurrency = v
	}
	if v, err := strconv.ParseInt(os.Getenv("UPLOAD_BENCH_BUFFERED"), 10, 64); err == nil && v > 0 {
		tuning.MaxBufferedParts = v
	}
	srv := startChild(b, childConfig{Addr: "127.0.0.1:0", RedisAddr: ropts.Addr, RedisDB: ropts.DB,
		Config: Config{MaxUploadBytes: 2 * size, MaxStatementsPerInvitation: 1 << 20, MaxUploadsPerInvitation: 1 << 20,
			MaxInvitationBytes: 1 << 62, S3: s3cfg, S3Tuning: tuning}})
	signer := token.NewSigner(testSecret)
	tok, _ := signer.SignInvitation(token.Invitation{Session: "t36", Country: "AD", Organisation: "Bench"})
	block := randomBytes(int(tuning.PartSize), 99)

	var tusTime, directTime, tusCPU, directCPU time.Duration
	b.SetBytes(4 * size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// direct, tus, tus, direct: drift in the machine's state (page
		// cache, disk) weighs on both alike.
		for j, kind := range []string{"direct", "tus", "tus", "direct"} {
			var d time.Duration
			var err error
			self, server := cpuSelf(), cpuProc(srv.cmd.Process.Pid)
			if kind == "direct" {
				d, err = directUpload(ctx, client, bk.Bucket, fmt.Sprintf("bench/direct-%d-%d", i, j), size, tuning.PartSize, tuning.Concurrency, block)
				directTime += d
				directCPU += cpuSelf() - self
			} else {
				d, err = tusUpload("http://"+srv.addr+"/files/", tok, size, block)
				tusTime += d
				tusCPU += cpuSelf() - self + cpuProc(srv.cmd.Process.Pid) - server
			}
			if err != nil {
				b.Fatalf("%s upload: %v", kind, err)
			}
		}
	}
	b.StopTimer()
	rss, err := peakRSS(srv.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	mibps := func(d time.Duration) float64 { return 2 * float64(size) * float64(b.N) / d.Seconds() / (1 << 20) }
	b.ReportMetric(mibps(tusTime), "tus-MiB/s")
	b.ReportMetric(mibps(directTime), "direct-MiB/s")
	b.ReportMetric(directTime.Seconds()/tusTime.Seconds(), "tus/direct")
	b.ReportMetric(float64(rss)/(1<<20), "server-peak-RSS-MiB")
	// CPU spent by the uploading side (client, plus server for tus; the S3
	// server's is the same in both): steadier than time on a busy machine.
	gib := 2 * float64(size) * float64(b.N) / (1 << 30)
	b.ReportMetric(tusCPU.Seconds()/gib, "tus-CPU-s/GiB")
	b.ReportMetric(directCPU.Seconds()/gib, "direct-CPU-s/GiB")
}

// cycle reads n bytes repeating block.
type cycle struct {
	block []byte
	n     int64
	off   int
}

func (c *cycle) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	k := copy(p, c.block[c.off:])
	c.off = (c.off + k) % len(c.block)
	c.n -= int64(k)
	return k, nil
}

func tusUpload(endpoint, tok string, size int64, block []byte) (time.Duration, error) {
	start := time.Now()
	req, _ := http.NewRequest("POST", endpoint, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", encodeMeta(goodMeta()))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("create: %s", res.Status)
	}
	req, _ = http.NewRequest("PATCH", res.Header.Get("Location"), &cycle{block: block, n: size})
	req.ContentLength = size
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Upload-Offset") != strconv.FormatInt(size, 10) {
		return 0, fmt.Errorf("patch: %s %s", res.Status, body)
	}
	return time.Since(start), nil
}

// directUpload is the baseline: a multipart upload of the same bytes with
// the same part size and number of parts in flight.
func directUpload(ctx context.Context, c *s3.Client, bucket, key string, size, partSize int64, concurrency int, block []byte) (time.Duration, error) {
	start := time.Now()
	mu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return 0, err
	}
	src := &cycle{block: block, n: size}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	var mtx sync.Mutex
	var parts []types.CompletedPart
	var errs []error
	for n := int32(1); src.n > 0; n++ {
		buf := make([]byte, min(partSize, src.n))
		if _, err := io.ReadFull(src, buf); err != nil {
			return 0, err
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: mu.UploadId,
				PartNumber: aws.Int32(n), Body: bytes.NewReader(buf), ContentLength: aws.Int64(int64(len(buf)))})
			mtx.Lock()
			defer mtx.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	sortParts(parts)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: mu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return time.Since(start), err
}

func sortParts(p []types.CompletedPart) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && *p[j].PartNumber < *p[j-1].PartNumber; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// peakRSS reads a process's peak resident set size (VmHWM).
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM")
}

// cpuSelf is this process's CPU time so far.
func cpuSelf() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuProc is another process's CPU time so far (utime+stime in
// /proc/PID/stat, in clock ticks of 10 ms).
func cpuProc(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after "pid (comm) "
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
