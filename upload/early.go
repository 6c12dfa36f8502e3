package upload

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/media"
	"github.com/uprinfo/presession/metrics"
)

// Knowing early: an upload is examined as its bytes arrive, so that a
// file that will be refused anyway is refused while it is being sent,
// not after an hour on a poor line.
//
//   - Its first media.SniffSize bytes are sniffed (media.Sniff, as the
//     worker does) as soon as they are in, inline: a file that is not a
//     video container we accept (random bytes, a ZIP, a PDF, an image,
//     an MP3…) is refused within the request that brought them.
//   - Then ffprobe reads what arrived (media.Early decides): for an MP4
//     or QuickTime file as soon as its index (the moov box) is complete,
//     wherever it is — at the front (faststart) or after the media data,
//     which tus's sequential offsets let us find by walking the top-level
//     boxes (an mdat declares its size, so where the moov starts is known
//     before it arrives); for other containers once headBytes are in.
//     The probe reads a sparse copy of the received beginning (and the
//     index at its offset) in a temporary file; it runs beside the
//     request, which goes on receiving up to leadBytes more before it
//     waits for the verdict, and does not answer before it: on a line of
//     a few hundred KiB/s the probe is over long before, so a good file
//     never waits; on loopback a request waits once for the ~50 ms of a
//     probe, in exchange for a bound on what a refused file sends
//     (headBytes + leadBytes + one read). A probe that fails or times out
//     decides nothing.
//
// A refusal stops the request (its answer is the 422 ERR_FILE_REFUSED with
// the reason in the request's language), deletes what storage holds of
// the upload and marks the statement failed with the reason, as the
// worker does (so the organisation reads it in its list and gets the
// failure mail); later requests on the upload get the same answer from
// the statement (see refusedEarly).
//
// The examination is a node's own, in memory: a request that starts
// after bytes this node did not receive (the upload moved to another
// node, or this one restarted) ends it, and the worker examines the
// whole file as before. Deferred-length uploads are examined the same
// way: nothing here needs the size.
const (
	headBytes    = 4 << 20  // what ffprobe reads of a container that is not ISO-BMFF
	leadBytes    = 4 << 20  // received past the start of a probe before the request waits for its verdict
	maxIndexSize = 64 << 20 // the largest moov box examined
	probeTimeout = 20 * time.Second
	// examIdle is how long a node keeps the examination of an upload that
	// receives nothing.
	examIdle = time.Hour
)

// ErrCodeRefused answers a request on an upload that its first bytes show
// will never be accepted.
const ErrCodeRefused = "ERR_FILE_REFUSED"

// examiner holds a node's examinations of the uploads it receives.
type examiner struct {
	dir string // temporary copies; made on first use
	log *slog.Logger
	// probe describes a local file (media.Probe).
	probe func(ctx context.Context, path string) (*media.Info, error)
	// limits are the session's for an upload (its metadata names the session).
	limits func(ctx context.Context, uploadID string) media.Limits
	sem    chan struct{} // probes at once on this node

	mu   sync.Mutex
	byID map[string]*examination
	made bool // dir exists
}

func newExaminer(dir string, log *slog.Logger, limits func(context.Context, string) media.Limits) *examiner {
	return &examiner{dir: dir, log: log, probe: media.Probe, limits: limits, sem: make(chan struct{}, 2), byID: map[string]*examination{}}
}

// get returns the examination of upload id, starting one if there is none
// and offset is 0 (a request that starts later cannot examine the file).
func (x *examiner) get(id string, offset int64) *examination {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.byID[id]
	if e == nil {
		e = &examination{x: x, id: id, walking: true}
		if offset > 0 {
			e.done = true // nothing to examine: bytes before were received elsewhere or before a restart
		}
		x.byID[id] = e
	}
	e.used.Store(time.Now().UnixNano())
	return e
}

// drop forgets the examination of upload id and removes its copy.
func (x *examiner) drop(id string) {
	x.mu.Lock()
	e := x.byID[id]
	delete(x.byID, id)
	x.mu.Unlock()
	if e != nil {
		e.release()
	}
}

// expire drops the examinations idle since before t.
func (x *examiner) expire(t time.Time) {
	x.mu.Lock()
	var old []string
	for id, e := range x.byID {
		if e.used.Load() < t.UnixNano() {
			old = append(old, id)
		}
	}
	x.mu.Unlock()
	for _, id := range old {
		x.drop(id)
	}
}

// close removes every copy.
func (x *examiner) close() {
	x.expire(time.Now().Add(time.Hour))
}

