package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/drafts"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/web"
)

func TestDraftCaptionsDir(t *testing.T) {
	s, err := storage.NewDir(filepath.Join(t.TempDir(), "storage"))
	if err != nil {
		t.Fatal(err)
	}
	testDraftCaptions(t, s)
}

func TestDraftCaptionsS3(t *testing.T) {
	b := testenv.S3Bucket(t)
	s, err := storage.NewS3(context.Background(), storage.Config{Endpoint: b.Endpoint, Region: b.Region, Bucket: b.Bucket, AccessKey: b.AccessKey, SecretKey: b.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	testDraftCaptions(t, s)
}

func read(t *testing.T, s storage.Store, key string) string {
	t.Helper()
	rc, _, err := s.Get(context.Background(), key, nil)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

// testDraftCaptions processes a 4 s clip sent with the organisation's
// captions in French (usable) and Spanish (a cue after the end): the
// French track is the French file converted, with its cue text, marked as
// the organisation's draft; the Spanish one stays a placeholder and staff
// read why in their language; English, without a file, is a placeholder.
// The same task run again makes the same tracks, and leaves a track staff
// changed as it is; a file that arrives once the statement is ready is
// taken by the worker's look after the ready transition.
func testDraftCaptions(t *testing.T, store storage.Store) {
	e := newEnv(t, store)
	e.run(t)
	ctx := context.Background()
	st := e.upload(t, testenv.Clip(t, t.TempDir(), "clip.mp4", "320x240", 4, true))
	fr := "1\r\n00:00:00,500 --> 00:00:02,000\r\nBonjour à toutes et à tous.\r\n\r\n2\r\n00:00:02,000 --> 00:00:03,800\r\nNous parlons pour <i>quarante</i> organisations.\r\n"
	es := "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nBuenos días.\n\n00:00:09.000 --> 00:00:10.000\nGracias.\n"
	for lang, f := range map[string]string{"fr": fr, "es": es} {
		if err := drafts.Save(ctx, store, st.ID, lang, []byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.client.EnqueueProcess(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	got := e.wait(t, st.ID, presession.StatusReady, presession.StatusFailed)
	if got.Status != presession.StatusReady || len(got.Captions) != 3 {
		t.Fatalf("%s (%s), captions %+v", got.Status, got.Reason, got.Captions)
	}
	byLang := map[string]presession.Caption{}
	for _, c := range got.Captions {
		byLang[c.Language] = c
	}
	f := byLang["fr"]
	if f.Placeholder || !f.Draft || f.UpdatedBy != "cso:inv1" || f.UpdatedAt.IsZero() || f.DraftRefused != "" ||
		len(f.History) != 1 || f.History[0] != (presession.CaptionChange{At: f.UpdatedAt, By: "cso:inv1", Source: presession.CaptionFromDraft, Cues: 2}) {
		t.Errorf("French track: %+v", f)
	}
	vtt := read(t, store, f.Key)
	for _, want := range []string{"WEBVTT\n", "00:00:00.500 --> 00:00:02.000\nBonjour à toutes et à tous.\n", "Nous parlons pour <i>quarante</i> organisations."} {
		if !strings.Contains(vtt, want) {
			t.Errorf("French track file lacks %q:\n%s", want, vtt)
		}
	}
	if pl := read(t, store, layout.Media(st.ID, layout.CaptionsDir+"/"+layout.SubtitlePlaylistFile("fr"))); !strings.Contains(pl, "fr.vtt") {
		t.Errorf("French subtitle playlist:\n%s", pl)
	}
	s := byLang["es"]
	if !s.Placeholder || s.Draft || s.DraftRefusedKey != "reject.caption.after_end" || !strings.Contains(s.DraftRefused, "line 6: the cue starts at 00:00:09.000, after the end of the video") {
		t.Errorf("Spanish track: %+v", s)
	}
	if v := read(t, store, s.Key); !strings.Contains(v, "Subtítulos en preparación") {
		t.Errorf("Spanish placeholder:\n%s", v)
	}
	if en := byLang["en"]; !en.Placeholder || en.Draft || en.DraftRefused != "" {
		t.Errorf("English track: %+v", en)
	}
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	site, err := web.NewSite(presession.Builtin(), bundle, &web.Auth{}, e.w.log)
	if err != nil {
		t.Fatal(err)
	}
	if w := site.Warnings("fr", got); len(w) != 1 || !strings.Contains(w[0], "le fichier de sous-titres de l'organisation en Español n'a pas été utilisé (ligne 6 : le sous-titre commence à 00:00:09.000, après la fin de la vidéo") {
		t.Errorf("staff's warnings in French: %q", w)
	}
	if w := site.Warnings("en", got); len(w) != 1 || !strings.Contains(w[0], "the organisation's captions file in Español was not used (line 6:") {
		t.Errorf("staff's warnings in English: %q", w)
	}

	// The same task again (a retry, a reprocess) makes the same tracks.
	again := func() *presession.Statement {
		t.Helper()
		if _, err := e.cat.Transition(ctx, st.ID, presession.StatusProcessing, "staff", ""); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(StatementPayload{ID: st.ID})
		if err := e.w.handleTranscode(ctx, asynq.NewTask(TypeTranscode, b)); err != nil {
			t.Fatal(err)
		}
		out, err := e.cat.Get(ctx, st.ID)
		if err != nil || out.Status != presession.StatusReady {
			t.Fatalf("again: %v %+v", err, out)
		}
		return out
	}
	second := again()
	if !reflect.DeepEqual(second.Captions, got.Captions) {
		t.Errorf("run again, the tracks differ:\n%+v\n%+v", second.Captions, got.Captions)
	}
	if v := read(t, store, f.Key); v != vtt {
		t.Errorf("run again, the French file differs:\n%s", v)
	}

	// Staff replace the Spanish track; the organisation sends a usable
	// Spanish file after all: a run again keeps staff's.
	staffVTT := "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nBuenos días, señora presidenta.\n"
	if err := store.Put(ctx, s.Key, bytes.NewReader([]byte(staffVTT)), int64(len(staffVTT)), presession.PutOptions{ContentType: "text/vtt"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.Update(ctx, st.ID, func(x *presession.Statement) error {
		x.Captions[2] = presession.Caption{Language: "es", Name: s.Name, Key: s.Key, UpdatedBy: "staff",
			History: []presession.CaptionChange{{By: "staff", Source: presession.CaptionFromUpload, Cues: 1}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := drafts.Save(ctx, store, st.ID, "es", []byte("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHola.\n")); err != nil {
		t.Fatal(err)
	}
	third := again()
	if c, _ := third.Caption("es"); c.Draft || c.Placeholder || c.UpdatedBy != "staff" || read(t, store, c.Key) != staffVTT {
		t.Errorf("staff's Spanish track after a run again: %+v\n%s", c, read(t, store, c.Key))
	}
	if w := site.Warnings("en", third); len(w) != 0 {
		t.Errorf("warnings once staff changed the track: %q", w)
	}

	// An English file that lands after the transcode read the files: the
	// look after the ready transition takes it.
	if err := drafts.Save(ctx, store, st.ID, "en", []byte("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nGood morning, everyone.\n")); err != nil {
		t.Fatal(err)
	}
	sess, _ := presession.Builtin().Find(st.Session)
	if err := e.w.lateDrafts(ctx, third, sess, nil, e.w.log); err != nil {
		t.Fatal(err)
	}
	late, _ := e.cat.Get(ctx, st.ID)
	if c, _ := late.Caption("en"); !c.Draft || !strings.Contains(read(t, store, c.Key), "Good morning, everyone.") {
		t.Errorf("late English file: %+v", c)
	}
	if c, _ := late.Caption("fr"); !reflect.DeepEqual(c, f) {
		t.Errorf("the French track changed with the late look: %+v", c)
	}
}
