package upload

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
)

// TestRecordingDeferredLength: a page recording (metadata recording=1, a
// MediaRecorder type) may create its upload without a length and send it
// in small PATCHes as it is recorded, declaring the length with the last
// one (an empty PATCH here, as tus-js-client sends once the recorder has
// stopped); the statement is then uploaded with that size and the stored
// bytes are the recording's. Anything else must still declare its size.
func TestRecordingDeferredLength(t *testing.T) {
	recMeta := func(ft string) map[string]string {
		m := goodMeta()
		m["filename"], m["filetype"], m[metaRecording] = "recording.webm", ft, "1"
		return m
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind, func(c *Config) { c.MaxUploadBytes, c.MaxInvitationBytes = 8<<20, 10<<20 })
			tok, _ := e.invite("AD", "Civil Voice", time.Time{})
			deferred := func(meta map[string]string) tusResp {
				return e.do("POST", e.srv.URL+"/files/", tok, map[string]string{"Upload-Defer-Length": "1", "Upload-Metadata": encodeMeta(meta)}, nil)
			}
			for _, c := range []struct {
				name string
				meta map[string]string
			}{
				{"a file", goodMeta()},
				{"recording flag on a file type", func() map[string]string {
					m := goodMeta()
					m[metaRecording] = "1"
					m["filetype"] = "application/pdf"
					return m
				}()},
				{"recording type without the flag", func() map[string]string { m := recMeta("video/webm"); delete(m, metaRecording); return m }()},
			} {
				if r := deferred(c.meta); r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "declare their size") {
					t.Errorf("%s with a deferred length: %d %q, want 413 asking for the size", c.name, r.status, r.body)
				}
			}

			data := randomBytes(3<<20+777, 7)
			r := deferred(recMeta("video/webm;codecs=vp8,opus"))
			if r.status != http.StatusCreated {
				t.Fatalf("recording with a deferred length: %d %s", r.status, r.body)
			}
			url := r.header.Get("Location")
			id := idOf(url)
			if st := e.statement(id); st.Status != presession.StatusUploading || st.Size != 0 {
				t.Fatalf("while recording: %+v", st)
			}
			// Chunks as MediaRecorder gives them, a few hundred KiB each.
			var off int64
			for off < int64(len(data)) {
				end := min(off+300<<10, int64(len(data)))
				r := e.patch(url, tok, off, data[off:end])
				if r.status != http.StatusNoContent {
					t.Fatalf("PATCH at %d: %d %s", off, r.status, r.body)
				}
				off = end
			}
			if h := e.do("HEAD", url, tok, nil, nil); h.header.Get("Upload-Defer-Length") != "1" || h.header.Get("Upload-Offset") != strconv.FormatInt(off, 10) {
				t.Fatalf("HEAD while deferred: %v", h.header)
			}
			r = e.do("PATCH", url, tok, map[string]string{"Upload-Offset": strconv.FormatInt(off, 10), "Upload-Length": strconv.FormatInt(off, 10),
				"Content-Type": "application/offset+octet-stream"}, []byte{})
			if r.status != http.StatusNoContent {
				t.Fatalf("final PATCH declaring the length: %d %s", r.status, r.body)
			}
			st := e.statement(id)
			if st.Status != presession.StatusUploaded || st.Size != int64(len(data)) {
				t.Fatalf("after the last PATCH: status %s, size %d, want uploaded, %d", st.Status, st.Size, len(data))
			}
			if sum(e.stored(id)) != sum(data) {
				t.Fatal("stored bytes differ from the recording")
			}

			// A deferred recording is still bounded by the largest upload.
			r = deferred(recMeta("video/webm"))
			if r.status != http.StatusCreated {
				t.Fatalf("second recording: %d %s", r.status, r.body)
			}
			second := r.header.Get("Location")
			if p := e.patch(second, tok, 0, randomBytes(9<<20, 8)); p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "largest accepted upload is 8 MiB") {
				t.Fatalf("9 MiB into a recording capped at 8 MiB: %d %s", p.status, p.body)
			}
			// The invitation keeps at most 10 MiB and the first take holds
			// 3 MiB of it: this one may grow to the 7 MiB left, not to 8.
			if p := e.patch(second, tok, 0, randomBytes(7<<20+512<<10, 9)); p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "no longer fits") {
				t.Fatalf("7.5 MiB into a recording with 7 MiB of room: %d %s", p.status, p.body)
			}
			if p := e.patch(second, tok, 0, randomBytes(6<<20, 9)); p.status != http.StatusNoContent {
				t.Fatalf("6 MiB into a recording with 7 MiB of room: %d %s", p.status, p.body)
			}
		})
	}
}
