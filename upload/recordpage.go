package upload

import "fmt"

// The upload page's record mode (static/record.js): the messages its
// script shows, beside jsMessages.
var recMessages = []string{
	"upload.rec.silent", "upload.rec.prompter_empty", "upload.rec.start", "upload.rec.stop", "upload.rec.retake",
	"upload.rec.send", "upload.rec.left", "upload.rec.elapsed", "upload.rec.minute_left", "upload.rec.seconds_left",
	"upload.rec.max_reached", "upload.rec.recorded", "upload.rec.sent_part", "upload.rec.sending", "upload.rec.done",
	"upload.rec.discarded", "upload.rec.interrupted", "upload.rec.denied", "upload.rec.no_device", "upload.rec.busy_device",
	"upload.rec.unsupported", "upload.rec.failed", "upload.rec.camera", "upload.rec.microphone",
}

// RecordTimeslice is how often, in milliseconds, the page's recorder hands
// over a chunk of the recording to be sent: at most this much of a take is
// lost when the page is closed or the line drops while recording.
const RecordTimeslice = 2000

// clock writes seconds as the page's countdown does: "10:00", "1:00:00".
func clock(s int) string {
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
