package i18n_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/i18n"
)

func TestCatalogComplete(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	if m := b.Missing(); len(m) > 0 {
		t.Fatalf("keys missing in some language:\n%v", m)
	}
}

func TestMatch(t *testing.T) {
	b, _ := i18n.Load()
	for _, tc := range []struct{ url, cookie, accept, want string }{
		{"/", "", "", "en"},
		{"/", "", "fr-CH, fr;q=0.9, en;q=0.8", "fr"},
		{"/", "", "es-419", "es"},
		{"/", "", "de-DE", "en"},
		{"/", "es", "fr", "es"},
		{"/?lang=fr", "es", "en", "fr"},
		{"/?lang=xx", "", "es", "es"},
	} {
		r := httptest.NewRequest("GET", tc.url, nil)
		r.Header.Set("Accept-Language", tc.accept)
		if tc.cookie != "" {
			r.Header.Set("Cookie", i18n.CookieName+"="+tc.cookie)
		}
		if got := b.Match(r); got != tc.want {
			t.Errorf("%s cookie=%s accept=%s: %s, want %s", tc.url, tc.cookie, tc.accept, got, tc.want)
		}
	}
}

func TestDates(t *testing.T) {
	d := time.Date(2020, 5, 20, 23, 59, 59, 0, time.UTC)
	for lang, want := range map[string]string{"en": "20 May 2020, 23:59 UTC", "fr": "20 mai 2020, 23:59 UTC", "es": "20 de mayo de 2020, 23:59 UTC"} {
		if got := i18n.DateTime(lang, d); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	if got := i18n.Duration(605); got != "10:05" {
		t.Errorf("duration %s", got)
	}
}

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int64
		want string
	}{
		{"en", 512, "512 bytes"}, {"fr", 512, "512 octets"}, {"en", 1536, "1.5 KiB"}, {"fr", 1536, "1,5 Kio"},
		{"es", 1536, "1,5 KiB"}, {"en", 8 << 30, "8 GiB"}, {"fr", 8 << 30, "8 Gio"}, {"es", 300 << 20, "300 MiB"},
		{"en", 294325, "287.4 KiB"}, {"xx", 2048, "2 KiB"},
	} {
		if got := i18n.Bytes(tc.lang, tc.n); got != tc.want {
			t.Errorf("Bytes(%s, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	if got := fmt.Sprintf("%s", i18n.Size(10<<20)); got != "10 MiB" {
		t.Errorf("Size prints %q", got)
	}
}

func TestMessage(t *testing.T) {
	b, _ := i18n.Load()
	for _, tc := range []struct {
		key  string
		args []string
		ok   bool
	}{
		{"reject.truncated", []string{"0:24", "1:00"}, true},
		{"reject.truncated", []string{"0:24"}, false},              // too few arguments
		{"reject.truncated", []string{"0:24", "1:00", "x"}, false}, // too many
		{"reject.truncated", []string{"%!d", "1:00"}, false},       // an argument that looks like a misfit
		{"no.such.key", nil, false},
	} {
		got, ok := b.Message("fr", tc.key, tc.args)
		if ok != tc.ok || (ok && (!strings.Contains(got, "0:24") || strings.Contains(got, "%!"))) {
			t.Errorf("Message(fr, %s, %q) = %q, %v; want ok=%v", tc.key, tc.args, got, ok, tc.ok)
		}
	}
}
