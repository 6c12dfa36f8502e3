package desk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/media"
)

// TestReviewDeskInChromium drives the review desk in Chromium with
// e2e/review-desk.mjs (playwright-core, axe-core): two reviewers, each in
// their own browser context, go through six statements from the keyboard
// only, in en, fr and es — play, pause, speed, ±5 s, jump to findings,
// correct a caption cue and save it, approve two, reject one with a
// reason, skip two — never seeing the same statement at once; one closes
// the page and the other is given the statement it let go. Every state
// is scanned with axe at 1280 and 390 px. This test makes the media with
// ffmpeg and checks the catalog at the end.
func TestReviewDeskInChromium(t *testing.T) {
	t.Parallel()
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)
	testenv.FFmpeg(t)
	e := newEnv(t, 0)
	ctx := context.Background()
	dir := t.TempDir()

	// One 12 s clip, its poster and a storyboard of six 2 s tiles,
	// shared by every statement.
	mp4, poster, board := filepath.Join(dir, "clip.mp4"), filepath.Join(dir, "poster.jpg"), filepath.Join(dir, "storyboard.jpg")
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=12", "-f", "lavfi", "-i", "sine=frequency=440:duration=12",
			"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", "-shortest", mp4},
		{"-i", mp4, "-frames:v", "1", poster},
		{"-i", mp4, "-vf", "fps=1/2,scale=160:90,tile=6x1", "-frames:v", "1", board},
	} {
		cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
		}
	}
	var vtt strings.Builder
	vtt.WriteString("WEBVTT\n\n")
	for i := range 6 {
		fmt.Fprintf(&vtt, "00:00:%02d.000 --> 00:00:%02d.000\nstoryboard.jpg#xywh=%d,0,160,90\n\n", 2*i, 2*i+2, 160*i)
	}
	const wrongCue = "The secnd line, misspelt"
	realEN := "WEBVTT\n\n00:00:00.000 --> 00:00:03.000\nThe first line\n\n00:00:03.000 --> 00:00:06.000\n" + wrongCue + "\n\n00:00:06.000 --> 00:00:09.000\nThe third line\n"

	t0 := time.Now().UTC().Add(-6 * time.Hour).Truncate(time.Second)
	findings := []presession.Finding{
		{Kind: "black", Start: 2, End: 4, Text: "The picture is black for 2 s", Key: ""},
		{Kind: "silent", Start: 4.5, End: 6.5, Text: "No sound for 2 s", Key: ""},
	}
	var ids []string
	for i, cc := range []string{"AD", "BG", "AD", "HR", "BG", "AD"} {
		var f []presession.Finding
		if i == 0 {
			f = findings
		}
		s := e.ready(cc, fmt.Sprintf("Statement %d", i+1), t0.Add(time.Duration(i)*time.Minute), 12, f)
		ids = append(ids, s.ID)
		put := func(key, path string) {
			t.Helper()
			if err := e.store.PutFile(ctx, key, path, presession.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		put(s.Media.MP4, mp4)
		put(s.Media.Poster, poster)
		put(s.Media.Storyboard, board)
		putText := func(key, text string) {
			t.Helper()
			if err := e.store.Put(ctx, key, strings.NewReader(text), int64(len(text)), presession.PutOptions{ContentType: "text/vtt"}); err != nil {
				t.Fatal(err)
			}
		}
		putText(s.Media.StoryboardVT, vtt.String())
		for _, c := range s.Captions {
			text := string(media.PlaceholderVTT(c.Language, 12, s.Speaker, s.Organisation))
			if i == 0 && c.Language == "en" {
				text = realEN
			}
			putText(c.Key, text)
		}
		if i == 0 {
			if _, err := e.cat.Update(ctx, s.ID, func(s *presession.Statement) error {
				s.Captions[0].Placeholder = false
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	const password = "seven quiet harbours at dawn"
	ana := e.member("ana@example.org", "Ana Reviewer", presession.RoleReviewer, password)
	ben := e.member("ben@example.org", "Ben Reviewer", presession.RoleReviewer, password)

	spec, _ := json.Marshal(map[string]any{
		"base": e.srv.URL, "chromium": chromium, "nodeModules": modules, "staffToken": staffToken, "ids": ids,
		"wrongCue": wrongCue, "password": password,
		"reviewers": []map[string]string{{"email": ana.Email, "name": ana.Name}, {"email": ben.Email, "name": ben.Name}},
	})
	script := filepath.Join(testenv.RepoRoot(t), "e2e", "review-desk.mjs")
	cctx, cancel := context.WithTimeout(ctx, 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, "node", script, string(spec))
	cmd.Dir = modules
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("review-desk.mjs (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("review-desk.mjs: %v", err)
	}

	want := []struct {
		status presession.Status
		by     presession.Actor
		reason string
	}{
		{presession.StatusApproved, presession.ActorMember(ana.ID), ""},
		{presession.StatusApproved, presession.ActorMember(ben.ID), ""},
		{presession.StatusRejected, presession.ActorMember(ana.ID), "Fuera de tema"},
		{presession.StatusReady, "", ""},
		{presession.StatusReady, "", ""},
		{presession.StatusReady, "", ""},
	}
	for i, w := range want {
		s, err := e.cat.Get(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		last := s.History[len(s.History)-1]
		if s.Status != w.status || (w.by != "" && last.Actor != w.by) || s.Reason != w.reason {
			t.Errorf("statement %d: %s by %s (%q), want %s by %s (%q)", i+1, s.Status, last.Actor, s.Reason, w.status, w.by, w.reason)
		}
	}
	s, _ := e.cat.Get(ctx, ids[0])
	c, _ := s.Caption("en")
	if c.Placeholder || len(c.History) != 1 || c.History[0].Source != presession.CaptionFromEditor || c.History[0].By != string(presession.ActorMember(ana.ID)) ||
		c.History[0].Cues != 3 || c.History[0].Previous == "" {
		t.Fatalf("English captions %+v", c)
	}
	body, _, err := e.store.Get(ctx, c.Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if !strings.Contains(string(got), "The second line, corrected") || strings.Contains(string(got), wrongCue) || !strings.Contains(string(got), "The third line") {
		t.Errorf("saved captions:\n%s", got)
	}
	if prev, err := os.ReadFile(filepath.Join(e.storeRoot, filepath.FromSlash(c.History[0].Previous))); err != nil || !strings.Contains(string(prev), wrongCue) {
		t.Errorf("the track as it was is not kept at %s: %v %q", c.History[0].Previous, err, prev)
	}
}
