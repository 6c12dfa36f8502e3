package upload

import (
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRecordSend records a 60 s take on the upload page (Chromium,
// fake camera and microphone, loopback, S3 storage) and measures the time
// from pressing Stop to the upload being complete: the take went up while
// it was recorded, so what is left is the last chunk and the declared
// length (goal: under 5 s). The baseline, in the same run, is the same
// bytes sent as one ordinary upload once the take is over, which is what
// sending after Stop would cost without upload-while-recording on this
// line. RECORD_BENCH_SECONDS overrides the take's length.
func BenchmarkRecordSend(b *testing.B) {
	seconds := 60.0
	if v, err := strconv.ParseFloat(os.Getenv("RECORD_BENCH_SECONDS"), 64); err == nil && v > 0 {
		seconds = v
	}
	for i := 0; i < b.N; i++ {
		e := newEnv(b, "s3")
		srv, _ := e.pageServer(0)
		tok, inv := e.invite("AD", "Civil Voice", time.Time{})
		ev := recordRun(b, srv.URL+"/upload?token="+tok, []map[string]any{{"name": "bench", "seconds": seconds}})
		send := time.Duration(ev["sent/bench"]["sendMs"].(float64)) * time.Millisecond

		list, err := e.st.ByInvitation(b.Context(), inv.ID)
		if err != nil || len(list) != 1 {
			b.Fatalf("statements: %v %v", list, err)
		}
		data := e.stored(list[0].ID)
		m := goodMeta()
		m["title"] = "baseline"
		start := time.Now()
		r := e.create(srv.URL, tok, int64(len(data)), m)
		if r.status != http.StatusCreated {
			b.Fatalf("baseline create: %d %s", r.status, r.body)
		}
		if p := e.patch(r.header.Get("Location"), tok, 0, data); p.status != http.StatusNoContent {
			b.Fatalf("baseline patch: %d %s", p.status, p.body)
		}
		whole := time.Since(start)

		b.ReportMetric(float64(send.Milliseconds()), "stop-to-sent-ms")
		b.ReportMetric(seconds, "take-s")
		b.ReportMetric(float64(len(data))/(1<<20), "take-MiB")
		b.ReportMetric(float64(whole.Milliseconds()), "whole-take-upload-ms")
		b.ReportMetric(send.Seconds()/whole.Seconds(), "stop-to-sent/whole-upload")
	}
}
