package playlist

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/fakes"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/media"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// The in-memory catalog is what the package asks of the catalog.
var (
	_ Statements = (*fakes.Catalog)(nil)
	_ Approved   = (*fakes.Catalog)(nil)
)

// env is a running playlist service on a directory store.
type env struct {
	t      *testing.T
	store  Store
	dir    string
	cat    *fakes.Catalog
	signer *token.Signer
	staff  string
	rb     *Rebuilder
	h      *Handler
	srv    *httptest.Server
	now    time.Time
}

func newEnv(t *testing.T, store Store) *env {
	t.Helper()
	e := &env{t: t, store: store, cat: fakes.NewCatalog(), signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")),
		staff: "staff-secret-token", now: time.Now()}
	if store == nil {
		e.dir = t.TempDir()
		d, err := storage.NewDir(e.dir)
		if err != nil {
			t.Fatal(err)
		}
		e.store = d
	}
	sessions := presession.Builtin()
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	site, err := web.NewSite(sessions, bundle, &web.Auth{Signer: e.signer, StaffToken: e.staff}, log)
	if err != nil {
		t.Fatal(err)
	}
	e.rb = &Rebuilder{Sessions: sessions, Catalog: e.cat, Store: e.store, Log: log}
	e.h, err = NewHandler(site, e.store, e.cat)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.h.Register(mux)
	mux.Handle("GET /static/", web.Static())
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (e *env) rebuild(session, cc string) {
	e.t.Helper()
	if err := e.rb.Rebuild(context.Background(), session, cc); err != nil {
		e.t.Fatalf("rebuild %s/%s: %v", session, cc, err)
	}
}

// move takes statement id through the given statuses as staff would.
func (e *env) move(id string, path ...presession.Status) {
	e.t.Helper()
	for _, to := range path {
		if _, err := e.cat.Transition(context.Background(), id, to, "staff", "off topic"); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) viewer(session, country string, valid time.Duration) string {
	tok, _ := e.signer.SignViewer(token.Viewer{Session: session, Country: country, Expires: e.now.Add(valid)})
	return tok
}

// clipRung is a rung of generated media.
type clipRung struct {
	name string
	w, h int
}

var (
	clipHi = clipRung{"360p", 320, 180}
	clipLo = clipRung{"240p", 240, 136}
)

// mediaCache keeps generated media per (seconds, rungs) for the package's
// tests: generating is the slow part.
var mediaCache sync.Map

// genStatement encodes a statement of the given length (testsrc2 + a tone)
// into an fMP4 HLS ladder laid out like the media package's, stores it
// under statements/{id}/, and returns the approved statement.
func genStatement(t *testing.T, store Store, id, cc string, seconds float64, rungs ...clipRung) *presession.Statement {
	t.Helper()
	testenv.FFmpeg(t)
	ctx := context.Background()
	cacheKey := fmt.Sprint(seconds, rungs)
	v, ok := mediaCache.Load(cacheKey)
	if !ok {
		dir, err := os.MkdirTemp("", "playlist-media-")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rungs {
			genRung(t, dir, r, seconds)
		}
		run(t, "ffmpeg", "-v", "error", "-y", "-i", filepath.Join(dir, "hls", rungs[0].name, "index.m3u8"), "-c", "copy", "-movflags", "+faststart", filepath.Join(dir, "download.mp4"))
		run(t, "ffmpeg", "-v", "error", "-y", "-i", filepath.Join(dir, "download.mp4"), "-frames:v", "1", filepath.Join(dir, "poster.jpg"))
		mediaCache.Store(cacheKey, dir)
		v = dir
	}
	dir := v.(string)
	base := "statements/" + id + "/"
	m := &presession.Media{Master: base + "hls/master.m3u8", MP4: base + "download.mp4", Poster: base + "poster.jpg", Thumbnail: base + "thumb.jpg",
		Width: rungs[0].w, Height: rungs[0].h}
	put := func(key, file string) {
		t.Helper()
		if err := putFile(ctx, store, key, file); err != nil {
			t.Fatal(err)
		}
	}
	put(m.MP4, filepath.Join(dir, "download.mp4"))
	put(m.Poster, filepath.Join(dir, "poster.jpg"))
	put(m.Thumbnail, filepath.Join(dir, "poster.jpg"))
	fi, _ := os.Stat(filepath.Join(dir, "download.mp4"))
	m.MP4Size = fi.Size()
	var master strings.Builder
	master.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for _, r := range rungs {
		rd := filepath.Join(dir, "hls", r.name)
		init, err := os.ReadFile(filepath.Join(rd, "init.mp4"))
		if err != nil {
			t.Fatal(err)
		}
		avc, err := media.AVCCodec(init)
		if err != nil {
			t.Fatal(err)
		}
		rend := presession.Rendition{Name: r.name, Width: r.w, Height: r.h, Codecs: avc + "," + media.AudioCodec, FrameRate: 25,
			Playlist: base + "hls/" + r.name + "/index.m3u8", Init: base + "hls/" + r.name + "/init.mp4"}
		put(rend.Playlist, filepath.Join(rd, "index.m3u8"))
		put(rend.Init, filepath.Join(rd, "init.mp4"))
		var bits, secs float64
		for _, s := range readSegments(t, filepath.Join(rd, "index.m3u8")) {
			key := base + "hls/" + r.name + "/" + s.Key
			put(key, filepath.Join(rd, s.Key))
			fi, _ := os.Stat(filepath.Join(rd, s.Key))
			rend.Segments = append(rend.Segments, presession.Segment{Key: key, Duration: s.Duration})
			rend.Bandwidth = max(rend.Bandwidth, int(math.Ceil(float64(fi.Size())*8/s.Duration)))
			bits += float64(fi.Size()) * 8
			secs += s.Duration
			rend.TargetDuration = max(rend.TargetDuration, int(math.Round(s.Duration)))
		}
		rend.AverageBandwidth = int(math.Ceil(bits / secs))
		m.Renditions = append(m.Renditions, rend)
		fmt.Fprintf(&master, "#EXT-X-STREAM-INF:BANDWIDTH=%d,CODECS=%q,RESOLUTION=%dx%d\n%s/index.m3u8\n", rend.Bandwidth, rend.Codecs, r.w, r.h, r.name)
	}
	m.Duration = seconds
	if err := store.Put(ctx, m.Master, strings.NewReader(master.String()), int64(master.Len()), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	s := &presession.Statement{ID: id, Session: "upr36", Country: cc, Organisation: "Org " + id, InvitationID: "inv-" + id,
		Title: "Statement " + id, Speaker: "Speaker " + id, Language: "en", Status: presession.StatusApproved,
		SourceKey: "uploads/" + id + "/source.mp4", Media: m}
	// The original upload exists in storage but must never be served.
	store.Put(ctx, s.SourceKey, strings.NewReader("ORIGINAL"), 8, storage.PutOptions{})
	for _, l := range []string{"en", "fr", "es"} {
		key := base + "captions/" + l + ".vtt"
		var text string
		if l == "en" {
			text = fmt.Sprintf("WEBVTT\n%s\n\n00:00:00.300 --> 00:00:01.500\nCAP-%s\n", media.TimestampMap, id)
		} else {
			text = string(media.PlaceholderVTT(l, seconds, s.Speaker, s.Organisation))
		}
		if err := store.Put(ctx, key, strings.NewReader(text), int64(len(text)), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		s.Captions = append(s.Captions, presession.Caption{Language: l, Name: presession.LanguageName(l), Key: key, Placeholder: l != "en"})
	}
	return s
}

// genRung encodes one rung as media does (x264 with B-frames, AAC,
// fMP4 HLS), with negative composition offsets so the first video frame
// presents at 0 like the audio.
func genRung(t *testing.T, dir string, r clipRung, seconds float64) {
	t.Helper()
	rd := filepath.Join(dir, "hls", r.name)
	if err := os.MkdirAll(rd, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "ffmpeg", "-v", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=25:duration=%g", r.w, r.h, seconds),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%g", seconds),
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
		"-bsf:v", "dump_extra=freq=keyframe",
		"-c:a", "aac", "-b:a", "64k", "-ar", "48000", "-ac", "2",
		"-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
		"-hls_segment_type", "fmp4", "-hls_segment_options", "movflags=+negative_cts_offsets",
		"-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", filepath.Join(rd, "seg_%05d.m4s"),
		filepath.Join(rd, "index.m3u8"))
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// readSegments reads the segment names (as Key) and durations of an HLS
// media playlist file.
func readSegments(t *testing.T, file string) []presession.Segment {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []presession.Segment
	var d float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if v, ok := strings.CutPrefix(l, "#EXTINF:"); ok {
			v, _, _ = strings.Cut(v, ",")
			d, _ = strconv.ParseFloat(v, 64)
		} else if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, presession.Segment{Key: l, Duration: d})
		}
	}
	return out
}

func putFile(ctx context.Context, store Store, key, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return store.Put(ctx, key, f, fi.Size(), storage.PutOptions{})
}
