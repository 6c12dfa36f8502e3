package playlist

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
)

func TestMain(m *testing.M) {
	code := m.Run()
	mediaCache.Range(func(_, v any) bool {
		os.RemoveAll(v.(string))
		return true
	})
	os.Exit(code)
}

type resp struct {
	status int
	header http.Header
	body   string
}

// get fetches path (with an optional bearer) without following redirects.
func (e *env) get(path, bearer string, hdr ...string) resp {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}
}

// threeStatements stores three approved statements on Andorra; the second
// has only the lower rung.
func threeStatements(t *testing.T, e *env) []*presession.Statement {
	a := genStatement(t, e.store, "s1", "AD", 4, clipHi, clipLo)
	b := genStatement(t, e.store, "s2", "AD", 3, clipLo)
	c := genStatement(t, e.store, "s3", "AD", 4, clipHi, clipLo)
	for _, s := range []*presession.Statement{a, b, c} {
		e.cat.Put(s)
	}
	return []*presession.Statement{a, b, c}
}

func ffprobeDuration(t *testing.T, url string) float64 {
	t.Helper()
	cmd := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, stderr.String())
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q", out)
	}
	return d
}

// decodedFrames counts the video frames ffmpeg decodes from url.
func decodedFrames(t *testing.T, url string) int {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", url, "-map", "0:v:0", "-f", "framecrc", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg framecrc: %v", err)
	}
	n := 0
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && l[0] != '#' {
			n++
		}
	}
	return n
}

// videoPackets counts the video packets of url without decoding them.
func videoPackets(t *testing.T, url string) int {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts", "-of", "csv=p=0", url).Output()
	if err != nil {
		t.Fatalf("ffprobe packets: %v", err)
	}
	return strings.Count(string(out), "\n")
}

