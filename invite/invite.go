// Package invite issues invitations: it checks who is invited (the
// organisation's contact addresses and the language of its mail
// included), signs the upload link and records the invitation in the
// catalog, one at a time or many from a CSV file, all or nothing. The
// staff API and the command line share it.
package invite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/token"
)

// Languages are the languages an organisation's mail can be written in.
var Languages = []string{"en", "fr", "es"}

// MaxEmails bounds the contact addresses of one invitation.
const MaxEmails = 10

// MaxOrganisation bounds the length of an organisation's name (runes).
const MaxOrganisation = 300

// Catalog is where invitations are recorded; *catalog.Catalog implements it.
type Catalog interface {
	// CreateInvitation records inv, idempotent by its ID: when the ID
	// exists it fills inv with that record and returns false.
	CreateInvitation(ctx context.Context, inv *presession.Invitation) (created bool, err error)
}

// Inviter issues and records invitations.
type Inviter struct {
	Issuer  *token.Issuer
	Catalog Catalog
}

// Request is one invitation to issue.
type Request struct {
	// ID is the invitation's ID; empty for a new random one. Imports
	// derive it (DerivedID) so that importing a file again creates nothing.
	ID           string
	Session      string
	Country      string
	Organisation string
	Emails       []string // one address each ("a@b.org" or "Name <a@b.org>")
	Language     string   // en, fr or es; empty for the session's first language
	Until        time.Time
	By           presession.Actor
}

// Issued is an invitation issued: its record, its upload link, and
// whether it was created now (false: it existed, and the link is signed
// afresh from its record).
type Issued struct {
	Invitation *presession.Invitation `json:"invitation"`
	UploadURL  string                 `json:"upload_url"`
	Token      string                 `json:"token"`
	Created    bool                   `json:"created"`
}

// Invite checks req, signs its upload link and records it. The checks are
// the issuer's (session, country, organisation, deadline and extension),
// then the addresses and the language.
func (iv *Inviter) Invite(ctx context.Context, req Request) (Issued, error) {
	link, tok, err := iv.Issuer.InviteAs(req.ID, req.Session, req.Country, req.Organisation, req.Until)
	if err != nil {
		return Issued{}, err
	}
	emails, err := Emails(req.Emails)
	if err != nil {
		return Issued{}, err
	}
	sess, _ := iv.Issuer.Sessions.Find(tok.Session)
	lang, err := Language(sess, req.Language)
	if err != nil {
		return Issued{}, err
	}
	rec := &presession.Invitation{ID: tok.ID, Session: tok.Session, Country: tok.Country, Organisation: tok.Organisation,
		Emails: emails, Language: lang, CreatedBy: req.By}
	if !tok.Until.IsZero() {
		u := tok.Until.UTC()
		rec.Until = &u
	}
	created, err := iv.Catalog.CreateInvitation(ctx, rec)
	if err != nil {
		return Issued{}, err
	}
	out := Issued{Invitation: rec, UploadURL: link, Token: queryToken(link), Created: created}
	if !created {
		out.UploadURL, out.Token = iv.Issuer.Link(rec)
	}
	return out, nil
}

func queryToken(link string) string {
	_, tok, _ := strings.Cut(link, "token=")
	return tok
}

// Emails checks contact addresses (each parsed with net/mail; a display
// name is dropped) and returns them without repeats (case-insensitive),
// in the order given. Empty entries are ignored.
func Emails(list []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		a, err := mail.ParseAddress(s)
		if err != nil || !strings.Contains(a.Address, "@") || len(a.Address) > 254 {
			return nil, presession.Errorf(presession.EINVALID, "%q is not an e-mail address such as contact@example.org", s).Localize("invite.email_bad", s)
		}
		if k := strings.ToLower(a.Address); !seen[k] {
			seen[k] = true
			out = append(out, a.Address)
		}
	}
	if len(out) > MaxEmails {
		return nil, presession.Errorf(presession.EINVALID, "an invitation takes at most %d e-mail addresses", MaxEmails).Localize("invite.email_many", MaxEmails)
	}
	return out, nil
}

// Language returns the language of an organisation's mail: lang (en, fr
// or es, any case) or, when empty, the session's first language that
// mail can be written in (English when none).
func Language(s *presession.Session, lang string) (string, error) {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if lang != "" {
		if !slices.Contains(Languages, lang) {
			return "", presession.Errorf(presession.EINVALID, "%q is not a language the mail can be written in; use en, fr or es", lang).Localize("invite.lang_bad", lang)
		}
		return lang, nil
	}
	if s != nil {
		for _, l := range s.Languages {
			if slices.Contains(Languages, l) {
				return l, nil
			}
		}
	}
	return Languages[0], nil
}

// DerivedID is the ID of an imported invitation: a pure function of the
// session, the country, the organisation's name (case and spacing aside)
// and its addresses (case and order aside), so the same row imported
// again names the same invitation.
func DerivedID(session, country, organisation string, emails []string) string {
	es := make([]string, len(emails))
	for i, e := range emails {
		es[i] = strings.ToLower(strings.TrimSpace(e))
	}
	slices.Sort(es)
	h := sha256.New()
	for _, part := range []string{session, strings.ToUpper(country), strings.Join(strings.Fields(strings.ToLower(organisation)), " "), strings.Join(es, ",")} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Imported is the outcome of an import.
type Imported struct {
	Created     int      `json:"created"`
	Existing    int      `json:"existing"`
	Invitations []Issued `json:"invitations"` // in the file's order
}

// importConcurrency bounds the invitations recorded at once.
const importConcurrency = 8

// Import issues and records the invitations of rows (as ParseCSV returns
// them), by by. Rows whose invitation exists are left as they are. Should
// the catalog fail half-way, importing the same rows again completes it.
func (iv *Inviter) Import(ctx context.Context, rows []Row, by presession.Actor) (Imported, error) {
	out := Imported{Invitations: make([]Issued, len(rows))}
	errs := make([]error, len(rows))
	sem := make(chan struct{}, importConcurrency)
	var wg sync.WaitGroup
	for i, r := range rows {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			req := r.Request
			req.By = by
			out.Invitations[i], errs[i] = iv.Invite(ctx, req)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return Imported{}, err
		}
		if out.Invitations[i].Created {
			out.Created++
		} else {
			out.Existing++
		}
	}
	return out, nil
}
