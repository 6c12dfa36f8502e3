package upload

import (
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
)

// TestReasonMessages: the endpoint's failure reasons name catalogue
// messages that take exactly their arguments, and the English message is
// the reason word for word.
func TestReasonMessages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	type reason struct {
		text string
		msg  presession.Message
	}
	of := func(text string, msg presession.Message) reason { return reason{text, msg} }
	for _, tc := range []struct {
		r        reason
		contains string
	}{
		{of(cancelled()), "cancelled"},
		{of(abandoned(7 * 24 * time.Hour)), "7 days"},
		{of(abandoned(36 * time.Hour)), "36 hours"},
		{of(abandoned(90 * time.Second)), "1m30s"},
		{of(neverStarted()), "never started"},
		{of(notCreated()), "could not be started"},
	} {
		r := tc.r
		t.Run(tc.contains, func(t *testing.T) {
			if !b.Has(r.msg.Key) {
				t.Fatalf("key %q is not in the catalogue", r.msg.Key)
			}
			if !strings.Contains(r.text, tc.contains) {
				t.Errorf("reason %q, want it to say %q", r.text, tc.contains)
			}
			for _, lang := range i18n.Languages {
				got, ok := b.Message(lang, r.msg.Key, r.msg.Args)
				if !ok {
					t.Errorf("%s: the message takes other arguments than %q", lang, r.msg.Args)
				}
				if lang == "en" && got != r.text {
					t.Errorf("English message differs from the reason:\n  message %s\n  reason  %s", got, r.text)
				}
			}
		})
	}
}
