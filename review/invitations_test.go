package review_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/invite"
	"github.com/uprinfo/presession/review"
)

// csv posts a CSV file to the import route in lang and decodes the answer.
func (e *env) importCSV(file, lang, contentType string) (int, invite.Imported, review.ImportErrorBody) {
	e.t.Helper()
	res := e.do("POST", "/api/v1/invitations/import", strings.NewReader(file), bearer(staffToken), func(r *http.Request) {
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		r.Header.Set("Accept-Language", lang)
	})
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var ok invite.Imported
	var bad review.ImportErrorBody
	if res.StatusCode < 300 {
		if err := json.Unmarshal(data, &ok); err != nil {
			e.t.Fatalf("import: %d %s", res.StatusCode, data)
		}
	} else if err := json.Unmarshal(data, &bad); err != nil || bad.Error.Message == "" {
		e.t.Fatalf("import: %d with a body that is not a JSON error: %s", res.StatusCode, data)
	}
	return res.StatusCode, ok, bad
}

func (e *env) listInvitations(query string) review.InvitationList {
	e.t.Helper()
	var l review.InvitationList
	if st, code := e.staff("GET", "/api/v1/invitations"+query, nil, &l); st != 200 {
		e.t.Fatalf("list invitations%s: %d %s", query, st, code)
	}
	return l
}

func TestInvitationContacts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var inv review.InvitationResponse
	st, code := e.staff("POST", "/api/v1/invitations", review.InvitationRequest{Session: "upr36", Country: "bg", Organisation: "BHC",
		Emails: []string{"Contact <bhc@example.org>", "office@example.org"}, Language: "FR", Until: "2099-12-31"}, &inv)
	if st != 201 {
		t.Fatalf("invite: %d %s", st, code)
	}
	rec := inv.Invitation
	if rec == nil || rec.Language != "fr" || strings.Join(rec.Emails, ",") != "bhc@example.org,office@example.org" || rec.CreatedBy != presession.ActorService ||
		rec.Country != "BG" || rec.Until == nil || rec.CreatedAt.IsZero() {
		t.Fatalf("record %+v", rec)
	}
	if tok, err := e.signer.ParseInvitation(inv.Token); err != nil || tok.ID != rec.ID {
		t.Fatalf("token %+v %v", tok, err)
	}
	stored, err := e.cat.Invitation(context.Background(), rec.ID)
	if err != nil || stored.Organisation != "BHC" {
		t.Fatalf("catalog: %+v %v", stored, err)
	}
	// One address as a string; the language defaults to the session's first.
	st, _ = e.staff("POST", "/api/v1/invitations", map[string]string{"session": "upr36", "country": "HR", "organisation": "Croatian NGO", "email": "hr@example.org", "until": "2099-12-31"}, &inv)
	if st != 201 || inv.Invitation.Language != "en" || strings.Join(inv.Invitation.Emails, ",") != "hr@example.org" {
		t.Fatalf("single email: %d %+v", st, inv.Invitation)
	}
	// Refusals, in the request's language.
	for _, tc := range []struct {
		body string
		want map[string]string
	}{
		{`{"session":"upr36","country":"BG","organisation":"X","until":"2099-01-01","emails":["not-an-address"]}`, map[string]string{
			"en": `"not-an-address" is not an e-mail address`, "fr": `"not-an-address" n'est pas une adresse électronique`, "es": `"not-an-address" no es una dirección de correo`}},
		{`{"session":"upr36","country":"BG","organisation":"X","until":"2099-01-01","language":"de"}`, map[string]string{
			"en": `"de" is not a language the mail can be written in`, "fr": `"de" n'est pas une langue`, "es": `"de" no es un idioma`}},
	} {
		for lang, want := range tc.want {
			res := e.do("POST", "/api/v1/invitations", strings.NewReader(tc.body), bearer(staffToken), func(r *http.Request) { r.Header.Set("Accept-Language", lang) })
			var eb struct {
				Error struct{ Code, Message string }
			}
			json.NewDecoder(res.Body).Decode(&eb)
			res.Body.Close()
			if res.StatusCode != 400 || !strings.Contains(eb.Error.Message, want) || eb.Error.Code != presession.EINVALID {
				t.Errorf("%s (%s): %d %+v, want %q", tc.body, lang, res.StatusCode, eb, want)
			}
		}
	}
	if l := e.listInvitations(""); l.Total != 2 {
		t.Errorf("refused invitations were recorded: %d", l.Total)
	}
}

