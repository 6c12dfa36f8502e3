package passkey

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

// SecondFactor is web.Auth's second factor: once the password of m, who
// has passkeys, verified, it records the sign-in as pending for
// PendingTTL, sets the HttpOnly cookie that names it and sends the
// browser to the sign-in page's passkey step (/staff?second=1). The
// session starts when one of m's passkeys answers there
// (POST /staff/passkeys/login/begin with {"second_factor": true}, then
// .../finish), or never.
func (h *Handler) SecondFactor(w http.ResponseWriter, r *http.Request, m *presession.Member) error {
	id, err := h.store.putPending(r.Context(), pending{Member: m.ID, Generation: m.Generation,
		Remote: h.site.Auth.ClientAddr(r).String(), Started: h.now().UTC()})
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: PendingCookie, Value: id, Path: "/staff", HttpOnly: true, Secure: h.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(PendingTTL / time.Second)})
	http.Redirect(w, r, SecondStepPath, http.StatusSeeOther)
	return nil
}

// SecondStepPath is the sign-in page's passkey step.
const SecondStepPath = "/staff?second=1"

func (h *Handler) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(h.site.Auth.PublicURL), "https://")
}

// loginBegin serves POST /staff/passkeys/login/begin: the options for
// navigator.credentials.get ({"publicKey": ...}). Without a body, or with
// {"second_factor": false}, any of the site's discoverable passkeys may
// answer, with user verification; with {"second_factor": true}, one of
// the passkeys of the member whose password sign-in is pending.
func (h *Handler) loginBegin(w http.ResponseWriter, r *http.Request) {
	if !h.site.Auth.SameOrigin(r) {
		h.site.Error(w, r, web.CrossSiteError())
		return
	}
	if err := h.beginAllowed(r); err != nil {
		h.site.Error(w, r, err)
		return
	}
	var body struct {
		SecondFactor bool `json:"second_factor"`
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		h.site.Error(w, r, errUnreadable(err))
		return
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			h.site.Error(w, r, errUnreadable(err))
			return
		}
	}
	wa, err := h.relyingParty(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	var (
		assertion *protocol.CredentialAssertion
		c         ceremony
	)
	if body.SecondFactor {
		hash, _, m, err := h.pendingMember(r, false)
		if err != nil {
			h.site.Error(w, r, err)
			return
		}
		u, err := newUser(m)
		if err != nil {
			h.site.Error(w, r, err)
			return
		}
		var session *webauthn.SessionData
		assertion, session, err = wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
		if err != nil {
			h.site.Error(w, r, err)
			return
		}
		c = ceremony{Kind: ceremonySecond, Member: m.ID, Pending: hash, Session: *session}
	} else {
		var session *webauthn.SessionData
		assertion, session, err = wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			h.site.Error(w, r, err)
			return
		}
		c = ceremony{Kind: ceremonyLogin, Session: *session}
	}
	if err := h.store.putCeremony(r.Context(), c); err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.site.JSON(w, http.StatusOK, assertion)
}

// MaxBegins is how many passkey sign-ins one client address may begin
// within BeginWindow: each keeps a challenge in Redis until it expires,
// so that anyone could otherwise fill Redis with them.
const (
	MaxBegins   = 60
	BeginWindow = ChallengeTTL
)

// beginAllowed counts a sign-in begun from r's client address: ETOOMANY
// past MaxBegins within BeginWindow.
func (h *Handler) beginAllowed(r *http.Request) error {
	key := h.site.Auth.ClientAddr(r).String()
	wait, err := h.begins.Wait(r.Context(), key)
	if err != nil {
		return err
	}
	if wait > 0 {
		until := h.now().Add(wait).UTC().Truncate(time.Second)
		return presession.Errorf(presession.ETOOMANY, "too many passkey sign-ins from your address; try again after %s", until.Format("15:04:05 UTC")).
			Localize("staff.passkey.too_many_begins", until)
	}
	return h.begins.Fail(r.Context(), key)
}

// pendingMember returns the pending sign-in r's cookie names (its hash),
// and its member, taking it (one use) when take: EGONE when there is
// none, or when the member was disabled or their sessions ended since
// the password was given.
func (h *Handler) pendingMember(r *http.Request, take bool) (string, pending, *presession.Member, error) {
	k, err := r.Cookie(PendingCookie)
	if err != nil || k.Value == "" {
		return "", pending{}, nil, errPendingGone()
	}
	hash := hashKey(k.Value)
	p, err := h.store.getPending(r.Context(), hash, take)
	if err != nil {
		return "", p, nil, err
	}
	m, err := h.dir.Member(r.Context(), p.Member)
	switch {
	case presession.ErrorCode(err) == presession.ENOTFOUND:
		return "", p, nil, errPendingGone()
	case err != nil:
		return "", p, nil, err
	case m.Disabled || m.Generation != p.Generation:
		return "", p, nil, errPendingGone()
	}
	return hash, p, m, nil
}

