package people

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/web"
)

// maxBody bounds the JSON bodies of the API.
const maxBody = 16 << 10

// Member states, as the API and the page name them.
const (
	StateActive   = "active"   // can sign in
	StatePending  = "pending"  // has not set a password from their link yet
	StateDisabled = "disabled" // cannot sign in
)

// Member is a member of staff as the API shows it: no password hash, no
// passkey material.
type Member struct {
	ID            string           `json:"id"`
	Email         string           `json:"email"`
	Name          string           `json:"name"`
	Role          presession.Role  `json:"role"`
	State         string           `json:"state"`
	Disabled      bool             `json:"disabled"`
	HasPassword   bool             `json:"has_password"`
	Passkeys      int              `json:"passkeys"`
	CreatedAt     time.Time        `json:"created_at"`
	CreatedBy     presession.Actor `json:"created_by"`
	CreatedByName string           `json:"created_by_name,omitempty"`
	UpdatedAt     time.Time        `json:"updated_at"`
}

// memberView is m as the API shows it, with the names of names.
func memberView(m *presession.Member, names map[presession.Actor]string) Member {
	v := Member{ID: m.ID, Email: m.Email, Name: m.Name, Role: m.Role, Disabled: m.Disabled,
		HasPassword: m.PasswordHash != "", Passkeys: len(m.Passkeys), CreatedAt: m.CreatedAt,
		CreatedBy: m.CreatedBy, CreatedByName: names[m.CreatedBy], UpdatedAt: m.UpdatedAt}
	switch {
	case m.Disabled:
		v.State = StateDisabled
	case !v.HasPassword && v.Passkeys == 0:
		v.State = StatePending
	default:
		v.State = StateActive
	}
	return v
}

// Token is an API token as the API shows it: no hash.
type Token struct {
	ID            string           `json:"id"`
	Name          string           `json:"name"`
	Role          presession.Role  `json:"role"`
	CreatedAt     time.Time        `json:"created_at"`
	CreatedBy     presession.Actor `json:"created_by"`
	CreatedByName string           `json:"created_by_name,omitempty"`
	LastUsed      time.Time        `json:"last_used,omitzero"`
	Revoked       bool             `json:"revoked"`
	RevokedAt     *time.Time       `json:"revoked_at,omitempty"`
	RevokedBy     presession.Actor `json:"revoked_by,omitempty"`
	RevokedByName string           `json:"revoked_by_name,omitempty"`
}

func tokenView(t *presession.APIToken, names map[presession.Actor]string) Token {
	return Token{ID: t.ID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy,
		CreatedByName: names[t.CreatedBy], LastUsed: t.LastUsed, Revoked: t.RevokedAt != nil,
		RevokedAt: t.RevokedAt, RevokedBy: t.RevokedBy, RevokedByName: names[t.RevokedBy]}
}

// MembersResponse is the body of GET /api/v1/staff.
type MembersResponse struct {
	Members []Member `json:"members"`
}

// AddRequest is the body of POST /api/v1/staff.
type AddRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Language string `json:"language,omitempty"` // of the mail; default the request's
}

// LinkResponse is the answer of POST /api/v1/staff and of a reset: the
// member and the one-time set-password link, which is shown this once.
type LinkResponse struct {
	Member Member `json:"member"`
	// SetPasswordURL is the one-time link the person sets their password
	// with; pass it on (it is mailed too when Mailed).
	SetPasswordURL string `json:"set_password_url"`
	Mailed         bool   `json:"mailed"`
	// MailError says why the link could not be mailed, when mail is
	// configured and sending failed.
	MailError string `json:"mail_error,omitempty"`
}

// RoleRequest is the body of POST /api/v1/staff/{id}/role.
type RoleRequest struct {
	Role string `json:"role"`
}

// TokensResponse is the body of GET /api/v1/tokens.
type TokensResponse struct {
	Tokens []Token `json:"tokens"`
}

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// TokenResponse is the answer of POST /api/v1/tokens: the secret is
// shown this once; only its hash is kept.
type TokenResponse struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}

// memberActors are the actors named in ms.
func memberActors(ms ...*presession.Member) []presession.Actor {
	var out []presession.Actor
	for _, m := range ms {
		if m.CreatedBy != "" && !slices.Contains(out, m.CreatedBy) {
			out = append(out, m.CreatedBy)
		}
	}
	return out
}