func TestStreamDecodesOverHTTP(t *testing.T) {
	e := newEnv(t, nil)
	list := threeStatements(t, e)
	e.rebuild("upr36", "AD")
	key := e.viewer("upr36", "AD", time.Hour)
	master := e.srv.URL + "/playlists/upr36/AD/master.m3u8?key=" + key

	// The JSON playlist.
	r := e.get("/playlists/upr36/ad.json?key="+key, "")
	if r.status != 200 {
		t.Fatalf("json: %d %s", r.status, r.body)
	}
	var doc Playlist
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatal(err)
	}
	var sum float64
	for i, it := range doc.Statements {
		if it.ID != list[i].ID || !strings.HasSuffix(it.MP4, "?key="+key) {
			t.Errorf("item %d: %+v", i, it)
		}
		sum += it.Duration
	}
	if len(doc.Statements) != 3 || doc.Country.Name != "Andorra" || doc.Session.ID != "upr36" {
		t.Fatalf("playlist %+v", doc)
	}

	// ffmpeg decodes the whole stream, every URI carrying the key (the
	// server refuses any request without it).
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", master, "-map", "0:v:0", "-map", "0:a:0", "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("ffmpeg decode: %v\n%s", err, out)
	}
	// …and decodes every frame: the timeline runs on across the
	// boundaries (later statements' segments are shifted), so ffmpeg's
	// HLS reader, which keeps the first init segment, drops nothing.
	if dec, pk := decodedFrames(t, master), videoPackets(t, master); dec != pk || pk < 250 {
		t.Errorf("ffmpeg decoded %d of %d video frames", dec, pk)
	}
	if d := ffprobeDuration(t, master); d < sum-0.5 || d > sum+0.5 || d < 10.5 {
		t.Errorf("stream lasts %.3f s, statements %.3f s", d, sum)
	}
	// Each rung decodes on its own too.
	for _, rung := range []string{"360p", "240p"} {
		u := e.srv.URL + "/playlists/upr36/AD/" + rung + ".m3u8?key=" + key
		if d := ffprobeDuration(t, u); d < sum-0.5 || d > sum+0.5 {
			t.Errorf("%s lasts %.3f s, want %.3f", rung, d, sum)
		}
	}

	// The playlists are valid, keyed, and agree.
	m := e.get("/playlists/upr36/AD/master.m3u8?key="+key, "")
	mi, err := checkMaster(m.body)
	if err != nil {
		t.Fatalf("master: %v\n%s", err, m.body)
	}
	if m.header.Get("Content-Type") != "application/vnd.apple.mpegurl" {
		t.Errorf("master content type %s", m.header.Get("Content-Type"))
	}
	for _, md := range mi.media {
		uri := unquote(md["URI"])
		sub := e.get("/playlists/upr36/AD/"+uri, "")
		info, err := checkMedia(sub.body)
		if err != nil {
			t.Fatalf("%s: %v\n%s", uri, err, sub.body)
		}
		if len(info.segments) != 3 {
			t.Errorf("%s: %d segments", uri, len(info.segments))
		}
		for i, s := range info.segments {
			v := e.get("/playlists/upr36/AD/subs/"+s.uri, "")
			// The statement's cues map to its start in the (continuous) stream.
			ts := fmt.Sprintf("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:%d,LOCAL:00:00:00.000\n", int64(math.Round(doc.Statements[i].Start*90000)))
			if v.status != 200 || !strings.HasPrefix(v.body, ts) ||
				v.header.Get("Content-Type") != "text/vtt; charset=utf-8" {
				t.Errorf("%s: %d %q", s.uri, v.status, v.body)
			}
			if unquote(md["LANGUAGE"]) == "en" && !strings.Contains(v.body, "CAP-"+list[i].ID) {
				t.Errorf("%s: %q lacks the statement's caption", s.uri, v.body)
			}
		}
		// ffmpeg reads the subtitle playlist as WebVTT over HTTP.
		out, err := exec.Command("ffmpeg", "-v", "error", "-i", e.srv.URL+"/playlists/upr36/AD/"+uri, "-f", "webvtt", "-").CombinedOutput()
		if err != nil {
			t.Errorf("ffmpeg reads %s: %v\n%s", uri, err, out)
		}
	}
	track := e.get("/playlists/upr36/AD/captions/en.vtt?key="+key, "")
	for i, it := range doc.Statements {
		want := vttTime(it.Start+0.3) + " --> " + vttTime(it.Start+1.5) + "\nCAP-" + list[i].ID
		if !strings.Contains(track.body, want) {
			t.Errorf("whole-stream track lacks %q:\n%s", want, track.body)
		}
	}
	// ETag and 304.
	if tag := m.header.Get("ETag"); tag == "" || e.get("/playlists/upr36/AD/master.m3u8?key="+key, "", "If-None-Match", tag).status != 304 {
		t.Errorf("no 304 for ETag %q", tag)
	}
	if cc := m.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=5") {
		t.Errorf("playlist Cache-Control %q", cc)
	}
	seg := e.get("/media/s1/hls/360p/seg_00000.m4s?key="+key, "", "Range", "bytes=0-99")
	if seg.status != 206 || len(seg.body) != 100 || seg.header.Get("Content-Type") != "video/iso.segment" || !strings.Contains(seg.header.Get("Cache-Control"), "immutable") {
		t.Errorf("segment range: %d %d bytes %v", seg.status, len(seg.body), seg.header)
	}
}