func (x *examiner) tempFile(id string) (*os.File, error) {
	x.mu.Lock()
	if !x.made {
		if err := os.MkdirAll(x.dir, 0o750); err != nil {
			x.mu.Unlock()
			return nil, err
		}
		x.made = true
	}
	x.mu.Unlock()
	return os.CreateTemp(x.dir, "head-"+id+"-*")
}

// examination is what a node learned of one upload so far. One request at
// a time writes an upload (tusd's lock); mu guards what the probe sets.
type examination struct {
	x    *examiner
	id   string
	used atomic.Int64 // unix nanoseconds of the last byte or request

	seen int64  // bytes received, contiguous from 0
	head []byte // the first media.SniffSize bytes
	c    media.Container
	file *os.File // the sparse copy ffprobe reads; nil before the first byte kept

	// The walk over the top-level boxes of an ISO-BMFF file.
	walking            bool
	next               int64  // offset of the next top-level box
	hdr                []byte // its header so far
	moovStart, moovEnd int64  // the index; moovEnd is 0 until it is found

	probeAt int64         // offset at which the probe started; 0 when none
	probing chan struct{} // closed when the probe's verdict is in

	mu       sync.Mutex
	done     bool // nothing more to examine
	verdict  *media.Rejection
	released bool // the copy is gone: keep no more
}

func (e *examination) refused() *media.Rejection {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.verdict
}

func (e *examination) finished() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.done
}

// decide ends the examination, with a refusal or none.
func (e *examination) decide(rej *media.Rejection) {
	e.mu.Lock()
	e.done, e.verdict = true, rej
	e.mu.Unlock()
}

// release removes the copy (a probe that still reads it keeps its open
// file until it ends).
func (e *examination) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.file != nil {
		e.file.Close()
		os.Remove(e.file.Name())
		e.file = nil
	}
	e.released = true
}

// feed takes the bytes p received at offset off.
func (e *examination) feed(off int64, p []byte) {
	if e.finished() || e.probeAt > 0 {
		return
	}
	e.used.Store(time.Now().UnixNano())
	end := off + int64(len(p))
	if off > e.seen {
		e.decide(nil) // a gap: this node did not receive everything before
		return
	}
	if end <= e.seen {
		return // received again after a resume
	}
	p, off = p[e.seen-off:], e.seen
	if n := media.SniffSize - len(e.head); e.c == "" && n > 0 {
		e.head = append(e.head, p[:min(n, len(p))]...)
	}
	if e.walking {
		e.walk(off, p)
	}
	e.keep(off, p)
	e.seen = end
	if e.c == "" && len(e.head) == media.SniffSize {
		if !e.sniff() {
			return
		}
	}
	switch {
	case e.c == "":
	case e.c == media.ContainerMOV:
		if e.moovEnd > 0 && e.seen >= e.moovEnd {
			e.startProbe()
		} else if !e.walking && e.moovEnd == 0 {
			e.decide(nil) // no index we can find before the end
		}
	case e.seen >= headBytes:
		e.startProbe()
	}
}

// sniff decides the container from the first bytes; false when the
// examination ends here.
func (e *examination) sniff() bool {
	c, err := media.Sniff(e.head)
	var rej *media.Rejection
	if errors.As(err, &rej) {
		e.decide(rej)
		return false
	}
	if err != nil {
		e.decide(nil)
		return false
	}
	e.c, e.head = c, nil
	return true
}

// walk follows the top-level boxes of an ISO-BMFF file through p, the
// bytes at off, to find where the index (moov) is.
func (e *examination) walk(off int64, p []byte) {
	for len(p) > 0 && e.walking {
		if off+int64(len(p)) <= e.next {
			return // inside a box
		}
		if off < e.next {
			p, off = p[e.next-off:], e.next
		}
		want := 8
		if len(e.hdr) >= 8 && binary.BigEndian.Uint32(e.hdr) == 1 {
			want = 16 // a 64-bit size follows the type
		}
		n := min(want-len(e.hdr), len(p))
		e.hdr = append(e.hdr, p[:n]...)
		p, off = p[n:], off+int64(n)
		if len(e.hdr) < want || want == 8 && binary.BigEndian.Uint32(e.hdr) == 1 {
			continue
		}
		size, typ := int64(binary.BigEndian.Uint32(e.hdr)), string(e.hdr[4:8])
		if size == 1 {
			size = int64(binary.BigEndian.Uint64(e.hdr[8:16]))
		}
		start := e.next
		if size < int64(len(e.hdr)) || !boxType(typ) {
			e.walking = false // to the end of the file (size 0), or not boxes
			return
		}
		if typ == "moov" {
			e.walking = false
			if size <= maxIndexSize {
				e.moovStart, e.moovEnd = start, start+size
			}
			return
		}
		e.next, e.hdr = start+size, e.hdr[:0]
	}
}