func TestInvitationList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var a, b review.InvitationResponse
	e.staff("POST", "/api/v1/invitations", review.InvitationRequest{Session: "upr36", Country: "BG", Organisation: "A", Emails: []string{"a@example.org"}, Until: "2099-12-31"}, &a)
	e.staff("POST", "/api/v1/invitations", review.InvitationRequest{Session: "upr36", Country: "HR", Organisation: "B", Until: "2099-12-31"}, &b)
	e.statement("BG", a.Invitation.ID, "First", presession.StatusReady)
	e.statement("BG", a.Invitation.ID, "Second", presession.StatusUploaded)
	// A statement still uploading has not been uploaded.
	if err := e.cat.Create(context.Background(), &presession.Statement{ID: "stuploading", Session: "upr36", Country: "HR", InvitationID: b.Invitation.ID, SourceKey: "uploads/stuploading"}); err != nil {
		t.Fatal(err)
	}
	if err := e.cat.RecordMail(context.Background(), a.Invitation.ID, "invitation", presession.Delivery{State: presession.DeliverySent}); err != nil {
		t.Fatal(err)
	}
	l := e.listInvitations("")
	if l.Total != 2 || l.Invitations[0].ID != a.Invitation.ID || l.Invitations[0].Statements != 2 || l.Invitations[0].Uploaded != 2 ||
		l.Invitations[1].Statements != 1 || l.Invitations[1].Uploaded != 0 || l.Invitations[0].Mail["invitation"].State != presession.DeliverySent ||
		l.Invitations[0].CreatedBy != presession.ActorService || l.Invitations[0].CreatedAt.IsZero() || l.Invitations[0].Emails[0] != "a@example.org" {
		t.Fatalf("list %+v", l)
	}
	if l := e.listInvitations("?session=upr36&country=hr"); l.Total != 1 || l.Invitations[0].Organisation != "B" {
		t.Errorf("filtered list %+v", l)
	}
	for _, q := range []string{"?country=FR", "?session=nope"} {
		if st, code := e.staff("GET", "/api/v1/invitations"+q, nil, nil); st != 400 || code != presession.EINVALID {
			t.Errorf("list%s: %d %s", q, st, code)
		}
	}
	if res := e.do("GET", "/api/v1/invitations", nil); res.StatusCode != 401 {
		t.Errorf("list without the staff token: %d", res.StatusCode)
	}
}

const csvHeader = "session,country,organisation,email,language,until\n"

func TestInvitationImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := "\ufeff" + csvHeader +
		"upr36,BG,Bulgarian Helsinki Committee,bhc@example.org;office@bhc.example.org,fr,2099-06-30\n" +
		"upr36,HR,Kuća ljudskih prava,kuca@example.org,es,2099-06-30\n" +
		"upr36,AD,Andorra Voice,av@example.org,,2099-06-30\n"
	st, res, _ := e.importCSV(good, "en", "text/csv; charset=utf-8")
	if st != 201 || res.Created != 3 || res.Existing != 0 || len(res.Invitations) != 3 {
		t.Fatalf("import: %d %+v", st, res)
	}
	if r := res.Invitations[1]; r.Invitation.Organisation != "Kuća ljudskih prava" || r.Invitation.Language != "es" || !strings.Contains(r.UploadURL, "/upload?token=") {
		t.Errorf("second row %+v", r)
	}
	// Again: nothing new, the same invitations.
	st, again, _ := e.importCSV(good, "en", "text/csv")
	if st != 200 || again.Created != 0 || again.Existing != 3 {
		t.Fatalf("second import: %d %+v", st, again)
	}
	for i := range res.Invitations {
		if res.Invitations[i].Invitation.ID != again.Invitations[i].Invitation.ID {
			t.Errorf("row %d: another invitation the second time", i)
		}
	}
	if l := e.listInvitations(""); l.Total != 3 {
		t.Fatalf("after two imports: %d invitations", l.Total)
	}

	// A bad file: every bad row by line and column, in the request's
	// language, and nothing created.
	bad := csvHeader +
		"upr36,BG,New one,new@example.org,en,2099-01-01\n" +
		"upr36,FR,X,x@example.org,en,2099-01-01\n" +
		"upr36,AD,Closed,closed@example.org,en,\n" +
		"upr36,BG,Bad mail,not an address,en,2099-01-01\n" +
		"upr36,BG,Bad language,l@example.org,de,2099-01-01\n" +
		"upr36,BG,new ONE,NEW@example.org,fr,2099-01-01\n"
	for _, tc := range []struct{ lang, summary, email string }{
		{"en", "5 rows of the file cannot be used; nothing was created.", `"not an address" is not an e-mail address`},
		{"fr", "5 lignes du fichier ne peuvent pas être utilisées ; rien n'a été créé.", `"not an address" n'est pas une adresse électronique`},
		{"es", "5 filas del archivo no pueden usarse; no se ha creado nada.", `"not an address" no es una dirección de correo`},
	} {
		st, _, body := e.importCSV(bad, tc.lang, "text/csv")
		if st != 400 || body.Error.Code != presession.EINVALID || body.Error.Message != tc.summary {
			t.Fatalf("%s: %d %+v", tc.lang, st, body)
		}
		var got []string
		for _, r := range body.Error.Rows {
			got = append(got, fmt.Sprintf("%d:%s", r.Line, r.Column))
		}
		if want := "3:country 4:until 5:email 6:language 7:organisation"; strings.Join(got, " ") != want {
			t.Errorf("%s: rows %v, want %s", tc.lang, got, want)
		}
		if !strings.Contains(body.Error.Rows[2].Message, tc.email) {
			t.Errorf("%s: email message %q", tc.lang, body.Error.Rows[2].Message)
		}
	}
	if l := e.listInvitations(""); l.Total != 3 {
		t.Fatalf("a rejected file created invitations: %d", l.Total)
	}

	// Too many rows; not CSV; no staff token.
	var big strings.Builder
	big.WriteString(csvHeader)
	for i := range invite.MaxRows + 1 {
		fmt.Fprintf(&big, "upr36,BG,Org %d,o%d@example.org,en,2099-01-01\n", i, i)
	}
	if st, _, body := e.importCSV(big.String(), "en", "text/csv"); st != 413 || body.Error.Code != presession.ETOOLARGE || !strings.Contains(body.Error.Message, "more than 1000 rows") {
		t.Errorf("too many rows: %d %+v", st, body)
	}
	if st, _, body := e.importCSV(`{"rows": []}`, "en", "application/json"); st != 400 || !strings.Contains(body.Error.Message, "text/csv") {
		t.Errorf("JSON body: %d %+v", st, body)
	}
	if res := e.do("POST", "/api/v1/invitations/import", strings.NewReader(good), func(r *http.Request) { r.Header.Set("Content-Type", "text/csv") }); res.StatusCode != 401 {
		t.Errorf("import without the staff token: %d", res.StatusCode)
	}
	if l := e.listInvitations(""); l.Total != 3 {
		t.Fatalf("refused files created invitations: %d", l.Total)
	}
}

