package media

import (
	"errors"
	"strings"
	"testing"

	"github.com/uprinfo/presession/i18n"
)

// TestCaptionErrorMessages: every refusal of ParseCaptions names a
// catalogue message that exists in every language and takes its
// arguments, and the English message with them is Error() word for word.
func TestCaptionErrorMessages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, in := range []string{
		"WEBVTT\n\n" + strings.Repeat("x", MaxCaptionBytes),
		"1\n00:00:01,000 --> 00:00:02,000\n\xe9t\xe9\n",
		"hello\nworld\n",
		"WEBVTT\n\n00:00:01.000 -> 00:00:02.000\na\n",
		"WEBVTT\n\n1\n00:00:01.000 --> \n",
		"WEBVTT\n\n00:00:xx --> 00:00:02.000\na\n",
		"WEBVTT\n\n00:00:01.000 --> 00:00:xx\na\n",
		"1\n00:00:05,000 --> 00:00:04,000\nx\n",
		"WEBVTT\n\n00:00:12.000 --> 00:00:13.000\nb\n",
		"WEBVTT\n\n00:00:05.000 --> 00:00:06.000\na\n\n00:00:01.000 --> 00:00:02.000\nb\n",
		"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na\n00:00:03.000 --> 00:00:04.000\nb\n",
		"WEBVTT\n\n",
	} {
		_, err := ParseCaptions([]byte(in), 10)
		var ce *CaptionError
		if !errors.As(err, &ce) {
			t.Fatalf("ParseCaptions(%.40q): %v, want a *CaptionError", in, err)
		}
		seen[ce.Key] = true
		en, ok := b.Message("en", ce.Key, ce.Args)
		if !ok || en != ce.Error() {
			t.Errorf("%s %q: English message %q (%v), error %q", ce.Key, ce.Args, en, ok, ce.Error())
		}
		for _, lang := range i18n.Languages[1:] {
			if s, ok := b.Message(lang, ce.Key, ce.Args); !ok || s == en {
				t.Errorf("%s in %s: %q (%v)", ce.Key, lang, s, ok)
			}
		}
	}
	if len(seen) != 11 {
		t.Errorf("%d distinct messages seen, want all 11: %v", len(seen), seen)
	}
}
