package invite_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/invite"
	"github.com/uprinfo/presession/token"
)

// memCatalog records invitations in memory, idempotent by ID like the
// catalog (whose own tests run on Redis).
type memCatalog struct {
	mu   sync.Mutex
	recs map[string]presession.Invitation
}

func (m *memCatalog) CreateInvitation(_ context.Context, inv *presession.Invitation) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = map[string]presession.Invitation{}
	}
	if old, ok := m.recs[inv.ID]; ok {
		*inv = old
		return false, nil
	}
	inv.CreatedAt = time.Now()
	m.recs[inv.ID] = *inv
	return true, nil
}

// now is between the session's deadline (31 January 2020: Andorra is
// closed) and the extension of Bulgaria, Croatia, Maldives and the
// Marshall Islands (20 May 2020).
var now = time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC)

func newInviter() (*invite.Inviter, *memCatalog) {
	cat := &memCatalog{}
	return &invite.Inviter{Issuer: &token.Issuer{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")),
		Sessions: presession.Builtin(), PublicURL: "https://p.example.org", Now: func() time.Time { return now }}, Catalog: cat}, cat
}

const header = "session,country,organisation,email,language,until\n"

// problem is the expected "line:column:key" of a Problem.
func problems(err error) []string {
	var fe *invite.FileError
	if !errors.As(err, &fe) {
		return nil
	}
	var out []string
	for _, p := range fe.Problems {
		out = append(out, fmt.Sprintf("%d:%s:%s", p.Line, p.Column, p.Err.Key))
	}
	return out
}

func TestParseCSV(t *testing.T) {
	iv, _ := newInviter()
	for _, tc := range []struct {
		name string
		file string
		rows int      // when the file is good
		want []string // line:column:key of every problem
		code string   // of the error
	}{
		{"good", header + "upr36,BG,Bulgarian Helsinki Committee,bhc@example.org,fr,\nupr36,ad,Andorra Voice,a@example.org; b@example.org,,2030-01-01\n", 2, nil, ""},
		{"bom and CRLF", "\ufeff" + strings.ReplaceAll(header+"upr36,BG,X,x@example.org,es,\n", "\n", "\r\n"), 1, nil, ""},
		{"header any order and case", "Email,Session,COUNTRY,organisation,until,language\nx@example.org,upr36,BG,X,,en\n", 1, nil, ""},
		{"quoted cell over two lines", header + "upr36,BG,\"Two\nLines\",x@example.org,en,\nupr36,BG,Y,bad,en,\n", 0, []string{"4:email:invite.email_bad"}, presession.EINVALID},
		{"blank lines skipped", header + "\nupr36,BG,X,x@example.org,en,\n\n", 1, nil, ""},
		{"empty file", "", 0, []string{"1::invite.csv.empty"}, presession.EINVALID},
		{"only a BOM", "\ufeff", 0, []string{"1::invite.csv.empty"}, presession.EINVALID},
		{"no header", "upr36,BG,X,x@example.org,en,\n", 0, []string{"1::invite.csv.header"}, presession.EINVALID},
		{"header lacks a column", "session,country,organisation,email,language\nupr36,BG,X,x@example.org,en\n", 0, []string{"1::invite.csv.header"}, presession.EINVALID},
		{"header repeats a column", "session,country,organisation,email,email,until\n", 0, []string{"1::invite.csv.header"}, presession.EINVALID},
		{"header only", header, 0, []string{"2::invite.csv.no_rows"}, presession.EINVALID},
		{"not UTF-8", header + "upr36,BG,Caf\xe9,x@example.org,en,\n", 0, []string{"2::invite.csv.utf8"}, presession.EINVALID},
		{"bad quoting", header + "upr36,BG,\"X\"y,x@example.org,en,\n", 0, []string{"2::invite.csv.syntax"}, presession.EINVALID},
		{"wrong field count", header + "upr36,BG,X,x@example.org\n", 0, []string{"2::invite.csv.fields"}, presession.EINVALID},
		{"unknown session", header + "upr99,BG,X,x@example.org,en,2030-01-01\n", 0, []string{"2:session:err.session_unknown"}, presession.EINVALID},
		{"unknown country", header + "upr36,FR,X,x@example.org,en,2030-01-01\n", 0, []string{"2:country:err.country_not_under_review"}, presession.EINVALID},
		{"closed without until", header + "upr36,AD,X,x@example.org,en,\n", 0, []string{"2:until:invite.closed"}, presession.EINVALID},
		{"until past", header + "upr36,AD,X,x@example.org,en,2020-02-01\n", 0, []string{"2:until:invite.until_past"}, presession.EINVALID},
		{"until not a date", header + "upr36,BG,X,x@example.org,en,soon\n", 0, []string{"2:until:invite.bad_date"}, presession.EINVALID},
		{"malformed address", header + "upr36,BG,X,x@example.org;not an address,en,\n", 0, []string{"2:email:invite.email_bad"}, presession.EINVALID},
		{"no address", header + "upr36,BG,X, ; ,en,\n", 0, []string{"2:email:invite.csv.required"}, presession.EINVALID},
		{"unknown language", header + "upr36,BG,X,x@example.org,de,\n", 0, []string{"2:language:invite.lang_bad"}, presession.EINVALID},
		{"no organisation", header + "upr36,BG, ,x@example.org,en,\n", 0, []string{"2:organisation:invite.org_required"}, presession.EINVALID},
		{"duplicate row", header + "upr36,BG,X NGO,a@example.org;b@example.org,en,\nupr36,BG,Y,y@example.org,en,\nupr36,bg,x  ngo,B@example.org;a@example.org,fr,2030-01-01\n", 0,
			[]string{"4:organisation:invite.csv.duplicate"}, presession.EINVALID},
		{"every bad row and cell named", header + "upr36,BG,Good,g@example.org,en,\nupr99,BG,X,x@example.org,de,\nupr36,AD,X,nope,en,\n", 0,
			[]string{"3:session:err.session_unknown", "3:language:invite.lang_bad", "4:email:invite.email_bad", "4:until:invite.closed"}, presession.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := iv.ParseCSV([]byte(tc.file))
			if tc.want == nil {
				if err != nil || len(rows) != tc.rows {
					t.Fatalf("%d rows, %v", len(rows), err)
				}
				return
			}
			if rows != nil {
				t.Errorf("rows returned with an error")
			}
			if got := problems(err); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("problems %v, want %v (%v)", got, tc.want, err)
			}
			if presession.ErrorCode(err) != tc.code {
				t.Errorf("code %q, want %q", presession.ErrorCode(err), tc.code)
			}
		})
	}

	// What a good file's rows say.
	rows, err := iv.ParseCSV([]byte(header + "upr36,bg,Bulgarian Helsinki Committee,\"BHC <bhc@example.org>\",FR,\nupr36,AD,Andorra Voice,a@example.org; b@example.org,,2030-01-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if r.Line != 2 || r.Request.Country != "BG" || r.Request.Language != "fr" || strings.Join(r.Request.Emails, ",") != "bhc@example.org" || !r.Request.Until.IsZero() {
		t.Errorf("row 1: %+v", r)
	}
	r = rows[1]
	if r.Line != 3 || r.Request.Language != "en" || strings.Join(r.Request.Emails, ",") != "a@example.org,b@example.org" ||
		!r.Request.Until.Equal(time.Date(2030, 1, 1, 23, 59, 59, 0, time.UTC)) || r.Request.ID == "" {
		t.Errorf("row 2: %+v", r)
	}
}

