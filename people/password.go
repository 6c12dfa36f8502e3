package people

import (
	"net/http"
	"strings"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

// PasswordPage is what the set-password template receives as .Data.
type PasswordPage struct {
	// Gone says the link cannot be used (used, expired or unknown) and
	// why; the form is not shown.
	Gone   string
	Link   string // the link's token, sent back with the form
	Name   string // whose account it is
	Email  string
	MinLen int
	Error  string // why the password was refused
}

// maxPasswordForm bounds the set-password form's body.
const maxPasswordForm = 8 << 10

// passwordPage serves GET /staff/password?t=LINK: the form to set the
// password of the account the link is for, or why the link cannot be
// used.
func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request) {
	link := strings.TrimSpace(r.URL.Query().Get("t"))
	m, err := h.linkMember(r, link)
	if err != nil {
		h.passwordRefused(w, r, err)
		return
	}
	h.site.Render(w, r, h.password, http.StatusOK, PasswordPage{Link: link, Name: m.Name, Email: m.Email, MinLen: h.minPassword})
}

// linkMember is the member link is for.
func (h *Handler) linkMember(r *http.Request, link string) (*presession.Member, error) {
	if link == "" {
		return nil, presession.Errorf(presession.EUNAUTHORIZED, "this page needs the link an admin sent you").Localize("staff.setpw.no_link")
	}
	return h.dir.SetLinkMember(r.Context(), link)
}

// passwordRefused answers with why a link cannot be used: used, expired
// or unknown, each saying to ask an admin for a new one; or the failure.
func (h *Handler) passwordRefused(w http.ResponseWriter, r *http.Request, err error) {
	lang := h.site.Lang(r)
	switch presession.ErrorCode(err) {
	case presession.EGONE:
		h.site.Render(w, r, h.password, http.StatusGone, PasswordPage{Gone: h.site.Bundle.T(lang, "staff.setpw.gone")})
	case presession.EUNAUTHORIZED, presession.ENOTFOUND:
		h.site.Render(w, r, h.password, http.StatusNotFound, PasswordPage{Gone: h.site.Bundle.T(lang, "staff.setpw.unknown")})
	default:
		h.site.Error(w, r, err)
	}
}

// setPassword serves POST /staff/password (t, password, confirm): it sets
// the password of the link's account, which uses the link up, starts a
// session for the person and sends them to the dashboard. A refused
// password shows the form again with why, in the request's language.
func (h *Handler) setPassword(w http.ResponseWriter, r *http.Request) {
	lang := h.site.Lang(r)
	if !h.site.Auth.SameOrigin(r) {
		h.site.Error(w, r, web.CrossSiteError())
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPasswordForm)
	if err := r.ParseForm(); err != nil {
		h.site.Error(w, r, presession.Errorf(presession.EINVALID, "the form could not be read; reload the page and try again").Localize("staff.setpw.bad_form"))
		return
	}
	link := strings.TrimSpace(r.PostForm.Get("t"))
	m, err := h.linkMember(r, link)
	if err != nil {
		h.passwordRefused(w, r, err)
		return
	}
	again := func(msg string) {
		h.site.Render(w, r, h.password, http.StatusBadRequest, PasswordPage{Link: link, Name: m.Name, Email: m.Email, MinLen: h.minPassword, Error: msg})
	}
	pw := r.PostForm.Get("password")
	switch {
	case pw == "":
		again(h.site.Bundle.T(lang, "staff.setpw.required"))
		return
	case pw != r.PostForm.Get("confirm"):
		again(h.site.Bundle.T(lang, "staff.setpw.mismatch"))
		return
	}
	set, err := h.dir.SetPassword(r.Context(), link, pw)
	switch code := presession.ErrorCode(err); {
	case code == presession.EINVALID:
		again(h.site.Message(lang, err))
		return
	case err != nil:
		h.passwordRefused(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "staff member set their password", "member", set.ID)
	// Signed in as the sign-in form does it: a session of their own,
	// named by the staff cookie.
	if err := h.site.Auth.StartStaffSession(w, r, set.Identity()); err != nil {
		h.site.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/staff", http.StatusSeeOther)
}