// LoginResult is the answer of a passkey sign-in: where to go next.
type LoginResult struct {
	Redirect string `json:"redirect"`
}

// loginFinish serves POST /staff/passkeys/login/finish, whose body is the
// PublicKeyCredential navigator.credentials.get returned, as JSON: it
// verifies the assertion against the challenge loginBegin issued, starts
// the member's staff session and sets the staff cookie. Disabled members
// are refused.
func (h *Handler) loginFinish(w http.ResponseWriter, r *http.Request) {
	if !h.site.Auth.SameOrigin(r) {
		h.site.Error(w, r, web.CrossSiteError())
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		h.site.Error(w, r, errUnreadable(err))
		return
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		h.site.Error(w, r, errUnreadable(err))
		return
	}
	c, err := h.store.takeCeremony(r.Context(), parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	wa, err := h.relyingParty(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	var (
		m      *presession.Member
		cred   *webauthn.Credential
		detail string
	)
	switch c.Kind {
	case ceremonyLogin:
		detail = "passkey"
		var lookup error // Redis or storage could not tell
		_, cred, err = wa.ValidatePasskeyLogin(func(_, handle []byte) (webauthn.User, error) {
			found, err := h.dir.Member(r.Context(), string(handle))
			if err != nil {
				if presession.ErrorCode(err) != presession.ENOTFOUND {
					lookup = err
				}
				return nil, err
			}
			m = found
			return newUser(found)
		}, c.Session, parsed)
		if lookup != nil {
			h.site.Error(w, r, lookup)
			return
		}
		if err == nil && m.Disabled { // said only to whom the passkey verified
			err = errDisabled()
		}
	case ceremonySecond:
		detail = "password+passkey"
		var hash string
		hash, _, m, err = h.pendingMember(r, true)
		if err != nil {
			h.site.Error(w, r, err)
			return
		}
		if hash != c.Pending || m.ID != c.Member {
			h.site.Error(w, r, errPendingGone())
			return
		}
		var u *user
		if u, err = newUser(m); err != nil {
			h.site.Error(w, r, err)
			return
		}
		cred, err = wa.ValidateLogin(u, c.Session, parsed)
	default:
		h.site.Error(w, r, errExpired())
		return
	}
	if err == nil && cred.Authenticator.CloneWarning {
		err = fmt.Errorf("passkey: the authenticator's signature counter went back: a cloned credential")
	}
	if err != nil {
		h.log.InfoContext(r.Context(), "passkey: sign-in refused", "err", errDetail(err))
		refusal := errRefused()
		if presession.ErrorCode(err) == presession.EFORBIDDEN { // disabled
			refusal = err
		}
		h.auditSignIn(r, m, detail, refusal)
		h.site.Error(w, r, refusal)
		return
	}
	if err := h.used(r.Context(), m.ID, cred); err != nil {
		h.site.Error(w, r, err)
		return
	}
	if err := h.site.Auth.StartStaffSession(w, r, m.Identity()); err != nil {
		h.site.Error(w, r, err)
		return
	}
	if c.Kind == ceremonySecond {
		http.SetCookie(w, &http.Cookie{Name: PendingCookie, Value: "", Path: "/staff", HttpOnly: true, Secure: h.secure(r),
			SameSite: http.SameSiteStrictMode, MaxAge: -1})
	}
	h.auditSignIn(r, m, detail, nil)
	h.site.JSON(w, http.StatusOK, LoginResult{Redirect: "/staff"})
}

// used keeps what the assertion changed of the credential (its signature
// counter, flags) and when it was last used.
func (h *Handler) used(ctx context.Context, memberID string, cred *webauthn.Credential) error {
	data, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	id := credentialID(cred.ID)
	now := h.now().UTC().Truncate(time.Second)
	_, err = h.dir.UpdateMember(ctx, memberID, func(m *presession.Member) error {
		for i := range m.Passkeys {
			if m.Passkeys[i].ID == id {
				m.Passkeys[i].Credential, m.Passkeys[i].LastUsed = data, now
				return nil
			}
		}
		return errRefused() // removed meanwhile
	})
	return err
}

// auditSignIn records a passkey sign-in of m (nil: not known) with its
// outcome (err nil: "ok").
func (h *Handler) auditSignIn(r *http.Request, m *presession.Member, detail string, err error) {
	var id presession.Identity
	var target string
	if m != nil {
		id, target = m.Identity(), m.Email
	}
	h.site.AuditAuth(r, "signin", id, target, detail, err)
}

func errDisabled() error {
	return presession.Errorf(presession.EFORBIDDEN, "this account is disabled; ask an admin").Localize("staff.passkey.disabled")
}