// boxType reports whether t can be the type of a box: four printable
// ASCII characters.
func boxType(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] > 0x7e {
			return false
		}
	}
	return len(t) == 4
}

// keep copies what ffprobe will read of p (the bytes at off): the first
// headBytes and the index.
func (e *examination) keep(off int64, p []byte) {
	end := off + int64(len(p))
	for _, r := range [][2]int64{{0, headBytes}, {e.moovStart, e.moovEnd}} {
		lo, hi := max(off, r[0]), min(end, r[1])
		if lo >= hi {
			continue
		}
		if err := e.write(p[lo-off:hi-off], lo); err != nil {
			e.x.log.Warn("no room to examine an upload as it arrives; the worker will", "upload", e.id, "err", err)
			e.decide(nil)
			return
		}
	}
}

// write puts b at off in the copy, which it makes on first use.
func (e *examination) write(b []byte, off int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.released {
		return errors.New("the examination was dropped")
	}
	if e.file == nil {
		f, err := e.x.tempFile(e.id)
		if err != nil {
			return err
		}
		e.file = f
	}
	_, err := e.file.WriteAt(b, off)
	return err
}

// startProbe runs ffprobe on the copy beside the request.
func (e *examination) startProbe() {
	e.mu.Lock()
	f := e.file
	e.mu.Unlock()
	if f == nil {
		e.decide(nil)
		return
	}
	e.probeAt = e.seen
	e.probing = make(chan struct{})
	path := f.Name()
	go func() {
		defer close(e.probing)
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		defer cancel()
		select {
		case e.x.sem <- struct{}{}:
			defer func() { <-e.x.sem }()
		case <-ctx.Done():
			e.decide(nil)
			return
		}
		info, err := e.x.probe(ctx, path)
		if err != nil {
			e.x.log.Debug("probing an upload's beginning decided nothing", "upload", e.id, "err", err)
			e.decide(nil)
			return
		}
		rej := media.Early(info, e.x.limits(ctx, e.id))
		if rej == nil {
			e.x.log.Debug("an upload's beginning looks right", "upload", e.id, "format", info.FormatName, "duration", info.Duration)
		}
		e.decide(rej)
	}()
}

// wait returns once the running probe has decided, or ctx is done.
func (e *examination) wait(ctx context.Context) {
	if e.probing == nil {
		return
	}
	select {
	case <-e.probing:
	case <-ctx.Done():
	}
}

// examinedStore examines what tusd writes through it (see examining).
type examinedStore struct {
	handler.DataStore
	term handler.TerminaterDataStore
	svc  *Service
}

type examinedUpload struct {
	handler.Upload
	id  string
	svc *Service
}

func (g examinedStore) NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error) {
	return newWrapped(ctx, g.DataStore, info, g.wrap)
}

func (g examinedStore) GetUpload(ctx context.Context, id string) (handler.Upload, error) {
	return getWrapped(ctx, g.DataStore, id, g.wrap)
}

func (g examinedStore) wrap(up handler.Upload, id string) handler.Upload {
	return examinedUpload{Upload: up, id: id, svc: g.svc}
}

func (g examinedStore) AsTerminatableUpload(up handler.Upload) handler.TerminatableUpload {
	if eu, ok := up.(examinedUpload); ok {
		g.svc.exam.drop(eu.id)
		up = eu.Upload
	}
	return g.term.AsTerminatableUpload(up)
}

// AsLengthDeclarableUpload lets tusd declare a deferred length through
// the examination when the store below can.
func (g examinedStore) AsLengthDeclarableUpload(up handler.Upload) handler.LengthDeclarableUpload {
	if eu, ok := up.(examinedUpload); ok {
		up = eu.Upload
	}
	if ld, ok := g.DataStore.(handler.LengthDeferrerDataStore); ok {
		return ld.AsLengthDeclarableUpload(up)
	}
	return nil
}

// examining reads a request body for the examination: it feeds every
// byte to it, fails with the refusal once there is one, and waits for a
// probe's verdict once leadBytes have come in since it started.
type examining struct {
	ctx    context.Context
	src    io.Reader
	e      *examination
	offset int64 // of the next byte
}

var errRefused = errors.New("upload refused by its examination")

func (r *examining) Read(p []byte) (int, error) {
	if r.e.refused() != nil {
		return 0, errRefused
	}
	n, err := r.src.Read(p)
	r.e.feed(r.offset, p[:n])
	r.offset += int64(n)
	if r.e.probing != nil && r.offset >= r.e.probeAt+leadBytes {
		r.e.wait(r.ctx)
	}
	if r.e.refused() != nil {
		return n, errRefused
	}
	return n, err
}

