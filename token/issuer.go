package token

import (
	"net/url"
	"strings"
	"time"

	"github.com/uprinfo/presession"
)

// Issuer applies the rules for handing out links: an invitation only for a
// country still open for uploads, unless an extension is granted; a viewer
// link for a known session and country. The CLI and the staff API share it.
type Issuer struct {
	Signer    *Signer
	Sessions  *presession.Sessions
	PublicURL string // without trailing slash
	Now       func() time.Time
}

func (is *Issuer) now() time.Time {
	if is.Now != nil {
		return is.Now()
	}
	return time.Now()
}

// Invite returns the upload URL and token for an organisation. until, when
// non-zero, extends the deadline for this organisation to that instant.
func (is *Issuer) Invite(session, country, organisation string, until time.Time) (string, Invitation, error) {
	return is.InviteAs("", session, country, organisation, until)
}

// InviteAs is Invite with the invitation's ID given (a new random one when
// id is empty), for invitations whose ID is derived from what they are.
func (is *Issuer) InviteAs(id, session, country, organisation string, until time.Time) (string, Invitation, error) {
	s, c, err := is.Sessions.Lookup(session, country)
	if err != nil {
		return "", Invitation{}, err
	}
	organisation = strings.TrimSpace(organisation)
	if organisation == "" {
		return "", Invitation{}, presession.Errorf(presession.EINVALID, "the organisation's name is required").Localize("invite.org_required")
	}
	now := is.now()
	if until.IsZero() {
		if d := s.Deadline(c); now.After(d) {
			return "", Invitation{}, presession.Errorf(presession.EFORBIDDEN,
				"%s's upload deadline (%s) has passed; grant an extension with an until date (--until YYYY-MM-DD)",
				c.Name, d.UTC().Format("2 January 2006")).Localize("invite.closed", c, d.UTC())
		}
	} else if now.After(until) {
		return "", Invitation{}, presession.Errorf(presession.EINVALID,
			"the extension date %s is already past; give a date in the future", until.UTC().Format("2006-01-02")).Localize("invite.until_past", until.UTC())
	}
	tok, inv := is.Signer.SignInvitation(Invitation{ID: id, Session: s.ID, Country: c.Code, Organisation: organisation, Until: until})
	return is.uploadURL(tok), inv, nil
}

// Link returns the upload URL and token of an invitation already
// recorded, signed afresh from its record without checking the deadline
// (the upload endpoint checks it).
func (is *Issuer) Link(rec *presession.Invitation) (string, string) {
	inv := Invitation{ID: rec.ID, Session: rec.Session, Country: rec.Country, Organisation: rec.Organisation}
	if rec.Until != nil {
		inv.Until = *rec.Until
	}
	tok, _ := is.Signer.SignInvitation(inv)
	return is.uploadURL(tok), tok
}

func (is *Issuer) uploadURL(tok string) string {
	return is.PublicURL + "/upload?token=" + url.QueryEscape(tok)
}

// ViewerLink returns the watch URL and token for a delegation: the
// country's page, or the session's when country is empty.
func (is *Issuer) ViewerLink(session, country string, validFor time.Duration) (string, Viewer, error) {
	s, ok := is.Sessions.Find(session)
	if !ok {
		return "", Viewer{}, presession.Errorf(presession.ENOTFOUND, "there is no session %q", session).Localize("err.session_unknown", session)
	}
	if validFor <= 0 {
		return "", Viewer{}, presession.Errorf(presession.EINVALID, "the validity must be a positive duration such as 720h").Localize("err.validity")
	}
	path := "/watch/" + s.ID
	if country != "" {
		c, ok := s.Country(country)
		if !ok {
			return "", Viewer{}, presession.Errorf(presession.ENOTFOUND, "country %q is not under review in %s", strings.ToUpper(country), s.Title).
				Localize("err.country_not_under_review", strings.ToUpper(country), s.Title)
		}
		country = c.Code
		path += "/" + strings.ToLower(c.Code)
	}
	tok, v := is.Signer.SignViewer(Viewer{Session: s.ID, Country: country, Expires: is.now().Add(validFor).UTC().Truncate(time.Second)})
	return is.PublicURL + path + "?key=" + url.QueryEscape(tok), v, nil
}

// EndOfDay parses a YYYY-MM-DD date (or an RFC 3339 instant) as the last
// second of that day in UTC.
func EndOfDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, presession.Errorf(presession.EINVALID, "%q is not a date such as 2026-12-31", s).Localize("invite.bad_date", s)
	}
	return d.Add(24*time.Hour - time.Second), nil
}
