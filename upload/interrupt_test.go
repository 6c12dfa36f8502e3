package upload

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestInterruptSavesOffset: a PATCH still sending when the service is
// interrupted (a stop whose shutdown timeout has passed) ends promptly
// with 503, having stored what it received and released its lock; another
// node resumes from that offset at once and the stored bytes are the
// source's.
func TestInterruptSavesOffset(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			_, other := e.node()
			tok, _ := e.invite("AD", "Civil Voice", time.Time{})
			data := randomBytes(3<<20+17, 21)
			url := e.mustCreate(e.srv.URL, tok, int64(len(data)))

			pr, pw := io.Pipe()
			defer pw.Close()
			req, _ := http.NewRequest("PATCH", url, pr)
			req.ContentLength = int64(len(data))
			req.Header.Set("Tus-Resumable", "1.0.0")
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Upload-Offset", "0")
			req.Header.Set("Content-Type", "application/offset+octet-stream")
			type result struct {
				status int
				err    error
			}
			done := make(chan result, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					done <- result{err: err}
					return
				}
				resp.Body.Close()
				done <- result{status: resp.StatusCode}
			}()
			const sent = 1 << 20
			if _, err := pw.Write(data[:sent]); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // through the sockets
			select {
			case r := <-done:
				t.Fatalf("the PATCH ended before the interrupt: %+v", r)
			default:
			}

			start := time.Now()
			e.svc.Interrupt()
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the PATCH still runs 10 s after the interrupt")
			}
			t.Logf("the PATCH ended %v after the interrupt: %+v", time.Since(start).Round(time.Millisecond), r)
			if r.err == nil && r.status != http.StatusServiceUnavailable {
				t.Errorf("the interrupted PATCH answered %d, want 503", r.status)
			}

			// Another node: no wait for the lock, the offset kept.
			start = time.Now()
			head := e.do("HEAD", onServer(url, other), tok, nil, nil)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("HEAD on another node took %v: the interrupted PATCH kept its lock", took)
			}
			off, err := strconv.ParseInt(head.header.Get("Upload-Offset"), 10, 64)
			if head.status != http.StatusOK || err != nil || off <= 0 || off > sent {
				t.Fatalf("HEAD on another node: %d, offset %q; want the bytes received (0 < offset <= %d)", head.status, head.header.Get("Upload-Offset"), sent)
			}
			if p := e.patch(onServer(url, other), tok, off, data[off:]); p.status != http.StatusNoContent {
				t.Fatalf("PATCH of the rest: %d %s", p.status, p.body)
			}
			if sum(e.stored(idOf(url))) != sum(data) {
				t.Fatal("stored bytes differ from the source")
			}
		})
	}
}
