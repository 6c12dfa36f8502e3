package upload

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/metrics"
	"github.com/uprinfo/presession/web"
)

func TestCreateRefusals(t *testing.T) {
	e := newEnv(t, "file", func(c *Config) { c.MaxUploadBytes = 10 << 20 })
	tok, _ := e.invite("AD", "Civil Voice", time.Time{})
	bgTok, _ := e.invite("BG", "Bulgarian Helsinki Committee", time.Time{})
	bgExt, _ := e.invite("BG", "Extended Org", time.Now().Add(48*time.Hour))
	other := e.signer
	_ = other
	forged := tok[:len(tok)-4] + "AAAA"
	with := func(k, v string) map[string]string {
		m := goodMeta()
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name   string
		tok    string
		size   int64
		meta   map[string]string
		hdr    map[string]string
		status int
		want   string // in the body
	}{
		{"no token", "", 1000, goodMeta(), nil, 401, "Authorization: Bearer"},
		{"forged token", forged, 1000, goodMeta(), nil, 401, "not valid"},
		{"deadline passed", bgTok, 1000, goodMeta(), nil, 403, "closed on 20 May 2020"},
		{"deadline extended", bgExt, 1000, goodMeta(), nil, 201, ""},
		{"too large", tok, 11 << 20, goodMeta(), nil, 413, "largest accepted upload is 10 MiB"},
		{"deferred length", tok, -1, goodMeta(), map[string]string{"Upload-Defer-Length": "1"}, 413, "declare their size"},
		{"empty", tok, 0, goodMeta(), nil, 400, "empty"},
		{"no title", tok, 1000, with("title", ""), nil, 400, "title"},
		{"long title", tok, 1000, with("title", strings.Repeat("x", 201)), nil, 400, "longer than 200"},
		{"no language", tok, 1000, with("language", ""), nil, 400, "one of en, fr, es"},
		{"other language", tok, 1000, with("language", "de"), nil, 400, `not "de"`},
		{"image type", tok, 1000, with("filetype", "image/jpeg"), nil, 400, "not a video file"},
		{"pdf name", tok, 1000, with("filename", "report.pdf"), nil, 400, `"report.pdf" is not a video file`},
		{"neither name nor type", tok, 1000, with("filename", ""), map[string]string{}, 201, ""},
		{"concatenation", tok, 1000, goodMeta(), map[string]string{"Upload-Concat": "partial"}, 400, "concatenation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := map[string]string{"Upload-Metadata": encodeMeta(c.meta)}
			if c.size >= 0 {
				hdr["Upload-Length"] = strconv.FormatInt(c.size, 10)
			}
			for k, v := range c.hdr {
				hdr[k] = v
			}
			r := e.do("POST", e.srv.URL+"/files/", c.tok, hdr, nil)
			if r.status != c.status || !strings.Contains(r.body, c.want) {
				t.Fatalf("got %d %q; want %d containing %q", r.status, r.body, c.status, c.want)
			}
		})
	}
	// Neither name nor type: the filetype alone decides.
	m := goodMeta()
	delete(m, "filename")
	delete(m, "filetype")
	if r := e.create(e.srv.URL, tok, 1000, m); r.status != 400 || !strings.Contains(r.body, "say what the file is") {
		t.Fatalf("no filename nor filetype: %d %s", r.status, r.body)
	}
}