// tokenActors are the actors named in ts.
func tokenActors(ts ...*presession.APIToken) []presession.Actor {
	var out []presession.Actor
	for _, t := range ts {
		for _, a := range []presession.Actor{t.CreatedBy, t.RevokedBy} {
			if a != "" && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func (h *Handler) listMembers(w http.ResponseWriter, r *http.Request) {
	ms, err := h.dir.Members(r.Context())
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	names := h.names(r.Context(), memberActors(ms...))
	out := MembersResponse{Members: make([]Member, 0, len(ms))}
	for _, m := range ms {
		out.Members = append(out.Members, memberView(m, names))
	}
	h.site.JSON(w, http.StatusOK, out)
}

// parseRole reads a role of a request body: EINVALID when it names none.
func parseRole(s string) (presession.Role, error) {
	if strings.TrimSpace(s) == "" {
		return "", presession.Errorf(presession.EINVALID, "choose a role: admin, reviewer or observer").Localize("err.people_role_required")
	}
	return presession.ParseRole(s)
}

// mailLang is the language of a link's mail: lang when it is one of the
// interface's, else the request's.
func (h *Handler) mailLang(r *http.Request, lang string) string {
	if slices.Contains(i18n.Languages, lang) {
		return lang
	}
	return h.site.Lang(r)
}

func (h *Handler) addMember(w http.ResponseWriter, r *http.Request) {
	var b AddRequest
	if err := web.DecodeJSON(r, maxBody, &b); err != nil {
		h.site.Error(w, r, err)
		return
	}
	role, err := parseRole(b.Role)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	ctx := r.Context()
	by := web.ActorFrom(ctx)
	m, link, err := h.dir.Add(ctx, strings.TrimSpace(b.Email), strings.TrimSpace(b.Name), role, by)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	web.AuditTarget(ctx, m.ID, m.Email+" as "+string(m.Role))
	h.log.InfoContext(ctx, "staff member added", "member", m.ID, "role", m.Role, "by", by)
	h.site.JSON(w, http.StatusCreated, h.linkResponse(r, m, link, h.mailLang(r, b.Language), false))
}

// linkResponse sends link to m by mail when mail is configured and
// returns the answer showing it.
func (h *Handler) linkResponse(r *http.Request, m *presession.Member, link, lang string, reset bool) LinkResponse {
	out := LinkResponse{Member: memberView(m, h.names(r.Context(), memberActors(m))), SetPasswordURL: link}
	if h.mail == nil {
		return out
	}
	// The link is made: it is shown whatever the mail does, and a client
	// gone does not stop the mail.
	ctx := context.WithoutCancel(r.Context())
	if err := h.mail(ctx, LinkMail{Member: m, Link: link, Lang: lang, Reset: reset}); err != nil {
		h.log.WarnContext(ctx, "set-password link not mailed", "member", m.ID, "err", err)
		out.MailError = h.site.Message(h.site.Lang(r), err)
		return out
	}
	out.Mailed = true
	return out
}

// notSelf refuses an admin's change to their own account that could lock
// every admin out (disable, role): another admin does it.
func notSelf(ctx context.Context, id string) error {
	if me, ok := web.IdentityFrom(ctx); ok && me.Kind == presession.IdentityMember && me.ID == id {
		return presession.Errorf(presession.ECONFLICT, "you cannot disable your own account or change your own role; ask another admin").Localize("err.people_self")
	}
	return nil
}

// memberChange serves a change of the member {id} made by change.
// The audit names the member and their email (detail, when not "").
func (h *Handler) memberChange(w http.ResponseWriter, r *http.Request, self bool, detail string,
	change func(ctx context.Context, id string, by presession.Actor) (*presession.Member, error)) {
	ctx := r.Context()
	id := r.PathValue("id")
	if !self {
		if err := notSelf(ctx, id); err != nil {
			h.site.Error(w, r, err)
			return
		}
	}
	m, err := change(ctx, id, web.ActorFrom(ctx))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	web.AuditTarget(ctx, m.ID, strings.TrimSpace(m.Email+" "+detail))
	h.site.JSON(w, http.StatusOK, memberView(m, h.names(ctx, memberActors(m))))
}

func (h *Handler) disable(w http.ResponseWriter, r *http.Request) {
	h.memberChange(w, r, false, "", h.dir.Disable)
}

func (h *Handler) enable(w http.ResponseWriter, r *http.Request) {
	h.memberChange(w, r, true, "", h.dir.Enable)
}

func (h *Handler) setRole(w http.ResponseWriter, r *http.Request) {
	var b RoleRequest
	if err := web.DecodeJSON(r, maxBody, &b); err != nil {
		h.site.Error(w, r, err)
		return
	}
	role, err := parseRole(b.Role)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.memberChange(w, r, false, "to "+string(role), func(ctx context.Context, id string, by presession.Actor) (*presession.Member, error) {
		return h.dir.SetRole(ctx, id, role, by)
	})
}

func (h *Handler) reset(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m, link, err := h.dir.Reset(ctx, r.PathValue("id"), web.ActorFrom(ctx))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	web.AuditTarget(ctx, m.ID, m.Email)
	h.site.JSON(w, http.StatusOK, h.linkResponse(r, m, link, h.site.Lang(r), true))
}

func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := h.dir.Tokens(r.Context())
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	names := h.names(r.Context(), tokenActors(ts...))
	out := TokensResponse{Tokens: make([]Token, 0, len(ts))}
	for _, t := range ts {
		out.Tokens = append(out.Tokens, tokenView(t, names))
	}
	h.site.JSON(w, http.StatusOK, out)
}

func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) {
	var b TokenRequest
	if err := web.DecodeJSON(r, maxBody, &b); err != nil {
		h.site.Error(w, r, err)
		return
	}
	role, err := parseRole(b.Role)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	ctx := r.Context()
	t, secret, err := h.dir.CreateToken(ctx, strings.TrimSpace(b.Name), role, web.ActorFrom(ctx))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	web.AuditTarget(ctx, t.ID, t.Name+" as "+string(t.Role))
	h.site.JSON(w, http.StatusCreated, TokenResponse{Token: tokenView(t, h.names(ctx, tokenActors(t))), Secret: secret})
}

func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, err := h.dir.RevokeToken(ctx, r.PathValue("id"), web.ActorFrom(ctx))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	web.AuditTarget(ctx, t.ID, t.Name)
	h.site.JSON(w, http.StatusOK, tokenView(t, h.names(ctx, tokenActors(t))))
}
