package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/drafts"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/media"
	"github.com/uprinfo/presession/metrics"
)

// actor is how the worker appears in a statement's history.
const actor = "worker"

// statement decodes a statement task and reads its statement; a payload
// that does not decode, or a statement that no longer exists, will never
// work (SkipRetry).
func (w *Worker) statement(ctx context.Context, t *asynq.Task) (StatementPayload, *presession.Statement, *slog.Logger, error) {
	var p StatementPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ID == "" {
		return p, nil, nil, fmt.Errorf("%s payload %q: %v: %w", t.Type(), t.Payload(), err, asynq.SkipRetry)
	}
	st, err := w.catalog.Get(ctx, p.ID)
	if presession.ErrorCode(err) == presession.ENOTFOUND {
		return p, nil, nil, fmt.Errorf("statement %s: %w", p.ID, asynq.SkipRetry)
	} else if err != nil {
		return p, nil, nil, err
	}
	return p, st, w.log.With("task", t.Type(), "statement", p.ID), nil
}

// handleProbe checks an uploaded source: it must be a video we can
// process, within the session's limits, and whole. A source that is not
// fails the statement with the reason; one that is gets its transcode task.
func (w *Worker) handleProbe(ctx context.Context, t *asynq.Task) error {
	_, st, log, err := w.statement(ctx, t)
	if err != nil {
		return err
	}
	switch st.Status {
	case presession.StatusUploaded:
		if st, err = w.catalog.Transition(ctx, st.ID, presession.StatusProcessing, actor, ""); err != nil {
			return err
		}
	case presession.StatusProcessing: // a retry, or a re-enqueue at start
	default:
		log.Info("nothing to probe", "status", st.Status)
		return nil
	}
	sess, ok := w.sessions.Find(st.Session)
	if !ok {
		return w.fail(ctx, st, sessionGone(st.Session), nil)
	}
	src, err := w.store.URL(ctx, st.SourceKey, time.Hour)
	if err != nil {
		return w.transient(ctx, st, fmt.Errorf("source url: %w", err))
	}
	info, err := w.probe(ctx, src)
	if err == nil {
		var warnings []string
		warnings, err = media.Validate(info, media.DefaultLimits(float64(sess.MaxStatementSeconds)))
		if err == nil {
			err = media.CheckIntegrity(ctx, src, info)
		}
		if err == nil && !equalStrings(warnings, st.Warnings) {
			_, err = w.catalog.Update(ctx, st.ID, func(s *presession.Statement) error {
				s.Warnings = warnings
				return nil
			})
		}
	}
	var rej *media.Rejection
	if errors.As(err, &rej) {
		log.Info("source rejected", "code", rej.Code, "reason", rej.Reason)
		return w.fail(ctx, st, rejected(rej), err)
	}
	if err != nil {
		return w.transient(ctx, st, err)
	}
	w.catalog.SetProgress(ctx, st.ID, 1)
	if err := w.client.enqueue(ctx, NewTranscodeTask(st.ID, info)); err != nil {
		return w.transient(ctx, st, err)
	}
	log.Info("source accepted", "duration", info.Duration, "format", info.FormatName)
	return nil
}

// transcodeRun records what one transcode execution did, for metrics.
type transcodeRun struct {
	id         string
	started    time.Time // zero: ended before running anything
	media      float64   // seconds of statement
	ready      bool
	superseded bool
}

// handleTranscode runs transcode and reports the execution, if there was
// one, to the metrics: one count per execution, by how it ended.
func (w *Worker) handleTranscode(ctx context.Context, t *asynq.Task) error {
	var run transcodeRun
	err := w.transcode(ctx, t, &run)
	if run.started.IsZero() {
		return err
	}
	result := metrics.TranscodeError
	switch {
	case run.ready:
		result = metrics.TranscodeReady
	case run.superseded:
		result = metrics.TranscodeSuperseded
	case errors.Is(ctx.Err(), context.Canceled):
		result = metrics.TranscodeInterrupted // shutdown: Asynq has put the task back
		w.log.Info("transcode interrupted; the task is back in its queue", "statement", run.id)
	case errors.Is(err, asynq.SkipRetry):
		result = metrics.TranscodeFailed
	}
	w.metrics.Transcoded(result, run.media, time.Since(run.started))
	return err
}

