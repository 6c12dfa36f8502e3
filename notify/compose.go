package notify

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/mail"
)

//go:embed templates
var templates embed.FS

// content is what one message says, in one language; the text and the
// HTML template lay it out the same way.
type content struct {
	Lang       string
	Subject    string
	Greeting   string
	Paragraphs []string
	List       []string
	Link       string // absolute, from PRESESSION_PUBLIC_URL
	LinkLabel  string
	Signature  string
	Why        string // why the person received it
}

// layouts are the parsed message templates.
type layouts struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

func parseLayouts() (layouts, error) {
	t, err := texttemplate.ParseFS(templates, "templates/message.txt")
	if err != nil {
		return layouts{}, err
	}
	h, err := htmltemplate.ParseFS(templates, "templates/message.html")
	if err != nil {
		return layouts{}, err
	}
	return layouts{text: t, html: h}, nil
}

// render lays c out as a message to to.
func (l layouts) render(id string, to []string, c content) (mail.Message, error) {
	var text, html bytes.Buffer
	if err := l.text.Execute(&text, c); err != nil {
		return mail.Message{}, err
	}
	if err := l.html.Execute(&html, c); err != nil {
		return mail.Message{}, err
	}
	return mail.Message{ID: id, To: to, Subject: c.Subject, Text: text.String(), HTML: html.String()}, nil
}

// utc writes t as the same instant everywhere reads it: 2026-05-20 23:59 UTC.
func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") + " UTC" }

// letter is what the messages to one organisation share: its language,
// its invitation, the session and country.
type letter struct {
	b        *i18n.Bundle
	lang     string
	inv      *presession.Invitation
	session  *presession.Session
	country  presession.Country
	deadline time.Time // the invitation's: its extension, or the country's
}

func (l letter) t(key string, args ...any) string { return l.b.T(l.lang, key, args...) }

func (l letter) base(subject string) content {
	return content{Lang: l.lang, Subject: subject, Greeting: l.t("mail.greeting", l.inv.Organisation),
		Signature: l.t("mail.signature"), Why: l.t("mail.why_org", l.inv.Organisation, l.country.Name, l.session.Title)}
}

func (l letter) deadlineLine() string {
	return l.t("mail.deadline", i18n.DateTime(l.lang, l.deadline.UTC()), utc(l.deadline))
}

func (l letter) invitation(upload string) content {
	c := l.base(l.t("mail.invitation.subject", l.country.Name))
	c.Paragraphs = []string{l.t("mail.invitation.body", l.country.Name, l.session.Title), l.deadlineLine()}
	c.Link, c.LinkLabel = upload, l.t("mail.invitation.link")
	return c
}

func (l letter) received(st *presession.Statement) content {
	c := l.base(l.t("mail.received.subject", st.Title))
	c.Paragraphs = []string{l.t("mail.received.body", st.Title, i18n.Bytes(l.lang, st.Size))}
	return c
}

func (l letter) failed(st *presession.Statement, reason, upload string) content {
	c := l.base(l.t("mail.failed.subject", st.Title))
	c.Paragraphs = []string{l.t("mail.failed.body", st.Title, strings.TrimRight(reason, ". ")), l.t("mail.failed.action")}
	c.Link, c.LinkLabel = upload, l.t("mail.failed.link")
	return c
}

func (l letter) rejected(st *presession.Statement, upload string) content {
	c := l.base(l.t("mail.rejected.subject", st.Title))
	c.Paragraphs = []string{l.t("mail.rejected.body", st.Title, st.Reason), l.t("mail.rejected.action")}
	c.Link, c.LinkLabel = upload, l.t("mail.invitation.link")
	return c
}

func (l letter) approved(st *presession.Statement, watch string, slot time.Time) content {
	c := l.base(l.t("mail.approved.subject", st.Title))
	c.Paragraphs = []string{l.t("mail.approved.body", st.Title, l.country.Name, l.session.Title)}
	if !slot.IsZero() {
		c.Paragraphs = append(c.Paragraphs, l.t("mail.approved.when", i18n.DateTime(l.lang, slot.UTC()), utc(slot)))
	}
	c.Link, c.LinkLabel = watch, l.t("mail.approved.link")
	return c
}

func (l letter) reminder(upload string) content {
	c := l.base(l.t("mail.reminder.subject", l.country.Name, i18n.Date(l.lang, l.deadline.UTC())))
	c.Paragraphs = []string{l.t("mail.reminder.body", l.inv.Organisation, l.country.Name), l.deadlineLine()}
	c.Link, c.LinkLabel = upload, l.t("mail.invitation.link")
	c.Why = l.t("mail.why_reminder", l.inv.Organisation, l.country.Name)
	return c
}

// digest is the staff's message, in English (the dashboard's default).
func digest(b *i18n.Bundle, sessions *presession.Sessions, publicURL string, awaiting []*presession.Statement) content {
	const lang = "en"
	c := content{Lang: lang, Subject: b.T(lang, "mail.digest.subject", strconv.Itoa(len(awaiting))), Greeting: b.T(lang, "mail.greeting", "staff"),
		Paragraphs: []string{b.T(lang, "mail.digest.body")}, Link: publicURL + "/staff", LinkLabel: b.T(lang, "mail.digest.link"),
		Signature: b.T(lang, "mail.signature"), Why: b.T(lang, "mail.why_staff", publicURL)}
	for _, st := range awaiting {
		country := st.Country
		if s, ok := sessions.Find(st.Session); ok {
			if cc, ok := s.Country(st.Country); ok {
				country = cc.Name
			}
		}
		c.List = append(c.List, b.T(lang, "mail.digest.line", country, st.Organisation, st.Title, i18n.DateTime(lang, st.UpdatedAt.UTC())))
	}
	return c
}
