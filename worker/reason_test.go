package worker

import (
	"errors"
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
			for _, lang := range i18n.Languages {
				got, ok := b.Message(lang, r.msg.Key, r.msg.Args)
				if !ok {
					t.Errorf("%s: the message takes other arguments than %q", lang, r.msg.Args)
				}
				if lang == "en" && r.msg.Key != "reject.truncated" && got != r.text {
					t.Errorf("English message differs from the reason:\n  message %s\n  reason  %s", got, r.text)
				}
			}
		})
	}
}