// transcode makes a probed statement's media: one ffmpeg process
// for the ladder, the MP4 and the images; then caption placeholders,
// the multivariant playlist, the upload of every file, and the manifest,
// last. The statement becomes ready, with the damage the decoders met
// (and its warning for staff) in its media; a statement mostly damaged
// fails instead.
func (w *Worker) transcode(ctx context.Context, t *asynq.Task, run *transcodeRun) error {
	p, st, log, err := w.statement(ctx, t)
	if err != nil {
		return err
	}
	sess, ok := w.sessions.Find(st.Session)
	if st.Status == presession.StatusReady && ok {
		// A retry of a run that made the statement ready but could not
		// look for the organisation's late captions files.
		return w.lateDrafts(ctx, st, sess, nil, log)
	}
	if st.Status != presession.StatusProcessing {
		log.Info("nothing to transcode", "status", st.Status)
		return nil
	}
	if !ok {
		return w.fail(ctx, st, sessionGone(st.Session), nil)
	}
	if w.transcodeHook != nil {
		defer w.transcodeHook(st.ID)
	}
	started := time.Now()
	run.id, run.started, run.media = st.ID, started, p.Duration

	dir, err := os.MkdirTemp(w.cfg.WorkDir, "transcode-"+st.ID+"-")
	if err != nil {
		return w.transient(ctx, st, fmt.Errorf("work dir: %w", err))
	}
	defer os.RemoveAll(dir)

	src, err := w.store.URL(ctx, st.SourceKey, TranscodeTimeout(p.Duration)+time.Hour)
	if err != nil {
		return w.transient(ctx, st, fmt.Errorf("source url: %w", err))
	}
	info := p.Probe
	if info == nil { // queued before the probe travelled in the task
		if info, err = w.probe(ctx, src); err != nil {
			var rej *media.Rejection
			if errors.As(err, &rej) {
				return w.fail(ctx, st, rejected(rej), err)
			}
			return w.transient(ctx, st, err)
		}
	}
	e, err := w.encode(ctx, st, src, info, dir, log)
	if err != nil {
		return err
	}
	res, damage, used, err := w.publish(ctx, st, sess, info, e, started)
	if err != nil {
		return err
	}
	if _, err := w.catalog.Transition(ctx, st.ID, presession.StatusReady, actor, ""); err != nil {
		if presession.ErrorCode(err) == presession.ECONFLICT {
			log.Info("statement moved on while transcoding", "err", err)
			run.superseded = true
			return nil
		}
		return err
	}
	run.ready, run.media = true, res.Duration
	took := time.Since(started)
	log.Info("statement ready", "duration", res.Duration, "took", took.Round(time.Millisecond),
		"realtime_factor", fmt.Sprintf("%.2f", res.Duration/took.Seconds()),
		"damaged_seconds", damage.Seconds(), "decoder_errors", damage.Errors)
	return w.lateDrafts(ctx, st, sess, used, log)
}

// lateDrafts makes each of the organisation's captions files that arrived
// while st was processed, after publish read them, its language's track
// (drafts.Apply): the statement is ready now, so the upload side that
// stores a file from here on makes the track itself. used names, by
// language, the file each track was made from, which need nothing more.
// Its error is the task's: a retry finds the statement ready and looks
// again.
func (w *Worker) lateDrafts(ctx context.Context, st *presession.Statement, sess *presession.Session, used map[string]string, log *slog.Logger) error {
	for _, lang := range sess.Languages {
		applied, err := drafts.Apply(ctx, w.store, w.catalog, st.ID, lang, used[lang])
		if err != nil {
			log.Warn("a late captions file could not be looked at; retrying", "lang", lang, "err", err)
			return fmt.Errorf("late captions file in %s: %w", lang, err)
		}
		if applied {
			log.Info("caption track started from a captions file that arrived while processing", "lang", lang)
		}
	}
	return nil
}