func (u examinedUpload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	e := u.svc.exam.get(u.id, offset)
	if rej := e.refused(); rej != nil {
		return 0, u.svc.refuseEarly(ctx, u.id, rej)
	}
	if e.finished() {
		return u.Upload.WriteChunk(ctx, offset, src)
	}
	n, err := u.Upload.WriteChunk(ctx, offset, &examining{ctx: ctx, src: src, e: e, offset: offset})
	e.wait(ctx) // a request does not answer before the verdict of the probe it started
	if rej := e.refused(); rej != nil {
		return 0, u.svc.refuseEarly(ctx, u.id, rej)
	}
	if errors.Is(err, errRefused) {
		err = nil // cannot happen: a refusal stays
	}
	if e.finished() {
		e.release()
	}
	return n, err
}

// FinishUpload sniffs a file shorter than media.SniffSize, whose
// examination could not start before, and refuses it as WriteChunk does.
func (u examinedUpload) FinishUpload(ctx context.Context) error {
	e := u.svc.exam.get(u.id, 1)
	if !e.finished() && e.c == "" && len(e.head) > 0 && e.seen == int64(len(e.head)) {
		e.sniff()
	}
	e.wait(ctx)
	if rej := e.refused(); rej != nil {
		return u.svc.refuseEarly(ctx, u.id, rej)
	}
	u.svc.exam.drop(u.id)
	return u.Upload.FinishUpload(ctx)
}

// refuseEarly ends an upload its examination refused: storage forgets
// it, the statement fails with the reason, and the request is answered
// with the refusal in its language. It runs in a request holding the
// upload's lock.
func (s *Service) refuseEarly(ctx context.Context, uploadID string, rej *media.Rejection) error {
	ctx = context.WithoutCancel(ctx)
	id := statementID(uploadID)
	s.exam.drop(uploadID)
	if err := s.store.remove(ctx, id); err != nil {
		s.log.Error("deleting a refused upload", "statement", id, "err", err)
	}
	_, err := s.deps.Statements.Transition(ctx, id, presession.StatusFailed, "system", rej.Reason, presession.Message{Key: rej.Key, Args: rej.Args})
	switch presession.ErrorCode(err) {
	case "", presession.ECONFLICT, presession.ENOTFOUND:
		if err := s.markSourceDeleted(ctx, id, ""); err != nil {
			s.log.Error("recording a refused upload's deletion", "statement", id, "err", err)
		}
	default:
		s.log.Error("recording a refused upload", "statement", id, "err", err)
	}
	s.deps.Metrics.UploadRefused(metrics.RefusedInvalid)
	s.log.Info("upload refused as it arrived", "statement", id, "code", rej.Code, "reason", rej.Reason)
	return s.localize(ctx, refusedFile(rej.Reason, rej.Key, rej.Args))
}

// refusedFile is the answer to a request on an upload its examination
// refused: reason in English, key and args its catalogue message.
func refusedFile(reason, key string, args []string) refusal {
	a := make([]any, len(args))
	for i, v := range args {
		a[i] = v
	}
	return refusal{tus: handler.NewError(ErrCodeRefused, reason, http.StatusUnprocessableEntity), key: key, args: a}
}

// refusedEarly is the refusal of a request on an upload that is gone
// because its examination refused it (its statement failed with a
// "reject." reason and holds no bytes), or nil.
func (s *Service) refusedEarly(ctx context.Context, invitationID, id string) error {
	st, err := s.deps.Statements.Get(ctx, id)
	if err != nil || st.InvitationID != invitationID || st.Status != presession.StatusFailed ||
		!strings.HasPrefix(st.ReasonKey, "reject.") || st.SourceDeletedAt.IsZero() {
		return nil
	}
	return refusedFile(st.Reason, st.ReasonKey, st.ReasonArgs)
}

// sessionLimits are the limits of the session an upload is for.
func (s *Service) sessionLimits(ctx context.Context, uploadID string) media.Limits {
	info, err := s.store.readInfo(ctx, statementID(uploadID))
	if err != nil {
		return media.Limits{}
	}
	sess, ok := s.deps.Sessions.Find(info.MetaData[metaSession])
	if !ok {
		return media.Limits{}
	}
	return media.DefaultLimits(float64(sess.MaxStatementSeconds))
}

func examDir(cfg Config) string {
	if cfg.ExamineDir != "" {
		return cfg.ExamineDir
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("presession-examine-%d", os.Getpid()))
}
