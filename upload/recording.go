package upload

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
)

// A recording made on the upload page is sent while it is recorded, so
// its length is not known when its upload is created: it is the one kind
// of upload that may defer its length (Upload-Defer-Length: 1), declaring
// it with the last PATCH. It says so with the metadata key "recording"
// ("1") and a type MediaRecorder produces; files must still declare their
// size. tusd's MaxSize bounds a deferred upload as it arrives.
const metaRecording = "recording"

// metaSizeCap is the most a recording may grow to, set at its creation:
// the largest upload, or less when the invitation's storage allowance
// (MaxInvitationBytes) has less room left.
const metaSizeCap = "size_cap"

// recordingTypes are the containers browsers' MediaRecorder writes.
var recordingTypes = []string{"video/webm", "video/mp4", "video/x-matroska"}

// isRecording reports whether upload metadata describe a page recording.
func isRecording(meta handler.MetaData) bool {
	if strings.TrimSpace(meta[metaRecording]) != "1" {
		return false
	}
	ft := strings.ToLower(strings.TrimSpace(meta["filetype"]))
	if i := strings.IndexByte(ft, ';'); i >= 0 {
		ft = strings.TrimSpace(ft[:i])
	}
	for _, t := range recordingTypes {
		if ft == t {
			return true
		}
	}
	return false
}

// recordingHeader reports whether a creation request's Upload-Metadata
// describes a page recording (route's check before tusd parses it).
func recordingHeader(h string) bool {
	return isRecording(handler.ParseMetadataHeader(h))
}

// AsLengthDeclarableUpload lets a deferred upload declare its length
// through the gate, on the core store's own implementation.
func (g gatedStore) AsLengthDeclarableUpload(up handler.Upload) handler.LengthDeclarableUpload {
	if gu, ok := up.(gatedUpload); ok {
		up = gu.Upload
	}
	return g.DataStore.(handler.LengthDeferrerDataStore).AsLengthDeclarableUpload(up)
}

// recordSize sets the size of a statement created before its length was
// known (a recording) once the upload is complete.
func (s *Service) recordSize(ctx context.Context, st *presession.Statement, size int64) (*presession.Statement, error) {
	if st.Size != 0 || size <= 0 {
		return st, nil
	}
	return s.deps.Statements.Update(ctx, st.ID, func(st *presession.Statement) error {
		if st.Size == 0 {
			st.Size = size
		}
		return nil
	})
}

// checkDeferredPatch refuses a PATCH that would take a deferred upload
// past max (tusd caps a deferred upload at its MaxSize only when the
// request states no Content-Length) or past its size cap. Two recordings
// of one invitation made at the same time each have the room left when
// they started.
func checkDeferredPatch(info handler.FileInfo, r *http.Request, max int64) error {
	if !info.SizeIsDeferred || max <= 0 || r.ContentLength <= 0 {
		return nil
	}
	off, err := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off < 0 {
		return nil // tusd refuses it
	}
	n := off + r.ContentLength
	if n > max {
		return tooLarge(n, max)
	}
	if room, err := strconv.ParseInt(info.MetaData[metaSizeCap], 10, 64); err == nil && n > room {
		return tusError(ErrCodeInvitationFull, http.StatusRequestEntityTooLarge, "upload.tus.recording_full",
			"this recording (%s so far) no longer fits in what one invitation may keep in storage (%s were left when it started); record a shorter statement, or ask the organisers if you need more room",
			i18n.Size(n), i18n.Size(room))
	}
	return nil
}

// sizeCap is what a new recording of an invitation with usage u may grow
// to.
func (s *Service) sizeCap(u usage) int64 {
	c := s.cfg.MaxUploadBytes
	if room := s.cfg.MaxInvitationBytes - u.bytes; s.cfg.MaxInvitationBytes > 0 && (c <= 0 || room < c) {
		c = room
	}
	return c
}
