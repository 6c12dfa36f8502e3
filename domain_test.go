package presession_test

import (
	"strings"
	"testing"

	"github.com/uprinfo/presession"
)

func TestLifecycle(t *testing.T) {
	allowed := map[[2]presession.Status]bool{
		{"uploading", "uploaded"}: true, {"uploading", "failed"}: true,
		{"uploaded", "processing"}: true, {"uploaded", "failed"}: true,
		{"processing", "processing"}: true, {"processing", "ready"}: true, {"processing", "failed"}: true, {"processing", "uploaded"}: true,
		{"ready", "approved"}: true, {"ready", "rejected"}: true, {"ready", "processing"}: true,
		{"approved", "ready"}: true, {"rejected", "ready"}: true,
		{"failed", "uploaded"}: true,
	}
	for _, from := range presession.Statuses {
		for _, to := range presession.Statuses {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				err := presession.CheckTransition(from, to)
				if allowed[[2]presession.Status{from, to}] != (err == nil) {
					t.Fatalf("CheckTransition(%s, %s) = %v, want allowed=%v", from, to, err, allowed[[2]presession.Status{from, to}])
				}
				if err != nil && presession.ErrorCode(err) != presession.ECONFLICT {
					t.Fatalf("code %s, want conflict", presession.ErrorCode(err))
				}
			})
		}
	}
}

func TestBuiltin(t *testing.T) {
	ss := presession.Builtin()
	if err := ss.Validate(); err != nil {
		t.Fatal(err)
	}
	s, ok := ss.Find("upr36")
	if !ok || len(s.Countries) != 14 {
		t.Fatalf("upr36 with 14 countries, got %v", s)
	}
	for code, want := range map[string]string{"AD": "2020-01-31", "BG": "2020-05-20", "hr": "2020-05-20", "MV": "2020-05-20", "MH": "2020-05-20", "US": "2020-01-31"} {
		c, ok := s.Country(code)
		if !ok {
			t.Fatalf("country %s missing", code)
		}
		if got := s.Deadline(c).Format("2006-01-02"); got != want {
			t.Errorf("%s deadline %s, want %s", code, got, want)
		}
	}
}

func TestParseSessions(t *testing.T) {
	good := `{"sessions": [{"id": "upr36", "title": "UPR Pre-session 36", "review": "36th", "upload_deadline": "2020-01-31T23:59:59Z",
	  "max_statement_seconds": 600, "languages": ["en", "fr", "es"],
	  "countries": [{"code": "ad", "name": "Andorra"}, {"code": "BG", "name": "Bulgaria", "upload_deadline": "2020-05-20T23:59:59Z"}]}]}`
	ss, err := presession.ParseSessions(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if _, c, err := ss.Lookup("upr36", "ad"); err != nil || c.Code != "AD" {
		t.Fatalf("lookup ad: %v %v", c, err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"not json", `{`, "not valid JSON"},
		{"unknown field", `{"sessions": [], "x": 1}`, "unknown field"},
		{"empty", `{"sessions": []}`, "no sessions"},
		{"bad country", strings.Replace(good, `"ad"`, `"XX"`, 1), `"XX" is not an ISO 3166-1`},
		{"numeric region", strings.Replace(good, `"ad"`, `"15"`, 1), `is not an ISO 3166-1`},
		{"duplicate country", strings.Replace(good, `"ad"`, `"bg"`, 1), "listed twice"},
		{"bad date", strings.Replace(good, `2020-01-31T23:59:59Z`, `31/01/2020`, 1), `"31/01/2020" is not an RFC 3339 date`},
		{"bad country date", strings.Replace(good, `2020-05-20T23:59:59Z`, `May 20`, 1), `"May 20" is not an RFC 3339 date`},
		{"duplicate id", `{"sessions": [` + good[14:len(good)-2] + `,` + good[14:len(good)-2] + `]}`, "duplicate session id"},
		{"bad language", strings.Replace(good, `"es"`, `"spanish!"`, 1), "not a BCP 47 code"},
		{"no max", strings.Replace(good, `600`, `0`, 1), "max_statement_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := presession.ParseSessions(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ code, lang, want string }{
		{"BG", "en", "Bulgaria"}, {"BG", "fr", "Bulgarie"}, {"BG", "es", "Bulgaria"},
		{"US", "fr", "États-Unis"}, {"MH", "es", "Islas Marshall"},
	} {
		if got := presession.CountryName(tc.code, tc.lang); got != tc.want {
			t.Errorf("CountryName(%s, %s) = %q, want %q", tc.code, tc.lang, got, tc.want)
		}
	}
	for lang, want := range map[string]string{"en": "English", "fr": "Français", "es": "Español"} {
		if got := presession.LanguageName(lang); got != want {
			t.Errorf("LanguageName(%s) = %q, want %q", lang, got, want)
		}
	}
}