// encoded is what one ffmpeg run made of a statement, in its work dir.
type encoded struct {
	plan     media.Plan
	res      *media.Result
	damage   media.Damage
	measures media.Measures // of the quality report
}

// encode runs the one ffmpeg process of a statement into dir and checks
// what came out: a source mostly damaged, or outputs mostly missing,
// fail the statement. Its error is the task's (the statement failed, or
// a retry).
func (w *Worker) encode(ctx context.Context, st *presession.Statement, src string, info *media.Info, dir string, log *slog.Logger) (*encoded, error) {
	opts := media.DefaultOptions()
	if w.cfg.Preset != "" {
		opts.Preset = w.cfg.Preset
	}
	plan, err := media.NewPlan(src, info, filepath.Join(dir, "out"), opts)
	if err != nil {
		return nil, w.fail(ctx, st, notPrepared(err), err)
	}
	if err := plan.PrepareOutput(); err != nil {
		return nil, w.transient(ctx, st, err)
	}
	prog := newProgress(func(pct float64) { w.catalog.SetProgress(ctx, st.ID, 2+pct*0.88) })
	stopPoll := prog.poll(func() float64 { return 100 * plan.Encoded() / max(plan.Duration, 1) }, 2*time.Second)
	damage, measures, err := media.RunMeasured(ctx, media.ForceInput(plan.Args(), plan.Input, info.InputFormat()), plan.Duration, prog.report)
	stopPoll()
	if err != nil {
		return nil, w.transient(ctx, st, fmt.Errorf("transcode: %w", err))
	}
	if damage.Mostly(plan.Duration) {
		log.Info("source mostly damaged", "damaged_seconds", damage.Seconds(), "decoder_errors", damage.Errors)
		return nil, w.fail(ctx, st, rejected(damage.Rejection(plan.Duration)), nil)
	}
	res, err := media.Collect(plan)
	if err != nil {
		return nil, w.transient(ctx, st, fmt.Errorf("collect outputs: %w", err))
	}
	// Outputs that end early miss the rest of the statement: damage too,
	// for the decision (a short end alone, as when a source's picture
	// stops before its sound, is no warning).
	if cut := damage.Missing(res.Duration, plan.Duration); cut.Mostly(plan.Duration) {
		log.Info("outputs mostly missing", "duration", res.Duration, "source_duration", plan.Duration, "decoder_errors", damage.Errors)
		return nil, w.fail(ctx, st, rejected(cut.Rejection(plan.Duration)), nil)
	}
	return &encoded{plan: plan, res: res, damage: damage, measures: measures}, nil
}