func TestRebuildFollowsTheCatalog(t *testing.T) {
	e := newEnv(t, nil)
	threeStatements(t, e)
	e.rebuild("upr36", "AD")
	key := e.viewer("upr36", "", time.Hour)
	ids := func() []string {
		r := e.get("/playlists/upr36/AD.json?key="+key, "")
		var doc Playlist
		json.Unmarshal([]byte(r.body), &doc)
		var out []string
		for _, it := range doc.Statements {
			out = append(out, it.ID)
		}
		return out
	}
	discs := func() int {
		r := e.get("/playlists/upr36/AD/240p.m3u8?key="+key, "")
		info, err := checkMedia(r.body)
		if err != nil {
			if len(ids()) == 0 {
				return -1
			}
			t.Fatalf("%v\n%s", err, r.body)
		}
		return len(info.discontinuities)
	}
	if got := strings.Join(ids(), ","); got != "s1,s2,s3" || discs() != 2 {
		t.Fatalf("initial: %s", got)
	}
	stat := func() storage.ObjectInfo {
		oi, err := e.store.Stat(context.Background(), BuildKey("upr36", "AD"))
		if err != nil {
			t.Fatal(err)
		}
		return oi
	}
	before := stat()
	e.rebuild("upr36", "AD") // nothing changed: nothing written
	if after := stat(); after.ETag != before.ETag || !after.ModTime.Equal(before.ModTime) {
		t.Error("an unchanged rebuild rewrote the build")
	}
	v1, n, changed, err := e.rb.RebuildVersion(context.Background(), "upr36", "AD")
	if err != nil || changed || v1 == "" || n != 3 {
		t.Errorf("unchanged RebuildVersion: %q %d %v %v", v1, n, changed, err)
	}

	if err := e.cat.SetOrder(context.Background(), "upr36", "AD", []string{"s3", "s1", "s2"}, "staff"); err != nil {
		t.Fatal(err)
	}
	if v2, n, changed, err := e.rb.RebuildVersion(context.Background(), "upr36", "AD"); err != nil || !changed || v2 == v1 || n != 3 {
		t.Errorf("RebuildVersion after a reorder: %q %d %v %v (before %q)", v2, n, changed, err, v1)
	}
	if got := strings.Join(ids(), ","); got != "s3,s1,s2" {
		t.Errorf("after reorder: %s", got)
	}
	e.move("s1", presession.StatusReady, presession.StatusRejected)
	e.rebuild("upr36", "AD")
	if got := strings.Join(ids(), ","); got != "s3,s2" || discs() != 1 {
		t.Errorf("after reject: %s", got)
	}
	if r := e.get("/media/s1/hls/360p/seg_00000.m4s?key="+key, ""); r.status != 404 {
		t.Errorf("rejected statement's segment: %d", r.status)
	}
	e.move("s2", presession.StatusReady)
	e.move("s3", presession.StatusReady)
	e.rebuild("upr36", "AD")
	if got := ids(); len(got) != 0 {
		t.Errorf("after reopening all: %v", got)
	}
	r := e.get("/playlists/upr36/AD/master.m3u8?key="+key, "")
	if r.status != 404 || !strings.Contains(r.body, `"code":"not_found"`) {
		t.Errorf("empty master: %d %s", r.status, r.body)
	}
	e.move("s2", presession.StatusApproved)
	e.rebuild("upr36", "AD")
	if got := strings.Join(ids(), ","); got != "s2" || discs() != 0 {
		t.Errorf("after approving one: %s", got)
	}
}

func TestEmptyCountry(t *testing.T) {
	e := newEnv(t, nil)
	key := e.viewer("upr36", "", time.Hour)
	// Never built, then built with nothing approved: the same answers.
	for _, built := range []bool{false, true} {
		if built {
			e.rebuild("upr36", "MW")
		}
		r := e.get("/playlists/upr36/MW.json?key="+key, "")
		if r.status != 200 || !strings.Contains(r.body, `"statements":[]`) || !strings.Contains(r.body, `"duration":0`) {
			t.Errorf("built=%v json: %d %s", built, r.status, r.body)
		}
		if r := e.get("/playlists/upr36/MW/master.m3u8?key="+key, ""); r.status != 404 || !strings.Contains(r.body, "approved") {
			t.Errorf("built=%v master: %d %s", built, r.status, r.body)
		}
		if r := e.get("/watch/upr36/MW?key="+key, ""); r.status != 200 || !strings.Contains(r.body, "has been approved yet") {
			t.Errorf("built=%v watch: %d", built, r.status)
		}
	}
	if r := e.get("/playlists/upr36/ZZ.json?key="+key, ""); r.status != 404 {
		t.Errorf("unknown country: %d", r.status)
	}
}

