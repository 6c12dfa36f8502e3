package review

import (
	"net/http"
	"time"

	"github.com/uprinfo/presession"
)

// MyStatement is what an organisation sees of one of its statements: no
// internal keys, no history, nothing of other organisations.
type MyStatement struct {
	ID         string            `json:"id"`
	Title      string            `json:"title"`
	Speaker    string            `json:"speaker,omitempty"`
	Language   string            `json:"language,omitempty"`
	Filename   string            `json:"filename,omitempty"`
	Size       int64             `json:"size"`
	Status     presession.Status `json:"status"`
	Progress   float64           `json:"progress"`
	Reason     string            `json:"reason,omitempty"`      // why it failed or was rejected, in English (as stored)
	ReasonText string            `json:"reason_text,omitempty"` // the same in the request's language
	Duration   float64           `json:"duration,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UploadedAt time.Time         `json:"uploaded_at,omitzero"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// MyStatements is the body of GET /api/v1/me/statements.
type MyStatements struct {
	Session      string        `json:"session"`
	Country      string        `json:"country"`
	Organisation string        `json:"organisation"`
	Statements   []MyStatement `json:"statements"`
}

// me serves GET /api/v1/me/statements: the statements uploaded with the
// request's invitation token (bearer or ?token=). A failed or rejected
// statement's reason comes as stored (English, or as staff typed it) and
// as reason_text, in the request's language where the system wrote it.
func (h *Handler) me(w http.ResponseWriter, r *http.Request) {
	inv, _, err := h.site.Auth.Principal(r).RequireInvitation()
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	list, _, err := h.cat.List(r.Context(), presession.Filter{InvitationID: inv.ID})
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	lang := h.site.Lang(r)
	out := MyStatements{Session: inv.Session, Country: inv.Country, Organisation: inv.Organisation, Statements: make([]MyStatement, 0, len(list))}
	for _, s := range list {
		if s.InvitationID != inv.ID { // the index is the invitation's; belt and braces
			continue
		}
		m := MyStatement{ID: s.ID, Title: s.Title, Speaker: s.Speaker, Language: s.Language, Filename: s.Filename,
			Size: s.Size, Status: s.Status, Progress: s.Progress, CreatedAt: s.CreatedAt, UploadedAt: s.UploadedAt, UpdatedAt: s.UpdatedAt}
		if s.Status.KeepsReason() {
			m.Reason, m.ReasonText = s.Reason, h.site.Reason(lang, s)
		}
		if s.Media != nil {
			m.Duration = s.Media.Duration
		}
		out.Statements = append(out.Statements, m)
	}
	h.site.JSON(w, http.StatusOK, out)
}