func TestDashboardInvitations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var a, b review.InvitationResponse
	e.staff("POST", "/api/v1/invitations", review.InvitationRequest{Session: "upr36", Country: "BG", Organisation: "Org <A>", Emails: []string{"a@example.org"}, Language: "es", Until: "2099-12-31"}, &a)
	e.staff("POST", "/api/v1/invitations", review.InvitationRequest{Session: "upr36", Country: "HR", Organisation: "Org B", Until: "2099-12-31"}, &b)
	e.statement("BG", a.Invitation.ID, "Uploaded one", presession.StatusReady)
	if err := e.cat.RecordMail(context.Background(), a.Invitation.ID, "invitation", presession.Delivery{State: presession.DeliveryFailed, Detail: "550 mailbox unavailable"}); err != nil {
		t.Fatal(err)
	}
	staff := bearer(staffToken)
	for _, tc := range []struct{ lang, yes, failed, kind string }{
		{"en", "Yes (1)", "refused", "Invitation"}, {"fr", "Oui (1)", "refusé", "Invitation"}, {"es", "Sí (1)", "rechazado", "Invitación"},
	} {
		st, body, _ := e.page("/staff?lang="+tc.lang, staff)
		if st != 200 {
			t.Fatalf("%s: %d", tc.lang, st)
		}
		if m := untranslated.FindString(body); m != "" {
			t.Errorf("%s: untranslated key %q", tc.lang, m)
		}
		for _, want := range []string{
			`<label for="inv-emails">`, `<label for="inv-lang">`, `<option value="fr" lang="fr">Français</option>`,
			`<label for="imp-file">`, `accept=".csv,text/csv"`, `aria-describedby="imp-intro imp-file-error imp-rows"`,
			`id="invitations-table"`, `id="inv-` + a.Invitation.ID + `"`, `id="inv-` + b.Invitation.ID + `"`, "Org &lt;A&gt;", "<li>a@example.org</li>",
			tc.yes, `<li data-mail="failed">` + tc.kind + `: <strong>` + tc.failed + `</strong>`, "550 mailbox unavailable",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: dashboard lacks %s", tc.lang, want)
			}
		}
		// Newest first.
		if i, j := strings.Index(body, `id="inv-`+b.Invitation.ID), strings.Index(body, `id="inv-`+a.Invitation.ID); i < 0 || j < i {
			t.Errorf("%s: invitations not newest first", tc.lang)
		}
	}
	// The dashboard's filter applies to the invitations too.
	_, body, _ := e.page("/staff?country=HR", staff)
	if !strings.Contains(body, `id="inv-`+b.Invitation.ID+`"`) || strings.Contains(body, `id="inv-`+a.Invitation.ID+`"`) {
		t.Errorf("filtered dashboard shows the wrong invitations")
	}
}