func TestAccessMatrix(t *testing.T) {
	e := newEnv(t, nil)
	a := genStatement(t, e.store, "ok1", "AD", 3, clipLo)
	e.cat.Put(a)
	states := map[string]presession.Status{"rej": presession.StatusRejected, "rdy": presession.StatusReady, "fail": presession.StatusFailed}
	for id, st := range states {
		s := genStatement(t, e.store, id, "AD", 3, clipLo)
		s.Status = st
		e.cat.Put(s)
	}
	bg := genStatement(t, e.store, "bg1", "BG", 3, clipLo)
	e.cat.Put(bg)
	e.rebuild("upr36", "AD")
	e.rebuild("upr36", "BG")

	invOwn, _ := e.signer.SignInvitation(token.Invitation{ID: "inv-rej", Session: "upr36", Country: "AD", Organisation: "Org rej"})
	invOther, _ := e.signer.SignInvitation(token.Invitation{ID: "inv-zzz", Session: "upr36", Country: "AD", Organisation: "Other"})
	type cred struct{ query, bearer string }
	creds := map[string]cred{
		"none":         {},
		"staff":        {bearer: e.staff},
		"viewer":       {query: "key=" + e.viewer("upr36", "", time.Hour)},
		"viewer-AD":    {query: "key=" + e.viewer("upr36", "AD", time.Hour)},
		"viewer-BG":    {query: "key=" + e.viewer("upr36", "BG", time.Hour)},
		"viewer-other": {query: "key=" + e.viewer("upr99", "", time.Hour)},
		"expired":      {query: "key=" + e.viewer("upr36", "", -time.Minute)},
		"forged":       {query: "key=" + e.viewer("upr36", "", time.Hour) + "x"},
		"cso-own":      {bearer: invOwn},
		"cso-other":    {bearer: invOther},
		"cso-query":    {query: "token=" + invOwn},
	}
	playlistRoutes := []string{"/playlists/upr36/AD.json", "/playlists/upr36/AD/master.m3u8", "/playlists/upr36/AD/240p.m3u8",
		"/playlists/upr36/AD/subs/fr.m3u8", "/playlists/upr36/AD/subs/fr/ok1.vtt", "/playlists/upr36/AD/captions/en.vtt", "/watch/upr36/AD"}
	mediaOf := func(id string) []string {
		return []string{"/media/" + id + "/hls/240p/seg_00000.m4s", "/media/" + id + "/hls/240p/init.mp4", "/media/" + id + "/hls/240p/index.m3u8",
			"/media/" + id + "/hls/master.m3u8", "/media/" + id + "/download.mp4", "/media/" + id + "/poster.jpg", "/media/" + id + "/thumb.jpg",
			"/media/" + id + "/captions/fr.vtt"}
	}
	// Expected status per credential for: AD playlists, approved AD media,
	// unapproved AD media (rej/rdy/fail), approved BG media.
	want := map[string][4]int{
		"none":         {401, 401, 401, 401},
		"staff":        {200, 200, 200, 200},
		"viewer":       {200, 200, 404, 200},
		"viewer-AD":    {200, 200, 404, 404},
		"viewer-BG":    {403, 404, 404, 200},
		"viewer-other": {403, 404, 404, 404},
		"expired":      {401, 401, 401, 401},
		"forged":       {401, 401, 401, 401},
		"cso-own":      {403, 404, 200, 404}, // owns "rej" only
		"cso-other":    {403, 404, 404, 404},
		"cso-query":    {403, 404, 200, 404},
	}
	with := func(path string, c cred) string {
		if c.query == "" {
			return path
		}
		return path + "?" + c.query
	}
	for name, c := range creds {
		t.Run(name, func(t *testing.T) {
			w := want[name]
			check := func(path string, status int) {
				t.Helper()
				r := e.get(with(path, c), c.bearer)
				got := r.status
				if got == 206 || got == 302 {
					got = 200
				}
				if got != status {
					t.Errorf("%s: %d, want %d (%s)", path, r.status, status, strings.TrimSpace(r.body[:min(len(r.body), 200)]))
				}
				if status >= 400 && !strings.Contains(r.body, `"error"`) {
					t.Errorf("%s: error without a JSON body: %q", path, r.body)
				}
			}
			for _, p := range playlistRoutes {
				check(p, w[0])
			}
			for _, p := range mediaOf("ok1") {
				check(p, w[1])
			}
			for id := range states {
				st := w[2]
				if name == "cso-own" || name == "cso-query" {
					if id != "rej" {
						st = 404
					}
				}
				for _, p := range mediaOf(id) {
					check(p, st)
				}
			}
			for _, p := range mediaOf("bg1") {
				check(p, w[3])
			}
			// The original upload and unknown files are never served.
			for _, p := range []string{"/media/ok1/_/uploads/ok1/source.mp4", "/media/ok1/../../uploads/ok1/source.mp4", "/media/ok1/source.mp4", "/media/nope/poster.jpg"} {
				r := e.get(with(p, c), c.bearer)
				if r.status == 200 || r.status == 206 || r.status == 302 || strings.Contains(r.body, "ORIGINAL") {
					t.Errorf("%s: %d %q", p, r.status, r.body)
				}
			}
		})
	}
	// A viewer's playlists carry the key; the JSON too.
	k := e.viewer("upr36", "AD", time.Hour)
	r := e.get("/playlists/upr36/AD/240p.m3u8?key="+k, "")
	if !strings.Contains(r.body, "init.mp4?key="+k) {
		t.Errorf("rung playlist without the key:\n%s", r.body)
	}
	r = e.get("/media/ok1/hls/master.m3u8?key="+k, "")
	if !strings.Contains(r.body, "240p/index.m3u8?key="+k) {
		t.Errorf("statement master without the key:\n%s", r.body)
	}
	// The watch page remembers the key in a cookie that then suffices.
	r = e.get("/watch/upr36/AD?key="+k, "")
	var cookie string
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "presession_view" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatal("the watch page set no viewer cookie")
	}
	if r := e.get("/media/ok1/hls/240p/seg_00000.m4s", "", "Cookie", cookie); r.status != 200 {
		t.Errorf("segment with the viewer cookie: %d", r.status)
	}
}

