package playlist

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/uprinfo/presession"
)

// benchStatements returns 50 statements of 4 rungs × 100 segments.
func benchStatements() []*presession.Statement {
	r240 := rungSpec{"240p", 426, 240, 400000, 350000, "avc1.640015,mp4a.40.2", 25}
	segs := make([]float64, 100)
	for i := range segs {
		segs[i] = 6.006
	}
	segs[99] = 2.5
	list := make([]*presession.Statement, 50)
	for i := range list {
		list[i] = fakeStatement(fmt.Sprintf("01JSTATEMENT%04d", i), segs, r1080, r720, r360, r240)
	}
	return list
}

// BenchmarkRebuild measures a rebuild of 50 statements (4 rungs, 100
// segments each, 3 subtitle languages): the build and its stored
// encoding. It reports the ratio to the 50 ms budget (x_budget, must stay
// ≤ 1) and to a baseline measured in the same run: decoding the same 50
// statements from JSON, which every rebuild does when it reads the
// catalog (x_decode).
func BenchmarkRebuild(b *testing.B) {
	list := benchStatements()
	caps := map[string]string{}
	for _, s := range list {
		for _, l := range []string{"en", "fr", "es"} {
			caps[l+"/"+s.ID] = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n1\n00:00:00.000 --> 00:00:05.000\nSpeaker — Organisation\n\n2\n00:00:05.000 --> 00:09:56.600\nCaptions are being prepared\n"
		}
	}
	in := Input{Session: testSession(), Country: testCountry(), Statements: list, Captions: caps}
	raw := make([][]byte, len(list))
	for i, s := range list {
		raw[i], _ = json.Marshal(s)
	}
	// Baseline: decode the statements.
	const baseRuns = 20
	start := time.Now()
	for range baseRuns {
		for _, r := range raw {
			var s presession.Statement
			if err := json.Unmarshal(r, &s); err != nil {
				b.Fatal(err)
			}
		}
	}
	base := float64(time.Since(start).Nanoseconds()) / baseRuns

	b.ReportAllocs()
	b.ResetTimer()
	var size int
	for b.Loop() {
		r, err := Build(in)
		if err != nil {
			b.Fatal(err)
		}
		enc, err := r.Encode()
		if err != nil {
			b.Fatal(err)
		}
		size = len(enc)
	}
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/50e6, "x_budget")
	b.ReportMetric(per/base, "x_decode")
	b.ReportMetric(float64(size), "stored_bytes")
}