// publish writes the statement's caption placeholders and multivariant
// playlist next to the encoded outputs, uploads them all, writes the
// manifest last and records the media on the statement. Its error is the
// task's.
func (w *Worker) publish(ctx context.Context, st *presession.Statement, sess *presession.Session, info *media.Info, e *encoded, started time.Time) (*media.Result, media.Damage, map[string]string, error) {
	plan, res, damage := e.plan, e.res, e.damage
	out := plan.OutDir
	found, err := w.readDrafts(ctx, st, sess)
	if err != nil {
		return nil, damage, nil, w.transient(ctx, st, err)
	}
	captions, err := writeCaptions(out, st, sess, res.Duration, found)
	if err != nil {
		return nil, damage, nil, w.transient(ctx, st, err)
	}
	used := map[string]string{}
	for lang, d := range found {
		used[lang] = d.ETag
	}
	var subs []media.SubtitleTrack
	for i, c := range captions {
		subs = append(subs, media.SubtitleTrack{Language: c.Language, Name: c.Name, URI: layout.SubtitlePlaylistName(c.Language), Default: i == 0})
	}
	if err := os.WriteFile(filepath.Join(out, layout.MasterName), media.WriteMaster(res, subs), 0o644); err != nil {
		return nil, damage, nil, w.transient(ctx, st, err)
	}

	w.catalog.SetProgress(ctx, st.ID, 91)
	files, err := w.uploadDir(ctx, st, out)
	if err != nil {
		return nil, damage, nil, w.transient(ctx, st, fmt.Errorf("upload outputs: %w", err))
	}
	man := manifest{Statement: st.ID, Source: sourceFacts{Key: st.SourceKey, Size: st.Size, Probe: info}, Plan: plan,
		Files: files, Processed: time.Now().UTC(), TookSeconds: time.Since(started).Seconds()}
	man.Plan.Input, man.Plan.OutDir = "", "" // presigned URL and temp dir: not facts worth keeping
	b, _ := json.MarshalIndent(man, "", "  ")
	if err := w.store.Put(ctx, layout.Manifest(st.ID), bytes.NewReader(b), int64(len(b)),
		presession.PutOptions{ContentType: "application/json", CacheControl: "no-cache"}); err != nil {
		return nil, damage, nil, w.transient(ctx, st, fmt.Errorf("write manifest: %w", err))
	}
	m := mediaOf(st.ID, res)
	m.Damage = damageOf(damage)
	m.Quality = e.measures.Report(media.QualityFacts{Info: info, MaxSeconds: float64(sess.MaxStatementSeconds)})
	m.Version = mediaVersion(files)
	if _, err := w.catalog.Update(ctx, st.ID, func(s *presession.Statement) error {
		s.Media = m
		s.Captions = captions
		return nil
	}); err != nil {
		return nil, damage, nil, w.transient(ctx, st, err)
	}
	return res, damage, used, nil
}

// progress merges two views of a transcode's progress — ffmpeg's own
// reports and the segments on disk — and reports the furthest.
type progress struct {
	mu   sync.Mutex
	best float64
	set  func(pct float64)
}

func newProgress(set func(pct float64)) *progress { return &progress{set: set} }

func (p *progress) report(pct float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pct > p.best+0.5 {
		p.best = min(pct, 100)
		p.set(p.best)
	}
}