// TestS3Media serves media from S3: segments, init segments and images
// from the app's own origin (Chromium's native HLS refuses a segment that
// a redirect takes to another origin, and the pages' img-src is 'self'),
// streamed with Range and conditional requests; the MP4 through a
// presigned redirect.
func TestS3Media(t *testing.T) {
	cfg := testenv.S3Bucket(t)
	s3, err := storage.NewS3(context.Background(), storage.Config{Endpoint: cfg.Endpoint, Region: cfg.Region, Bucket: cfg.Bucket, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, s3)
	threeStatements(t, e)
	e.rebuild("upr36", "AD")
	key := e.viewer("upr36", "AD", time.Hour)
	stored := func(k string) string {
		body, _, err := s3.Get(context.Background(), k, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		b, _ := io.ReadAll(body)
		return string(b)
	}
	for _, f := range []string{"hls/360p/seg_00000.m4s", "hls/360p/init.mp4", "poster.jpg"} {
		r := e.get("/media/s1/"+f+"?key="+key, "")
		want := stored("statements/s1/" + f)
		if r.status != 200 || r.body != want || r.header.Get("Content-Type") != storage.ContentTypeOf(f) {
			t.Fatalf("%s: %d %s, %d bytes (stored %d)", f, r.status, r.header.Get("Content-Type"), len(r.body), len(want))
		}
		part := e.get("/media/s1/"+f+"?key="+key, "", "Range", "bytes=100-199")
		if part.status != 206 || part.body != want[100:200] {
			t.Fatalf("%s, bytes 100-199: %d, %d bytes", f, part.status, len(part.body))
		}
		tail := e.get("/media/s1/"+f+"?key="+key, "", "Range", "bytes=-50")
		if tail.status != 206 || tail.body != want[len(want)-50:] {
			t.Fatalf("%s, last 50 bytes: %d, %d bytes", f, tail.status, len(tail.body))
		}
		if etag := r.header.Get("ETag"); etag == "" {
			t.Errorf("%s: no ETag", f)
		} else if again := e.get("/media/s1/"+f+"?key="+key, "", "If-None-Match", etag); again.status != 304 {
			t.Errorf("%s with If-None-Match: %d", f, again.status)
		}
	}
	if r := e.get("/media/s1/hls/360p/seg_00099.m4s?key="+key, ""); r.status != 404 {
		t.Errorf("a segment the statement does not have: %d", r.status)
	}
	r := e.get("/media/s1/download.mp4?key="+key, "")
	if r.status != 302 || !strings.HasPrefix(r.header.Get("Location"), "http://"+cfg.Endpoint+"/") {
		t.Fatalf("MP4: %d %v", r.status, r.header)
	}
	res, err := http.Get(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("presigned URL: %d", res.StatusCode)
	}
	// ffmpeg reads the whole stream.
	master := e.srv.URL + "/playlists/upr36/AD/master.m3u8?key=" + key
	if d := ffprobeDuration(t, master); d < 10.5 || d > 11.5 {
		t.Errorf("stream from S3 lasts %.3f s", d)
	}
}

// TestWatchPageLanguages: the watch page names the country in the page's
// language, labels each caption track with its language's own name, and
// answers a link for another country in the request's language.
func TestWatchPageLanguages(t *testing.T) {
	e := newEnv(t, nil)
	threeStatements(t, e)
	e.rebuild("upr36", "AD")
	e.cat.Put(genStatement(t, e.store, "j1", "JM", 3, clipLo))
	e.rebuild("upr36", "JM")
	key := e.viewer("upr36", "", time.Hour)
	tracks := []string{`srclang="en" label="English"`, `srclang="fr" label="Français"`, `srclang="es" label="Español"`}
	for _, tc := range []struct {
		path, accept string
		want         []string
	}{
		{"/watch/upr36/AD?lang=fr&key=" + key, "", append([]string{`<html lang="fr">`, "<h1>Andorre : déclarations</h1>", " Kio)</a>"}, tracks...)},
		{"/watch/upr36/AD?key=" + key, "es", append([]string{`<html lang="es">`, "Andorra"}, tracks...)},
		{"/watch/upr36/US?key=" + key, "fr", []string{"États-Unis"}},
		{"/watch/upr36/MH?lang=es&key=" + key, "", []string{"Islas Marshall"}},
		{"/watch/upr36/AD?lang=en&key=" + key, "", []string{"3 statements, 0:11 in total"}},
		{"/watch/upr36/JM?lang=en&key=" + key, "", []string{"1 statement, 0:03 long"}},
		{"/watch/upr36/JM?lang=fr&key=" + key, "", []string{"1 déclaration, d&#39;une durée de 0:03", "Jamaïque"}},
	} {
		r := e.get(tc.path, "", "Accept-Language", tc.accept)
		if r.status != 200 {
			t.Fatalf("%s: %d", tc.path, r.status)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.body, w) {
				t.Errorf("%s (%s): missing %q", tc.path, tc.accept, w)
			}
		}
	}
	other := e.viewer("upr36", "BG", time.Hour)
	for lang, want := range map[string]string{"en": "does not cover Andorra in", "fr": "ne couvre pas Andorre dans", "es": "no incluye Andorra en"} {
		r := e.get("/playlists/upr36/AD.json?key="+other, "", "Accept-Language", lang)
		if r.status != 403 || !strings.Contains(r.body, `"code":"forbidden"`) || !strings.Contains(r.body, want) {
			t.Errorf("%s: %d %s, want 403 forbidden with %q", lang, r.status, r.body, want)
		}
	}
}
