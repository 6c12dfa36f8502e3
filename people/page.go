package people

import (
	"net/http"
	"slices"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
)

// PeoplePage is what the people template receives as .Data.
type PeoplePage struct {
	Me presession.Identity
	// Denied is why the page is not shown (the role does not allow it),
	// in the page's language; "" when it is.
	Denied   string
	Members  []MemberRow
	Tokens   []TokenRow
	Roles    []RoleView
	Langs    []LangView // the languages a link's mail can be in
	Mail     bool       // links are mailed too
	Messages map[string]string
}

// MemberRow is one member of the page's table.
type MemberRow struct {
	Member
	Me          bool   // the signed-in member: no disable, no role change
	By          string // who created the account, by name
	StateText   string
	RoleText    string
	HasPasskeys bool
}

// TokenRow is one API token of the page's table.
type TokenRow struct {
	Token
	By, RevokedByText string
	RoleText          string
	RevokedOn         time.Time // zero when live
}

// RoleView is a role with its label and what it may do.
type RoleView struct {
	Role       presession.Role
	Text, Hint string
}

// LangView is a language of the mail.
type LangView struct{ Code, Name string }

// jsMessages are the keys people.js uses.
var jsMessages = []string{
	"staff.people.js.failed", "staff.people.js.copied", "staff.people.js.copy_failed",
	"staff.people.js.email_required", "staff.people.js.name_required", "staff.people.js.token_name_required",
	"staff.people.js.added", "staff.people.js.added_mailed", "staff.people.js.reset", "staff.people.js.reset_mailed",
	"staff.people.js.disabled", "staff.people.js.enabled", "staff.people.js.role", "staff.people.js.token_created",
	"staff.people.js.revoked", "staff.people.js.confirm_disable", "staff.people.js.confirm_reset", "staff.people.js.confirm_revoke",
	"staff.people.js.mail_failed",
}

// peoplePage serves GET /staff/people: to an admin the page; to a visitor
// not signed in, the sign-in page (/staff); to a member of another role, a
// page saying their role does not allow it.
func (h *Handler) peoplePage(w http.ResponseWriter, r *http.Request) {
	lang := h.site.Lang(r)
	me, err := h.site.Auth.Principal(r).Require(presession.PermManage)
	switch {
	case presession.ErrorCode(err) == presession.EFORBIDDEN:
		h.site.Render(w, r, h.page, http.StatusForbidden, PeoplePage{Me: me, Denied: h.site.Message(lang, err)})
		return
	case presession.ErrorCode(err) == presession.EUNAUTHORIZED:
		http.Redirect(w, r, "/staff", http.StatusSeeOther)
		return
	case err != nil:
		h.site.Error(w, r, err)
		return
	}
	ctx := r.Context()
	ms, err := h.dir.Members(ctx)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	ts, err := h.dir.Tokens(ctx)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	names := h.names(ctx, append(memberActors(ms...), tokenActors(ts...)...))
	T := func(key string, args ...any) string { return h.site.Bundle.T(lang, key, args...) }
	by := func(a presession.Actor) string {
		if n := names[a]; n != "" {
			return n
		}
		return string(a)
	}
	d := PeoplePage{Me: me, Mail: h.mail != nil, Messages: map[string]string{}}
	for _, k := range jsMessages {
		d.Messages[k] = T(k)
	}
	for _, role := range presession.Roles {
		d.Roles = append(d.Roles, RoleView{Role: role, Text: T("staff.people.role." + string(role)), Hint: T("staff.people.role_hint." + string(role))})
	}
	for _, l := range i18n.Languages {
		d.Langs = append(d.Langs, LangView{Code: l, Name: presession.LanguageName(l)})
	}
	for _, m := range ms {
		v := memberView(m, names)
		d.Members = append(d.Members, MemberRow{Member: v, By: by(m.CreatedBy),
			Me: me.Kind == presession.IdentityMember && me.ID == m.ID, HasPasskeys: v.Passkeys > 0,
			StateText: T("staff.people.state." + v.State), RoleText: T("staff.people.role." + string(v.Role))})
	}
	// Live tokens first, each group newest first.
	ts = slices.Clone(ts)
	slices.SortStableFunc(ts, func(a, b *presession.APIToken) int {
		if (a.RevokedAt == nil) != (b.RevokedAt == nil) {
			if a.RevokedAt == nil {
				return -1
			}
			return 1
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	for _, t := range ts {
		v := tokenView(t, names)
		row := TokenRow{Token: v, By: by(t.CreatedBy), RoleText: T("staff.people.role." + string(t.Role))}
		if t.RevokedAt != nil {
			row.RevokedOn, row.RevokedByText = *t.RevokedAt, by(t.RevokedBy)
		}
		d.Tokens = append(d.Tokens, row)
	}
	h.site.Render(w, r, h.page, http.StatusOK, d)
}