// TestMetadataLimits: every Upload-Metadata value we keep has a stated
// limit, and so has the header as a whole; a value past its limit is
// refused with a 400 naming the field and the limit, and a refused
// creation stores nothing. The header of the security review (933 KB,
// nearly all of it filetype) is refused without being echoed.
func TestMetadataLimits(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			tok, _ := e.invite("AD", "Civil Voice", time.Time{})
			with := func(k, v string) map[string]string {
				m := goodMeta()
				m[k] = v
				return m
			}
			huge := goodMeta()
			huge["filetype"] = "video/mp4" + strings.Repeat("A", 699_000) // a 933 KB header
			hugeSize := i18n.Size(len(encodeMeta(huge))).String()
			for _, c := range []struct {
				name string
				meta map[string]string
				code string
				want string
			}{
				{"review header", huge, ErrCodeMetadata, "the Upload-Metadata header is " + hugeSize + ", more than the 8 KiB allowed"},
				{"unknown keys", with("comment", strings.Repeat("x", 6<<10)), ErrCodeMetadata, "more than the 8 KiB allowed"},
				{"filetype", with("filetype", "video/"+strings.Repeat("x", 250)), ErrCodeFileType, `file type (Upload-Metadata key "filetype") is longer than 255 bytes`},
				{"filename", with("filename", strings.Repeat("x", 252)+".mp4"), ErrCodeFileType, "file name is longer than 255 bytes"},
				{"language", with("language", strings.Repeat("e", 36)), ErrCodeLanguage, `language (Upload-Metadata key "language") is longer than 35 bytes`},
				{"title", with("title", strings.Repeat("é", 201)), ErrCodeTitle, "longer than 200 characters"},
				{"speaker", with("speaker", strings.Repeat("s", 201)), ErrCodeSpeaker, "longer than 200 characters"},
			} {
				r := e.create(e.srv.URL, tok, 1000, c.meta)
				if r.status != http.StatusBadRequest || !strings.HasPrefix(r.body, c.code+": ") || !strings.Contains(r.body, c.want) || len(r.body) > 1000 {
					t.Errorf("%s: %d %.300q; want 400 %s: …%s…", c.name, r.status, r.body, c.code, c.want)
				}
			}
			if keys, _ := e.rdb.Keys(context.Background(), "st:*").Result(); len(keys) != 0 {
				t.Errorf("statements recorded for refused uploads: %v", keys)
			}
			if l := e.leftovers(); len(l) != 0 {
				t.Errorf("left in storage: %v", l)
			}
			// At the limits, all is accepted; a path sent as the name keeps
			// its last element, which is what the limit counts.
			m := goodMeta()
			m["title"], m["speaker"] = strings.Repeat("é", 200), strings.Repeat("s", 200)
			m["filename"] = `C:\Users\someone\` + strings.Repeat("x", 251) + ".mp4"
			m["filetype"] = "video/" + strings.Repeat("x", 249)
			if r := e.create(e.srv.URL, tok, 1000, m); r.status != http.StatusCreated {
				t.Fatalf("at the limits: %d %s", r.status, r.body)
			} else if st := e.statement(idOf(r.header.Get("Location"))); len(st.Filename) != 255 || len(st.Filetype) != 255 {
				t.Fatalf("kept %q (%d), %d bytes of type", st.Filename, len(st.Filename), len(st.Filetype))
			}
		})
	}
}

func TestAcceptedFile(t *testing.T) {
	for _, c := range []struct {
		name, typ string
		ok        bool
	}{
		{"a.mp4", "video/mp4", true}, {"A.MOV", "video/quicktime", true}, {"x.mkv", "", true},
		{"x.mkv", "application/x-matroska", true}, {"x.mts", "model/vnd.mts", true}, {"x.webm", "video/webm; codecs=vp9", true},
		{"", "video/mp4", true}, {"", "", false}, {"x.jpg", "image/jpeg", false}, {"x.mp4", "image/jpeg", false},
		{"x.exe", "video/mp4", false}, {"", "application/octet-stream", false}, {"x.3gp", "video/3gpp", true},
	} {
		if got := AcceptedFile(c.name, c.typ); got != c.ok {
			t.Errorf("AcceptedFile(%q, %q) = %v", c.name, c.typ, got)
		}
	}
}

func TestLimitPerInvitation(t *testing.T) {
	e := newEnv(t, "file")
	tok, _ := e.invite("AD", "Civil Voice", time.Time{})
	var urls []string
	for range 3 {
		urls = append(urls, e.mustCreate(e.srv.URL, tok, 100))
	}
	r := e.create(e.srv.URL, tok, 100, goodMeta())
	if r.status != http.StatusConflict || !strings.Contains(r.body, "already has 3 statements") {
		t.Fatalf("4th upload: %d %s", r.status, r.body)
	}
	// A cancelled upload frees its place.
	if r := e.do("DELETE", urls[0], tok, nil, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.mustCreate(e.srv.URL, tok, 100)
	// Another organisation has its own limit.
	tok2, _ := e.invite("AD", "Other", time.Time{})
	e.mustCreate(e.srv.URL, tok2, 100)
}

// TestUploadsPerInvitation: a failed or cancelled statement frees its
// place among the invitation's statements, but counts among the uploads
// it started, which are limited too: neither a loop of creations and
// cancels nor one of uploads that fail processing gets past
// MaxUploadsPerInvitation.
func TestUploadsPerInvitation(t *testing.T) {
	e := newEnv(t, "file", func(c *Config) { c.MaxUploadsPerInvitation = 6 })
	ctx := context.Background()
	refused := func(tok string, n int) {
		t.Helper()
		r := e.create(e.srv.URL, tok, 100, goodMeta())
		want := fmt.Sprintf("%s: this invitation has already started %d uploads, failed and cancelled ones included", ErrCodeUploads, n)
		if r.status != http.StatusConflict || !strings.HasPrefix(r.body, want) {
			t.Fatalf("upload %d: %d %q; want 409 %q…", n+1, r.status, r.body, want)
		}
	}
	// Create and cancel, in a loop.
	tok, inv := e.invite("AD", "Civil Voice", time.Time{})
	for range 6 {
		url := e.mustCreate(e.srv.URL, tok, 100)
		if r := e.do("DELETE", url, tok, nil, nil); r.status != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
	}
	refused(tok, 6)
	if l, _ := e.st.ByInvitation(ctx, inv.ID); len(l) != 6 {
		t.Fatalf("%d statements, want 6", len(l))
	}
	// Uploads that arrive whole and fail processing, in a loop; one
	// statement stays live meanwhile.
	tok, _ = e.invite("AD", "Other Voice", time.Time{})
	e.mustCreate(e.srv.URL, tok, 100)
	for range 5 {
		url := e.mustCreate(e.srv.URL, tok, 100)
		if p := e.patch(url, tok, 0, randomBytes(100, 7)); p.status != http.StatusNoContent {
			t.Fatalf("PATCH: %d %s", p.status, p.body)
		}
		for _, to := range []presession.Status{presession.StatusProcessing, presession.StatusFailed} {
			if _, err := e.st.Transition(ctx, idOf(url), to, "worker", "the file has no video"); err != nil {
				t.Fatal(err)
			}
		}
	}
	refused(tok, 6)
}

// TestBytesPerInvitation: the declared sizes of an invitation's
// statements whose source storage holds, the new upload's included, stay
// within MaxInvitationBytes; a cancelled upload's bytes are free at once,
// a failed statement's once its retention has run out.
func TestBytesPerInvitation(t *testing.T) {
	e := newEnv(t, "file", func(c *Config) { c.MaxInvitationBytes = 10 << 20; c.FailedRetention = time.Second })
	ctx := context.Background()
	m := &refusals{}
	e.metrics = m
	_, srv := e.node()
	tok, _ := e.invite("AD", "Civil Voice", time.Time{})
	full := func(size int64, want string) {
		t.Helper()
		r := e.create(srv.URL, tok, size, goodMeta())
		if r.status != http.StatusRequestEntityTooLarge || !strings.HasPrefix(r.body, ErrCodeInvitationFull+": "+want) {
			t.Fatalf("%d bytes: %d %q; want 413 %q…", size, r.status, r.body, want)
		}
	}
	a := e.mustCreate(srv.URL, tok, 4<<20)
	e.mustCreate(srv.URL, tok, 4<<20)
	full(4<<20+1, "this file (4 MiB) does not fit in what one invitation may keep in storage: its uploads already take 8 MiB of 10 MiB")
	e.mustCreate(srv.URL, tok, 2<<20) // exactly at the cap
	if r := e.do("DELETE", a, tok, nil, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	c := e.mustCreate(srv.URL, tok, 4<<20) // in the cancelled one's room

	// A failed statement's file counts until it is deleted.
	if p := e.patch(c, tok, 0, randomBytes(4<<20, 8)); p.status != http.StatusNoContent {
		t.Fatalf("PATCH: %d %s", p.status, p.body)
	}
	for _, to := range []presession.Status{presession.StatusProcessing, presession.StatusFailed} {
		if _, err := e.st.Transition(ctx, idOf(c), to, "worker", "the file has no video"); err != nil {
			t.Fatal(err)
		}
	}
	full(4<<20, "this file (4 MiB) does not fit in what one invitation may keep in storage: its uploads already take 10 MiB of 10 MiB")
	time.Sleep(1100 * time.Millisecond)
	if res, err := e.svc.Sweep(ctx); err != nil || res.Expired != 1 {
		t.Fatalf("sweep: %+v %v", res, err)
	}
	e.mustCreate(srv.URL, tok, 4<<20)
	if n, tl := m.count(metrics.RefusedLimit), m.count(metrics.RefusedTooLarge); n != 2 || tl != 0 {
		t.Fatalf("refusals counted: %d limit, %d too large; want 2 limit", n, tl)
	}
}

// TestLifecycle: creation records the statement (uploading) with the
// token's session, country and organisation whatever the client sends;
// the last PATCH makes it uploaded and queued; the bytes are in storage.
func TestLifecycle(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			ctx := context.Background()
			tok, inv := e.invite("ad", "Civil Voice", time.Time{})
			data := randomBytes(12<<20+12345, 1)
			meta := goodMeta()
			meta["invitation"], meta["organisation"], meta["country"] = "someone-else", "Forged Org", "US"
			r := e.create(e.srv.URL, tok, int64(len(data)), meta)
			if r.status != 201 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			url := r.header.Get("Location")
			id := idOf(url)
			st := e.statement(id)
			want := presession.Statement{ID: id, Session: "t36", Country: "AD", Organisation: "Civil Voice", InvitationID: inv.ID,
				Title: "Freedom of expression", Speaker: "A. Speaker", Language: "en", Filename: "statement.mp4", Filetype: "video/mp4",
				Size: int64(len(data)), SourceKey: "uploads/" + id, Status: presession.StatusUploading}
			got := *st
			got.CreatedAt, got.UpdatedAt, got.History = time.Time{}, time.Time{}, nil
			if got.ID != want.ID || got.Session != want.Session || got.Country != want.Country || got.Organisation != want.Organisation ||
				got.InvitationID != want.InvitationID || got.Title != want.Title || got.Speaker != want.Speaker || got.Language != want.Language ||
				got.Filename != want.Filename || got.Filetype != want.Filetype || got.Size != want.Size || got.SourceKey != want.SourceKey || got.Status != want.Status {
				t.Fatalf("statement after create:\n got %+v\nwant %+v", got, want)
			}
			if h := e.do("HEAD", url, tok, nil, nil); h.status != 200 || h.header.Get("Upload-Offset") != "0" ||
				!strings.Contains(h.header.Get("Upload-Metadata"), "invitation "+b64(inv.ID)) {
				t.Fatalf("HEAD: %d %v", h.status, h.header)
			}
			half := int64(7 << 20)
			if p := e.patch(url, tok, 0, data[:half]); p.status != 204 || p.header.Get("Upload-Offset") != strconv.FormatInt(half, 10) {
				t.Fatalf("PATCH 1: %d %s %v", p.status, p.body, p.header)
			}
			if st := e.statement(id); st.Status != presession.StatusUploading {
				t.Fatalf("after half: %s", st.Status)
			}
			if p := e.patch(url, tok, half, data[half:]); p.status != 204 {
				t.Fatalf("PATCH 2: %d %s", p.status, p.body)
			}
			st = e.statement(id)
			if st.Status != presession.StatusUploaded || st.UploadedAt.IsZero() || !e.proc.queued(ctx, id) {
				t.Fatalf("after last PATCH: status %s, uploaded at %v, queued %v", st.Status, st.UploadedAt, e.proc.queued(ctx, id))
			}
			if sum(e.stored(id)) != sum(data) {
				t.Fatal("stored bytes differ from the source")
			}
			// A repeated final PATCH and HEADs change nothing.
			e.patch(url, tok, int64(len(data)), nil)
			if h := e.do("HEAD", url, tok, nil, nil); h.header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
				t.Fatalf("HEAD after finish: %v", h.header)
			}
			if st := e.statement(id); st.Status != presession.StatusUploaded || len(st.History) != 2 {
				t.Errorf("after repeats: %s, %d events", st.Status, len(st.History))
			}
			// A finished upload cannot be cancelled: it is the statement's source.
			if d := e.do("DELETE", url, tok, nil, nil); d.status != http.StatusConflict {
				t.Fatalf("DELETE finished: %d %s", d.status, d.body)
			}
			if sum(e.stored(id)) != sum(data) {
				t.Fatal("stored bytes changed")
			}
			// GET is not served: nobody downloads sources here.
			if g := e.do("GET", url, tok, nil, nil); g.status != http.StatusMethodNotAllowed {
				t.Fatalf("GET: %d", g.status)
			}
		})
	}
}

func b64(s string) string {
	return strings.TrimSpace(strings.Split(encodeMeta(map[string]string{"x": s}), " ")[1])
}

// TestOtherInvitation: requests on an upload with another invitation's
// token, or no token, never touch it.
func TestOtherInvitation(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			tok, _ := e.invite("AD", "Civil Voice", time.Time{})
			other, _ := e.invite("AD", "Other Org", time.Time{})
			url := e.mustCreate(e.srv.URL, tok, 1000)
			e.patch(url, tok, 0, randomBytes(500, 2))
			for _, m := range []string{"HEAD", "PATCH", "DELETE"} {
				hdr := map[string]string{"Upload-Offset": "500", "Content-Type": "application/offset+octet-stream"}
				if r := e.do(m, url, other, hdr, []byte("evil")); r.status != 404 {
					t.Errorf("%s with another invitation: %d %s", m, r.status, r.body)
				}
				if r := e.do(m, url, "", hdr, []byte("evil")); r.status != 401 {
					t.Errorf("%s without token: %d %s", m, r.status, r.body)
				}
			}
			for _, bad := range []string{"0123456789abcdef", "../../etc/passwd", idOf(url) + "+forged", "x"} {
				if r := e.do("HEAD", e.srv.URL+"/files/"+bad, tok, nil, nil); r.status != 404 {
					t.Errorf("HEAD %s: %d", bad, r.status)
				}
			}
			if h := e.do("HEAD", url, tok, nil, nil); h.header.Get("Upload-Offset") != "500" {
				t.Fatalf("offset changed: %v", h.header)
			}
		})
	}
}

// TestCancel: DELETE of an unfinished upload removes it and fails its
// statement.
func TestCancel(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			tok, _ := e.invite("AD", "Civil Voice", time.Time{})
			url := e.mustCreate(e.srv.URL, tok, 8<<20)
			e.patch(url, tok, 0, randomBytes(6<<20, 3))
			if l := e.leftovers(); kind == "s3" && !slices.Contains(l, "multipart:uploads/"+idOf(url)) {
				t.Fatalf("no multipart upload before the DELETE: %v", l)
			}
			if r := e.do("DELETE", url, tok, nil, nil); r.status != 204 {
				t.Fatalf("DELETE: %d %s", r.status, r.body)
			}
			st := e.statement(idOf(url))
			if st.Status != presession.StatusFailed || !strings.Contains(st.Reason, "cancelled") || st.ReasonKey != "reason.upload_cancelled" {
				t.Fatalf("statement: %s %q", st.Status, st.Reason)
			}
			if st.SourceDeletedAt.IsZero() {
				t.Fatal("the statement does not record that its bytes were deleted")
			}
			if r := e.do("HEAD", url, tok, nil, nil); r.status != 404 {
				t.Fatalf("HEAD after DELETE: %d", r.status)
			}
			if l := e.leftovers(); len(l) != 0 {
				t.Fatalf("left in storage: %v", l)
			}
		})
	}
}

// TestRecordingFailure: when the catalog fails at the last PATCH, the
// client hears 503 and nothing is lost: its retry (HEAD) records the
// statement; if the client never comes back, the sweep does, even when
// the statement record itself is gone.
func TestRecordingFailure(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			ctx := context.Background()
			tok, _ := e.invite("AD", "Civil Voice", time.Time{})
			data := randomBytes(3<<20, 4)

			url := e.mustCreate(e.srv.URL, tok, int64(len(data)))
			id := idOf(url)
			e.st.fail.Store(true)
			p := e.patch(url, tok, 0, data)
			e.st.fail.Store(false)
			if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, ErrCodeNotRecorded) {
				t.Fatalf("PATCH with the catalog down: %d %s", p.status, p.body)
			}
			if st := e.statement(id); st.Status != presession.StatusUploading {
				t.Fatalf("status %s", st.Status)
			}
			h := e.do("HEAD", url, tok, nil, nil)
			if h.header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
				t.Fatalf("HEAD: %v", h.header)
			}
			if st := e.statement(id); st.Status != presession.StatusUploaded || !e.proc.queued(ctx, id) {
				t.Fatalf("after HEAD: %s queued=%v", st.Status, e.proc.queued(ctx, id))
			}

			// The queue fails: the statement is uploaded but not queued.
			url2 := e.mustCreate(e.srv.URL, tok, int64(len(data)))
			id2 := idOf(url2)
			e.proc.fail.Store(true)
			if p := e.patch(url2, tok, 0, data); p.status != 503 {
				t.Fatalf("PATCH with the queue down: %d", p.status)
			}
			e.proc.fail.Store(false)
			// And the record is lost altogether (Redis flushed): the sweep
			// rebuilds it from the upload's metadata.
			url3 := e.mustCreate(e.srv.URL, tok, int64(len(data)))
			id3 := idOf(url3)
			e.st.fail.Store(true)
			e.patch(url3, tok, 0, data)
			e.st.fail.Store(false)
			e.rdb.Del(ctx, "st:"+id3)

			res, err := e.svc.Sweep(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Finished != 1 { // id2 was uploaded already: only queued again
				t.Errorf("sweep: %+v", res)
			}
			for _, id := range []string{id2, id3} {
				st := e.statement(id)
				if st.Status != presession.StatusUploaded || !e.proc.queued(ctx, id) || st.Organisation != "Civil Voice" || st.Title == "" {
					t.Fatalf("%s after sweep: %+v queued=%v", id, st, e.proc.queued(ctx, id))
				}
				if sum(e.stored(id)) != sum(data) {
					t.Fatal("stored bytes differ")
				}
			}
		})
	}
}

// TestSweepAbandoned: an upload with no write for AbandonedUploadAge is
// removed (S3 multipart aborted) and its statement failed; fresh and
// finished uploads stay.
func TestSweepAbandoned(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind, func(c *Config) { c.AbandonedUploadAge = 2 * time.Second })
			ctx := context.Background()
			tok, _ := e.invite("AD", "Civil Voice", time.Time{})
			old := e.mustCreate(e.srv.URL, tok, 12<<20)
			e.patch(old, tok, 0, randomBytes(7<<20, 5)) // a part and a tail
			done := e.mustCreate(e.srv.URL, tok, 1000)
			e.patch(done, tok, 0, randomBytes(1000, 6))
			// A statement whose upload never came into being (a crash
			// between the two).
			orphan := newStatement("0123456789abcdef", 1000, handler.MetaData{metaInvitation: "x", "title": "orphan"}, time.Now())
			if err := e.st.Create(ctx, orphan); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2100 * time.Millisecond)
			fresh := e.mustCreate(e.srv.URL, tok, 1000)

			before := e.leftovers()
			res, err := e.svc.Sweep(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Abandoned != 2 || res.Seen != 3 {
				t.Fatalf("sweep: %+v (storage before: %v)", res, before)
			}
			st := e.statement(idOf(old))
			if st.Status != presession.StatusFailed || !strings.Contains(st.Reason, "upload abandoned") || !strings.HasPrefix(st.ReasonKey, "reason.upload_abandoned") {
				t.Fatalf("abandoned statement: %s %q (%s)", st.Status, st.Reason, st.ReasonKey)
			}
			if st.SourceDeletedAt.IsZero() {
				t.Fatal("the abandoned statement does not record that its bytes were deleted")
			}
			if st := e.statement(orphan.ID); st.Status != presession.StatusFailed || st.ReasonKey != "reason.upload_never_started" || st.SourceDeletedAt.IsZero() {
				t.Fatalf("orphan statement: %s (%s), source deleted at %v", st.Status, st.ReasonKey, st.SourceDeletedAt)
			}
			for _, l := range e.leftovers() {
				if strings.Contains(l, idOf(old)) {
					t.Errorf("left in storage: %s", l)
				}
			}
			if s := e.statement(idOf(done)).Status; s != presession.StatusUploaded {
				t.Errorf("finished: %s", s)
			}
			if r := e.do("HEAD", fresh, tok, nil, nil); r.status != 200 {
				t.Errorf("fresh upload: %d", r.status)
			}
			if r := e.do("HEAD", old, tok, nil, nil); r.status != 404 {
				t.Errorf("abandoned upload: HEAD %d", r.status)
			}
		})
	}
}

// TestFailedRetention: the sweep deletes the source of a statement failed
// for FailedRetention, with tusd's files of its upload; the statement
// stays failed with its reason, says the file was deleted, and can no
// longer be re-run. Sources of statements failed more recently, or not
// failed, stay.
func TestFailedRetention(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind, func(c *Config) { c.FailedRetention = time.Second })
			ctx := context.Background()
			tok, _ := e.invite("AD", "Civil Voice", time.Time{})
			upload := func(seed uint64) string {
				url := e.mustCreate(e.srv.URL, tok, 1000)
				if p := e.patch(url, tok, 0, randomBytes(1000, seed)); p.status != 204 {
					t.Fatalf("PATCH: %d %s", p.status, p.body)
				}
				return idOf(url)
			}
			fail := func(id string) { // as the worker fails one
				for _, to := range []presession.Status{presession.StatusProcessing, presession.StatusFailed} {
					if _, err := e.st.Transition(ctx, id, to, "worker", "the file has no video", presession.Message{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			old, fresh, good := upload(11), upload(12), upload(13)
			fail(old)
			time.Sleep(1100 * time.Millisecond)
			fail(fresh)
			res, err := e.svc.Sweep(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Expired != 1 {
				t.Fatalf("sweep: %+v", res)
			}
			for _, l := range e.leftovers() {
				if strings.Contains(l, old) {
					t.Errorf("left in storage: %s", l)
				}
			}
			st := e.statement(old)
			if st.Status != presession.StatusFailed || st.Reason != "the file has no video" || st.SourceDeletedAt.IsZero() ||
				len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "the uploaded file was deleted on") || !strings.Contains(st.Warnings[0], "kept for 1s") {
				t.Fatalf("expired statement: %s %q, deleted at %v, warnings %q", st.Status, st.Reason, st.SourceDeletedAt, st.Warnings)
			}
			if _, err := e.st.Transition(ctx, old, presession.StatusUploaded, "staff", ""); presession.ErrorCode(err) != presession.EGONE {
				t.Fatalf("re-run of an expired statement: %v", err)
			}
			for _, id := range []string{fresh, good} {
				if sum(e.stored(id)) != sum(randomBytes(1000, map[string]uint64{fresh: 12, good: 13}[id])) {
					t.Fatalf("%s: stored bytes changed", id)
				}
				if st := e.statement(id); !st.SourceDeletedAt.IsZero() {
					t.Fatalf("%s: source deleted at %v", id, st.SourceDeletedAt)
				}
			}
			if res, err := e.svc.Sweep(ctx); err != nil || res.Expired != 0 {
				t.Fatalf("second sweep: %+v %v", res, err)
			}
			if st := e.statement(old); len(st.Warnings) != 1 {
				t.Fatalf("warnings after a second sweep: %q", st.Warnings)
			}
		})
	}
}

// TestRefusalsTranslated: with a Localizer (main passes the web.Site), the
// endpoint's refusals keep their tus code and status and say why in the
// request's language, country names and deadlines included; without the
// header the request gets English.
func TestRefusalsTranslated(t *testing.T) {
	e := newEnv(t, "file")
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	site, err := web.NewSite(testSessions(), bundle, &web.Auth{Signer: e.signer}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	e.localizer = site
	e.cfg.MaxInvitationBytes = 100 << 20
	_, srv := e.node()
	tok, _ := e.invite("AD", "Civil Voice", time.Time{})
	bgTok, _ := e.invite("BG", "Civil Voice", time.Time{})
	meta := func(k, v string) map[string]string {
		m := goodMeta()
		m[k] = v
		return m
	}
	long := meta("comment", strings.Repeat("x", 9<<10))
	longSize := int64(len(encodeMeta(long)))
	for _, c := range []struct {
		name   string
		tok    string
		size   int64
		meta   map[string]string
		status int
		code   string
		want   map[string]string
	}{
		{"no token", "", 100, goodMeta(), 401, ErrCodeUnauthorized, map[string]string{
			"": "this upload needs the invitation token", "fr": "cet envoi exige le jeton d'invitation", "es": "este envío necesita el token de invitación"}},
		{"forged token", tok[:len(tok)-4] + "AAAA", 100, goodMeta(), 401, ErrCodeUnauthorized, map[string]string{
			"": "The link's token is not valid", "fr": "Le jeton du lien n'est pas valide", "es": "El token del enlace no es válido"}},
		{"closed", bgTok, 100, goodMeta(), 403, ErrCodeClosed, map[string]string{
			"":   "uploads for Bulgaria in UPR Pre-session T closed on 20 May 2020, 23:59 UTC",
			"fr": "les envois pour Bulgarie dans UPR Pre-session T ont pris fin le 20 mai 2020, 23:59 UTC",
			"es": "los envíos para Bulgaria en UPR Pre-session T se cerraron el 20 de mayo de 2020, 23:59 UTC"}},
		{"too large", tok, 65 << 20, goodMeta(), 413, ErrCodeTooLarge, map[string]string{
			"": "the largest accepted upload is 64 MiB", "fr": "l'envoi le plus grand accepté est de 64 Mio", "es": "el envío más grande aceptado es de 64 MiB"}},
		{"language", tok, 100, meta("language", "de"), 400, ErrCodeLanguage, map[string]string{
			"": `accepted in en, fr, es only, not "de"`, "fr": `acceptées en en, fr, es seulement, pas en "de"`, "es": `solo se aceptan en en, fr, es, no en "de"`}},
		{"metadata header", tok, 100, long, 400, ErrCodeMetadata, map[string]string{
			"":   "the Upload-Metadata header is " + i18n.Bytes("en", longSize) + ", more than the 8 KiB allowed",
			"fr": "l'en-tête Upload-Metadata fait " + i18n.Bytes("fr", longSize) + ", plus que les 8 Kio permis",
			"es": "el encabezado Upload-Metadata ocupa " + i18n.Bytes("es", longSize) + ", más de los 8 KiB permitidos"}},
		{"file type", tok, 100, meta("filename", "notes.pdf"), 400, ErrCodeFileType, map[string]string{
			"": `"notes.pdf" is not a video file we accept`, "fr": `"notes.pdf" n'est pas un fichier vidéo accepté`, "es": `"notes.pdf" no es un archivo de vídeo aceptado`}},
	} {
		for lang, want := range c.want {
			hdr := map[string]string{"Upload-Metadata": encodeMeta(c.meta), "Upload-Length": strconv.FormatInt(c.size, 10)}
			if lang != "" {
				hdr["Accept-Language"] = lang + "-CH, " + lang + ";q=0.9"
			}
			r := e.do("POST", srv.URL+"/files/", c.tok, hdr, nil)
			if r.status != c.status || !strings.HasPrefix(r.body, c.code+": ") || !strings.Contains(r.body, want) {
				t.Errorf("%s (%s): %d %q; want %d %s: …%s…", c.name, lang, r.status, r.body, c.status, c.code, want)
			}
			if wantLang := cmp.Or(lang, "en"); r.header.Get("Content-Language") != wantLang {
				t.Errorf("%s (%s): Content-Language %q", c.name, lang, r.header.Get("Content-Language"))
			}
		}
	}
	// The limit is refused in the hook, after the lock: in French too.
	for range 3 {
		e.mustCreate(srv.URL, tok, 100)
	}
	r := e.do("POST", srv.URL+"/files/", tok, map[string]string{"Upload-Metadata": encodeMeta(goodMeta()), "Upload-Length": "100", "Accept-Language": "fr"}, nil)
	if r.status != 409 || !strings.HasPrefix(r.body, ErrCodeLimit+": cette invitation compte déjà 3 déclarations") || !strings.Contains(r.body, "pour Andorre") {
		t.Errorf("limit in French: %d %q", r.status, r.body)
	}
	// So are the limits of uploads and of bytes, in French and Spanish,
	// the sizes written as each language writes them.
	post := func(tok string, size int, lang string) tusResp {
		return e.do("POST", srv.URL+"/files/", tok, map[string]string{"Upload-Metadata": encodeMeta(goodMeta()),
			"Upload-Length": strconv.Itoa(size), "Accept-Language": lang}, nil)
	}
	started, _ := e.invite("AD", "Busy Voice", time.Time{})
	for range 10 {
		if r := e.do("DELETE", e.mustCreate(srv.URL, started, 100), started, nil, nil); r.status != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
	}
	for lang, want := range map[string]string{
		"fr": "cette invitation a déjà lancé 10 envois, échoués et annulés compris",
		"es": "esta invitación ya ha iniciado 10 envíos, incluidos los fallidos y los cancelados",
	} {
		if r := post(started, 100, lang); r.status != 409 || !strings.HasPrefix(r.body, ErrCodeUploads+": "+want) || r.header.Get("Content-Language") != lang {
			t.Errorf("uploads limit in %s: %d %q", lang, r.status, r.body)
		}
	}
	big, _ := e.invite("AD", "Big Voice", time.Time{})
	e.mustCreate(srv.URL, big, 60<<20)
	for lang, want := range map[string]string{
		"fr": "ce fichier (40,5 Mio) dépasse ce qu'une invitation peut conserver : ses envois occupent déjà 60 Mio sur 100 Mio",
		"es": "este archivo (40,5 MiB) no cabe en lo que una invitación puede guardar: sus envíos ya ocupan 60 MiB de 100 MiB",
	} {
		if r := post(big, 40<<20+512<<10, lang); r.status != 413 || !strings.HasPrefix(r.body, ErrCodeInvitationFull+": "+want) {
			t.Errorf("bytes limit in %s: %d %q", lang, r.status, r.body)
		}
	}
}
