package worker

import (
	"errors"
	"strings"
	"testing"

	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/media"
)

// TestReasonMessages: the worker's own failure reasons name catalogue
// messages that take exactly their arguments, and the English message is
// the reason word for word.
func TestReasonMessages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []reason{
		sessionGone("upr36"),
		notPrepared(errors.New("media: plan: empty ladder")),
		retriesExhausted(),
		rejected(&media.Rejection{Code: media.RejectTruncated, Reason: "the file stops at 0:24 of 1:00", Key: "reject.truncated", Args: []string{"0:24", "1:00"}}),
	} {
		t.Run(r.msg.Key, func(t *testing.T) {
			if !b.Has(r.msg.Key) {
				t.Fatalf("key %q is not in the catalogue", r.msg.Key)
			}
			args := make([]any, len(r.msg.Args))
			for i, a := range r.msg.Args {
				args[i] = a
			}
			for _, lang := range i18n.Languages {
				got := b.T(lang, r.msg.Key, args...)
				if strings.Contains(got, "%!") {
					t.Errorf("%s: the message takes other arguments than %q: %s", lang, r.msg.Args, got)
				}
				if lang == "en" && r.msg.Key != "reject.truncated" && got != r.text {
					t.Errorf("English message differs from the reason:\n  message %s\n  reason  %s", got, r.text)
				}
			}
		})
	}
}
