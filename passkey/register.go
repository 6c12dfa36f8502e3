package passkey

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

// maxBody bounds the JSON bodies of the passkey routes (an attestation is
// a few KiB).
const maxBody = 64 << 10

// registerBegin serves POST /staff/passkeys/register/begin: the options
// for navigator.credentials.create ({"publicKey": ...}), for a
// discoverable credential with user verification, excluding the member's
// passkeys.
func (h *Handler) registerBegin(w http.ResponseWriter, r *http.Request) {
	m, err := h.member(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	if len(m.Passkeys) >= MaxPasskeys {
		h.site.Error(w, r, presession.Errorf(presession.ECONFLICT, "you have %d passkeys, the most an account may have; remove one first", MaxPasskeys).Localize("staff.passkey.too_many", MaxPasskeys))
		return
	}
	wa, err := h.relyingParty(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	u, err := newUser(m)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range u.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, session, err := wa.BeginRegistration(u,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired}),
		webauthn.WithExclusions(exclude))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	if err := h.store.putCeremony(r.Context(), ceremony{Kind: ceremonyRegister, Member: m.ID, Session: *session}); err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.site.JSON(w, http.StatusOK, creation)
}

// registerBody is the body of POST /staff/passkeys/register/finish.
type registerBody struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"` // the PublicKeyCredential, as JSON
}

// PasskeyView is a passkey as the API shows it (no key material).
type PasskeyView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
	LastUsed  string `json:"last_used,omitempty"`
}

// registerFinish serves POST /staff/passkeys/register/finish: it verifies
// the new credential against the challenge registerBegin issued for the
// same member, and keeps it on the member with its name.
func (h *Handler) registerFinish(w http.ResponseWriter, r *http.Request) {
	m, err := h.member(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	var body registerBody
	if err := web.DecodeJSON(r, maxBody, &body); err != nil {
		h.site.Error(w, r, err)
		return
	}
	name, err := passkeyName(body.Name)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body.Credential)
	if err != nil {
		h.site.Error(w, r, errUnreadable(err))
		return
	}
	c, err := h.store.takeCeremony(r.Context(), parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	if c.Kind != ceremonyRegister || c.Member != m.ID {
		h.site.Error(w, r, errExpired())
		return
	}
	wa, err := h.relyingParty(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	u, err := newUser(m)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	cred, err := wa.CreateCredential(u, c.Session, parsed)
	if err != nil {
		h.log.InfoContext(r.Context(), "passkey: registration refused", "member", m.ID, "err", errDetail(err))
		h.site.Error(w, r, presession.Errorf(presession.EINVALID, "the browser's answer could not be verified; try adding the passkey again").Localize("staff.passkey.not_verified"))
		return
	}
	data, err := json.Marshal(cred)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	pk := presession.Passkey{ID: credentialID(cred.ID), Name: name, CreatedAt: h.now().UTC().Truncate(time.Second), Credential: data}
	_, err = h.dir.UpdateMember(r.Context(), m.ID, func(m *presession.Member) error {
		if slices.ContainsFunc(m.Passkeys, func(p presession.Passkey) bool { return p.ID == pk.ID }) {
			return presession.Errorf(presession.ECONFLICT, "this passkey is on your account already").Localize("staff.passkey.exists")
		}
		if len(m.Passkeys) >= MaxPasskeys {
			return presession.Errorf(presession.ECONFLICT, "you have %d passkeys, the most an account may have; remove one first", MaxPasskeys).Localize("staff.passkey.too_many", MaxPasskeys)
		}
		m.Passkeys = append(m.Passkeys, pk)
		return nil
	})
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	web.AuditTarget(r.Context(), m.ID, "passkey "+pk.ID+": "+pk.Name)
	h.site.JSON(w, http.StatusCreated, view(pk))
}

func view(pk presession.Passkey) PasskeyView {
	v := PasskeyView{ID: pk.ID, Name: pk.Name, CreatedAt: pk.CreatedAt.Format(time.RFC3339)}
	if !pk.LastUsed.IsZero() {
		v.LastUsed = pk.LastUsed.Format(time.RFC3339)
	}
	return v
}

// passkeyName is a passkey's name as given, trimmed: EINVALID when empty
// or longer than maxNameRunes, or holding control characters.
func passkeyName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", presession.Errorf(presession.EINVALID, "give the passkey a name, such as the device it is on").Localize("staff.passkey.name_required")
	case utf8.RuneCountInString(s) > maxNameRunes || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", presession.Errorf(presession.EINVALID, "a passkey's name is at most %d characters, on one line", maxNameRunes).Localize("staff.passkey.name_invalid", maxNameRunes)
	}
	return s, nil
}

func errUnreadable(err error) error {
	return presession.Errorf(presession.EINVALID, "the browser's passkey answer could not be read: %v", errDetail(err)).Localize("staff.passkey.unreadable")
}

// errDetail is the library's explanation of err (protocol.Error keeps it
// in DevInfo).
func errDetail(err error) string {
	if pe, ok := err.(*protocol.Error); ok && pe.DevInfo != "" {
		return pe.Details + ": " + pe.DevInfo
	}
	return err.Error()
}
