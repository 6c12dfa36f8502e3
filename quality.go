package presession

import "strconv"

// Quality is the technical report of a statement's media, measured in the
// run that transcoded it: what a reviewer should check before approving,
// each finding with its stretch of time and a sentence for staff.
type Quality struct {
	// Loudness of the source before normalisation (EBU R128); nil when the
	// source has no sound.
	Loudness *Loudness `json:"loudness,omitempty"`
	Findings []Finding `json:"findings"`
	// Summary is "looks fine" or "needs attention (N)", in English;
	// SummaryKey and SummaryArgs say it in the reader's language.
	Summary     string   `json:"summary"`
	SummaryKey  string   `json:"summary_key"`
	SummaryArgs []string `json:"summary_args,omitempty"`
}

// Loudness is an EBU R128 measurement.
type Loudness struct {
	Integrated float64 `json:"integrated"` // LUFS
	Range      float64 `json:"range"`      // LU
	TruePeak   float64 `json:"true_peak"`  // dBTP
}

// Finding is one thing a reviewer should look at: its kind ("black",
// "frozen", "silent", "quiet", "clipped", "audio_short", "still", "dark",
// "portrait", "over_limit"), where it is, and the sentence that says it
// (Text in English; Key and Args for the reader's language).
type Finding struct {
	Kind  string   `json:"kind"`
	Start float64  `json:"start"`
	End   float64  `json:"end"`
	Text  string   `json:"text"`
	Key   string   `json:"key"`
	Args  []string `json:"args,omitempty"`
}

// Summarise fills the summary from the findings.
func (q *Quality) Summarise() {
	if len(q.Findings) == 0 {
		q.Summary, q.SummaryKey, q.SummaryArgs = "looks fine", "status.quality_fine", nil
		return
	}
	n := strconv.Itoa(len(q.Findings))
	q.Summary, q.SummaryKey, q.SummaryArgs = "needs attention ("+n+")", "status.quality_attention", []string{n}
}

// Fine reports a report without findings.
func (q *Quality) Fine() bool { return q != nil && len(q.Findings) == 0 }