// poll reports fn every interval until the returned stop is called.
func (p *progress) poll(fn func() float64, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.report(fn())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// readDrafts reads the organisation's captions file of each session
// language whose track it may start (none yet, a placeholder, or its own
// earlier draft), by language; a language without one is absent.
func (w *Worker) readDrafts(ctx context.Context, st *presession.Statement, sess *presession.Session) (map[string]*drafts.Draft, error) {
	found := map[string]*drafts.Draft{}
	for _, lang := range sess.Languages {
		if old, ok := st.Caption(lang); ok && !old.OpenToDraft() {
			continue
		}
		d, err := drafts.Read(ctx, w.store, st.ID, lang)
		if err != nil {
			return nil, err
		}
		if d != nil {
			found[lang] = d
		}
	}
	return found, nil
}

// writeCaptions writes a WebVTT and its subtitle playlist per session
// language into out/subs: the organisation's captions file converted,
// when found has a usable one for the language (checked against the
// media's duration), else a placeholder (saying, for a file that could
// not be used, why). A track staff already changed is kept (its file in
// storage stays; only its playlist is written).
func writeCaptions(out string, st *presession.Statement, sess *presession.Session, duration float64, found map[string]*drafts.Draft) ([]presession.Caption, error) {
	dir := filepath.Join(out, layout.CaptionsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var caps []presession.Caption
	for _, lang := range sess.Languages {
		c := presession.Caption{Language: lang, Name: presession.LanguageName(lang), Key: layout.Caption(st.ID, lang), Placeholder: true}
		if old, ok := st.Caption(lang); ok && !old.OpenToDraft() {
			c = old
		} else {
			var vtt []byte
			if d := found[lang]; d != nil {
				vtt, c = drafts.Track(st, lang, c.Key, d, duration)
			}
			if vtt == nil {
				vtt = media.PlaceholderVTT(lang, duration, st.Speaker, st.Organisation)
			}
			if err := os.WriteFile(filepath.Join(dir, layout.CaptionFile(lang)), vtt, 0o644); err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(filepath.Join(dir, layout.SubtitlePlaylistFile(lang)), media.WriteSubtitlePlaylist(duration, layout.CaptionFile(lang)), 0o644); err != nil {
			return nil, err
		}
		caps = append(caps, c)
	}
	return caps, nil
}

// mediaOf turns the produced ladder into the domain's description, with
// storage keys.
func mediaOf(id string, res *media.Result) *presession.Media {
	m := &presession.Media{
		Duration: res.Duration, Master: layout.Media(id, layout.MasterName),
		MP4: layout.Media(id, res.Download.Name), MP4Size: res.Download.Size,
		Poster: layout.Media(id, res.Poster.Name), Thumbnail: layout.Media(id, res.Thumb.Name),
	}
	if res.Storyboard != nil && res.StoryboardVTT != nil {
		m.Storyboard, m.StoryboardVT = layout.Media(id, res.Storyboard.Name), layout.Media(id, res.StoryboardVTT.Name)
	}
	for _, r := range res.Rungs {
		pl := layout.Media(id, r.Playlist)
		rd := presession.Rendition{Name: r.Name, Width: r.Width, Height: r.Height, Bandwidth: int(r.Bandwidth),
			AverageBandwidth: int(r.AverageBandwidth), Codecs: r.Codecs, FrameRate: r.FrameRate,
			Playlist: pl, Init: layout.Sibling(pl, r.Init), TargetDuration: r.TargetDuration}
		for _, s := range r.Segments {
			rd.Segments = append(rd.Segments, presession.Segment{Key: layout.Sibling(pl, s.URI), Duration: s.Duration})
		}
		m.Renditions = append(m.Renditions, rd)
		if m.Width == 0 {
			m.Width, m.Height = r.Width, r.Height
		}
	}
	return m
}

// mediaVersion is the version of the media a run stored: a hash of each
// file's key and content hash, in key order. Equal outputs give the same
// version (a repeated run changes no URL); any changed byte a new one.
func mediaVersion(files []fileFact) string {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b fileFact) int { return strings.Compare(a.Key, b.Key) })
	h := sha256.New()
	for _, f := range sorted {
		fmt.Fprintf(h, "%s\x00%s\x00", f.Key, f.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// damageOf is the domain's description of the damage a run found, with
// the warning staff get; nil for a clean run.
func damageOf(d media.Damage) *presession.Damage {
	if len(d.Spans) == 0 {
		return nil
	}
	ms := func(s float64) float64 { return math.Round(s*1000) / 1000 }
	text, msg := d.Warning()
	out := &presession.Damage{Seconds: ms(d.Seconds()), Warning: text, WarningKey: msg.Key, WarningArgs: msg.Args}
	for _, s := range d.Spans {
		out.Spans = append(out.Spans, presession.Span{Start: ms(s.Start), End: ms(s.End)})
	}
	return out
}

// manifest is statements/{id}/media.json: the facts of one processing
// run — the source as probed, the plan, and every file the run wrote with
// its size and hash. It does not describe the media: the record of the
// statement it names (the catalog's statement.json) holds that, the
// renditions, captions and warnings, so each fact is written once.
type manifest struct {
	Statement   string      `json:"statement"`
	Source      sourceFacts `json:"source"`
	Plan        media.Plan  `json:"plan"`
	Files       []fileFact  `json:"files"`
	Processed   time.Time   `json:"processed"`
	TookSeconds float64     `json:"took_seconds"`
}

type sourceFacts struct {
	Key   string      `json:"key"`
	Size  int64       `json:"size"`
	Probe *media.Info `json:"probe"`
}

type fileFact struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// uploadDir puts every file under dir at statements/{id}/{relative path},
// a few at a time, and returns their sizes and hashes.
func (w *Worker) uploadDir(ctx context.Context, st *presession.Statement, dir string) ([]fileFact, error) {
	var rels []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rels = append(rels, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, err
	}
	facts := make([]fileFact, len(rels))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, rel := range rels {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f, err := w.uploadFile(ctx, layout.Media(st.ID, rel), filepath.Join(dir, filepath.FromSlash(rel)))
			if err != nil {
				cancel(err)
				return
			}
			facts[i] = f
			w.catalog.SetProgress(ctx, st.ID, 91+8*float64(i+1)/float64(len(rels)))
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return facts, nil
}

func (w *Worker) uploadFile(ctx context.Context, key, file string) (fileFact, error) {
	f, err := os.Open(file)
	if err != nil {
		return fileFact{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fileFact{}, err
	}
	cache := "public, max-age=86400"
	switch layout.Classify(key) {
	case layout.KindPlaylist, layout.KindCaption, layout.KindStoryboardVTT:
		cache = "no-cache" // captions are replaced by staff; playlists follow
	}
	// The content type is the one storage infers from the key.
	if err := w.store.PutFile(ctx, key, file, presession.PutOptions{CacheControl: cache}); err != nil {
		return fileFact{}, fmt.Errorf("%s: %w", key, err)
	}
	return fileFact{Key: key, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// reason is why the worker fails a statement: the English text (history,
// logs) and the catalogue message that says it in the reader's language.
type reason struct {
	text string
	msg  presession.Message
}

// because returns the reason whose English text is format with args;
// format is the English message of key in the catalogue, word for word.
func because(key, format string, args ...string) reason {
	text, msg := i18n.Reason(key, format, args...)
	return reason{text: text, msg: msg}
}

// rejected is the reason of a source media refuses.
func rejected(r *media.Rejection) reason {
	return reason{text: r.Reason, msg: presession.Message{Key: r.Key, Args: r.Args}}
}

func sessionGone(session string) reason {
	return because("reason.session_gone", "the session \"%s\" is no longer configured; the organisers need to restore it", session)
}

func notPrepared(err error) reason {
	return because("reason.not_prepared", "the video could not be prepared for streaming (%s); please export it again as MP4 and upload it", err.Error())
}

func retriesExhausted() reason {
	return because("reason.retries", "processing failed after several attempts because of a problem on our side; the organisers have been told and will retry it — there is no need to upload again")
}

// fail moves the statement to failed with a reason a person can act on,
// and returns cause wrapped with SkipRetry: trying again will not help.
func (w *Worker) fail(ctx context.Context, st *presession.Statement, r reason, cause error) error {
	if err := ctx.Err(); err != nil {
		// Stopped or timed out mid-way: whatever went wrong may be the
		// interruption itself. Let the task run again.
		return fmt.Errorf("%s: %w", r.text, err)
	}
	if _, err := w.catalog.Transition(ctx, st.ID, presession.StatusFailed, actor, r.text, r.msg); err != nil &&
		presession.ErrorCode(err) != presession.ECONFLICT {
		return err // the catalog is unavailable: retry the whole task
	}
	if cause == nil {
		cause = errors.New(r.text)
	}
	return fmt.Errorf("%w: %w", cause, asynq.SkipRetry)
}

// transient returns err for a retry; on the last attempt it fails the
// statement so staff and the organisation see why.
func (w *Worker) transient(ctx context.Context, st *presession.Statement, err error) error {
	n, _ := asynq.GetRetryCount(ctx)
	max, ok := asynq.GetMaxRetry(ctx)
	if errors.Is(ctx.Err(), context.Canceled) || !ok || n < max {
		return err // a shutdown, or retries left; a last timeout fails below
	}
	w.log.Error("processing failed after retries", "statement", st.ID, "attempts", n+1, "err", err)
	return w.fail(context.WithoutCancel(ctx), st, retriesExhausted(), err) // err wrapped with SkipRetry, or the catalog's error
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