func TestParseCSVRowCap(t *testing.T) {
	iv, _ := newInviter()
	file := func(n int) []byte {
		var b strings.Builder
		b.WriteString(header)
		for i := range n {
			fmt.Fprintf(&b, "upr36,BG,Organisation %d,o%d@example.org,en,\n", i, i)
		}
		return []byte(b.String())
	}
	rows, err := iv.ParseCSV(file(invite.MaxRows))
	if err != nil || len(rows) != invite.MaxRows {
		t.Fatalf("%d rows: %d, %v", invite.MaxRows, len(rows), err)
	}
	_, err = iv.ParseCSV(file(invite.MaxRows + 1))
	if got := problems(err); len(got) != 1 || got[0] != "0::invite.csv.too_many" || presession.ErrorCode(err) != presession.ETOOLARGE {
		t.Fatalf("%d rows: %v (%v)", invite.MaxRows+1, got, err)
	}
}

// TestImportTwice: the same file imported again creates nothing new, and
// its links name the same invitations.
func TestImportTwice(t *testing.T) {
	iv, cat := newInviter()
	ctx := context.Background()
	file := []byte(header + "upr36,BG,A,a@example.org,fr,\nupr36,HR,B,b@example.org;c@example.org,es,\nupr36,AD,C,c@example.org,,2030-06-30\n")
	rows, err := iv.ParseCSV(file)
	if err != nil {
		t.Fatal(err)
	}
	first, err := iv.Import(ctx, rows, presession.ActorStaff)
	if err != nil || first.Created != 3 || first.Existing != 0 {
		t.Fatalf("first import: %+v %v", first, err)
	}
	rows, _ = iv.ParseCSV(file)
	second, err := iv.Import(ctx, rows, presession.ActorStaff)
	if err != nil || second.Created != 0 || second.Existing != 3 || len(cat.recs) != 3 {
		t.Fatalf("second import: %+v %v (%d records)", second, err, len(cat.recs))
	}
	for i := range first.Invitations {
		a, b := first.Invitations[i], second.Invitations[i]
		if a.Invitation.ID != b.Invitation.ID || b.Created {
			t.Errorf("row %d: %s then %s", i, a.Invitation.ID, b.Invitation.ID)
		}
		tok, err := iv.Issuer.Signer.ParseInvitation(b.Token)
		if err != nil || tok.ID != a.Invitation.ID || !strings.HasPrefix(b.UploadURL, "https://p.example.org/upload?token=") {
			t.Errorf("row %d: re-signed link %s: %+v %v", i, b.UploadURL, tok, err)
		}
	}
	c := first.Invitations[2].Invitation
	if c.Until == nil || c.Language != "en" || c.CreatedBy != presession.ActorStaff {
		t.Errorf("third record %+v", c)
	}
	if tok, _ := iv.Issuer.Signer.ParseInvitation(second.Invitations[2].Token); !tok.Until.Equal(*c.Until) {
		t.Errorf("re-signed link lost the extension: %v", tok.Until)
	}
}

