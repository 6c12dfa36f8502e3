package i18n_test

import (
	"slices"
	"testing"

	"github.com/uprinfo/presession/i18n"
)

// TestReason: the English text is the catalogue's English message with the
// arguments, and the stored message renders to it.
func TestReason(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	const format = "upload abandoned: no data arrived for %s days; start the upload again"
	text, msg := i18n.Reason("reason.upload_abandoned_days", format, "7")
	if want := "upload abandoned: no data arrived for 7 days; start the upload again"; text != want {
		t.Errorf("text %q, want %q", text, want)
	}
	if msg.Key != "reason.upload_abandoned_days" || !slices.Equal(msg.Args, []string{"7"}) {
		t.Errorf("message %+v", msg)
	}
	if en, ok := b.Message("en", msg.Key, msg.Args); !ok || en != text {
		t.Errorf("rendered %q %v, want %q", en, ok, text)
	}
}
