package passkey

import (
	"net/http"
	"slices"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

// MePage is what the "My account" template receives as .Data.
type MePage struct {
	Me       presession.Identity
	Member   *presession.Member // nil: not a member (the service token, an API token)
	Error    string             // why the last change was refused
	ErrorFor string             // the passkey id whose form it was about
	Done     string             // what the last change did, said plainly
}

// page serves GET /staff/me: who is signed in, and their passkeys.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "", "", doneMessage(r))
}

// doneMessage is the confirmation of the change a redirect to the page
// reports (?done=added|renamed|removed).
func doneMessage(r *http.Request) string {
	return doneKeys[r.URL.Query().Get("done")]
}

var doneKeys = map[string]string{
	"added": "staff.passkey.done_added", "renamed": "staff.passkey.done_renamed", "removed": "staff.passkey.done_removed",
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, errMsg, errFor, doneKey string) {
	id, _ := web.IdentityFrom(r.Context())
	lang := h.site.Lang(r)
	d := MePage{Me: id, Error: errMsg, ErrorFor: errFor}
	if doneKey != "" {
		d.Done = h.site.Bundle.T(lang, doneKey)
	}
	if id.Kind == presession.IdentityMember {
		m, err := h.dir.Member(r.Context(), id.ID)
		if err != nil {
			h.site.Error(w, r, err)
			return
		}
		d.Member = m
	}
	h.site.Render(w, r, h.me, status, d)
}

// rename serves POST /staff/passkeys/{id}/rename (form field name).
func (h *Handler) rename(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, "renamed", func(m *presession.Member, i int) error {
		name, err := passkeyName(r.PostForm.Get("name"))
		if err != nil {
			return err
		}
		m.Passkeys[i].Name = name
		return nil
	})
}

// remove serves POST /staff/passkeys/{id}/remove: the passkey no longer
// signs the member in, from now on.
func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, "removed", func(m *presession.Member, i int) error {
		m.Passkeys = slices.Delete(m.Passkeys, i, i+1)
		return nil
	})
}

// change applies fn to the signed-in member's passkey {id} and goes back
// to the page, saying what it did, or shows the page with why not.
func (h *Handler) change(w http.ResponseWriter, r *http.Request, done string, fn func(m *presession.Member, i int) error) {
	m, err := h.member(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		h.site.Error(w, r, errUnreadable(err))
		return
	}
	pid := r.PathValue("id")
	var name string
	_, err = h.dir.UpdateMember(r.Context(), m.ID, func(m *presession.Member) error {
		i := slices.IndexFunc(m.Passkeys, func(p presession.Passkey) bool { return p.ID == pid })
		if i < 0 {
			return presession.Errorf(presession.ENOTFOUND, "this passkey is not on your account (it may have been removed already)").Localize("staff.passkey.not_found")
		}
		name = m.Passkeys[i].Name
		return fn(m, i)
	})
	web.AuditTarget(r.Context(), m.ID, "passkey "+pid+": "+name)
	if err != nil {
		if web.Status(err) >= 500 {
			h.site.Error(w, r, err)
			return
		}
		h.render(w, r, web.Status(err), h.site.Message(h.site.Lang(r), err), pid, "")
		return
	}
	http.Redirect(w, r, MePath+"?done="+done, http.StatusSeeOther)
}