func TestInvite(t *testing.T) {
	iv, cat := newInviter()
	ctx := context.Background()
	got, err := iv.Invite(ctx, invite.Request{Session: "upr36", Country: "bg", Organisation: " Org ", Emails: []string{"A@Example.org", "a@example.org", "b@example.org"}, By: presession.ActorStaff})
	if err != nil || !got.Created || got.Invitation.Language != "en" || strings.Join(got.Invitation.Emails, ",") != "A@Example.org,b@example.org" ||
		got.Invitation.Country != "BG" || got.Invitation.Organisation != "Org" || got.Token == "" || len(cat.recs) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	tok, err := iv.Issuer.Signer.ParseInvitation(got.Token)
	if err != nil || tok.ID != got.Invitation.ID {
		t.Fatalf("token %+v %v", tok, err)
	}
	for _, tc := range []struct {
		req invite.Request
		key string
	}{
		{invite.Request{Session: "upr36", Country: "BG", Organisation: "X", Emails: []string{"nope"}}, "invite.email_bad"},
		{invite.Request{Session: "upr36", Country: "BG", Organisation: "X", Language: "de"}, "invite.lang_bad"},
		{invite.Request{Session: "upr36", Country: "AD", Organisation: "X"}, "invite.closed"},
		{invite.Request{Session: "upr36", Country: "FR", Organisation: "X"}, "err.country_not_under_review"},
		{invite.Request{Session: "upr36", Country: "BG", Organisation: "X", Emails: strings.Split(strings.Repeat("x@example.org,", 11)+"y@example.org,a@b.c,d@e.f,g@h.i,j@k.l,m@n.o,p@q.r,s@t.u,v@w.x,y@z.a", ",")}, "invite.email_many"},
	} {
		_, err := iv.Invite(ctx, tc.req)
		var e *presession.Error
		if !errors.As(err, &e) || e.Key != tc.key {
			t.Errorf("%+v: %v, want %s", tc.req, err, tc.key)
		}
	}
	if len(cat.recs) != 1 {
		t.Errorf("refused invitations were recorded: %d", len(cat.recs))
	}
}

func TestDerivedID(t *testing.T) {
	a := invite.DerivedID("upr36", "bg", "Bulgarian  Helsinki committee", []string{"B@x.org", "a@x.org"})
	if b := invite.DerivedID("upr36", "BG", "bulgarian helsinki Committee", []string{"a@x.org", "b@X.org"}); a != b {
		t.Errorf("case, spacing and order change the ID: %s %s", a, b)
	}
	for _, other := range []string{
		invite.DerivedID("upr37", "BG", "Bulgarian Helsinki Committee", []string{"a@x.org", "b@x.org"}),
		invite.DerivedID("upr36", "HR", "Bulgarian Helsinki Committee", []string{"a@x.org", "b@x.org"}),
		invite.DerivedID("upr36", "BG", "Bulgarian Helsinki", []string{"a@x.org", "b@x.org"}),
		invite.DerivedID("upr36", "BG", "Bulgarian Helsinki Committee", []string{"a@x.org"}),
	} {
		if other == a {
			t.Errorf("different invitations share the ID %s", a)
		}
	}
	if len(a) != 16 {
		t.Errorf("ID %q", a)
	}
}
