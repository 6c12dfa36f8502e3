package review

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/invite"
	"github.com/uprinfo/presession/web"
)

// InvitationView is an invitation as the staff API lists it: the record
// (who was invited, when, by whom, its mail deliveries) and how many
// statements it has, of which how many were uploaded in full.
type InvitationView struct {
	*presession.Invitation
	Statements int `json:"statements"`
	Uploaded   int `json:"uploaded"`
}

// InvitationList is the body of GET /api/v1/invitations.
type InvitationList struct {
	Invitations []InvitationView `json:"invitations"`
	Total       int              `json:"total"`
}

// invitationFilter reads and checks the session and country of q.
func (h *Handler) invitationFilter(q url.Values) (session, country string, err error) {
	f, err := h.filter(url.Values{"session": {q.Get("session")}, "country": {q.Get("country")}})
	return f.Session, f.Country, err
}

// invitations returns the invitations of session/country (each "" = any),
// oldest first, with their statements counted.
func (h *Handler) invitations(ctx context.Context, session, country string) ([]InvitationView, error) {
	list, err := h.cat.ListInvitations(ctx, session, country)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(list))
	for i, inv := range list {
		ids[i] = inv.ID
	}
	stmts, err := h.cat.InvitationStatements(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]InvitationView, len(list))
	for i, inv := range list {
		v := InvitationView{Invitation: inv, Statements: len(stmts[inv.ID])}
		for _, s := range stmts[inv.ID] {
			if !s.UploadedAt.IsZero() {
				v.Uploaded++
			}
		}
		out[i] = v
	}
	return out, nil
}

func (h *Handler) listInvitations(w http.ResponseWriter, r *http.Request) {
	session, country, err := h.invitationFilter(r.URL.Query())
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	list, err := h.invitations(r.Context(), session, country)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.site.JSON(w, http.StatusOK, InvitationList{Invitations: list, Total: len(list)})
}

// csvTypes are the media types a CSV file arrives with (browsers on
// Windows name .csv files application/vnd.ms-excel).
var csvTypes = []string{"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"}

// RowProblem is one problem of a rejected CSV file, in the request's
// language; Column is a header name, empty for the line as a whole.
type RowProblem struct {
	Line    int    `json:"line"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

// ImportErrorBody is the answer to a CSV file that cannot be used: the
// usual error, and every problem by line and column.
type ImportErrorBody struct {
	Error struct {
		Code    string       `json:"code"`
		Message string       `json:"message"`
		Rows    []RowProblem `json:"rows"`
	} `json:"error"`
}

// importInvitations serves POST /api/v1/invitations/import: a CSV file
// (invite.ParseCSV), all or nothing. 201 when it created invitations, 200
// when every one existed already.
func (h *Handler) importInvitations(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !slices.Contains(csvTypes, mt) {
			h.site.Error(w, r, invalid("staff.err.csv_type", "send the file as text/csv"))
			return
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, invite.MaxFileBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = presession.Errorf(presession.ETOOLARGE, "the file is larger than %d bytes", invite.MaxFileBytes).Localize("invite.csv.large", invite.MaxFileBytes)
		} else {
			err = fmt.Errorf("read the CSV file: %w", err)
		}
		h.site.Error(w, r, err)
		return
	}
	rows, err := h.inviter.ParseCSV(data)
	if err != nil {
		h.fileError(w, r, err)
		return
	}
	res, err := h.inviter.Import(r.Context(), rows, web.ActorFrom(r.Context()))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Created > 0 {
		status = http.StatusCreated
	}
	h.site.JSON(w, status, res)
}

// fileError writes a rejected file's problems, each in the request's
// language; other errors as usual.
func (h *Handler) fileError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *invite.FileError
	if !errors.As(err, &fe) {
		h.site.Error(w, r, err)
		return
	}
	lang := h.site.Lang(r)
	var body ImportErrorBody
	body.Error.Code = presession.ErrorCode(err)
	body.Error.Message = h.site.Message(lang, err)
	body.Error.Rows = []RowProblem{}
	for _, p := range fe.Problems {
		if p.Line > 0 {
			body.Error.Rows = append(body.Error.Rows, RowProblem{Line: p.Line, Column: p.Column, Message: h.site.Message(lang, p.Err)})
		}
	}
	slices.SortStableFunc(body.Error.Rows, func(a, b RowProblem) int { return cmp.Compare(a.Line, b.Line) })
	h.site.JSON(w, web.Status(err), body)
}

// InvitationLimit is the number of invitations the dashboard shows.
const InvitationLimit = 200

// InvitationRow is one invitation of the dashboard's table.
type InvitationRow struct {
	InvitationView
	CountryName  string
	LanguageName string
	Deliveries   []DeliveryView
}

// DeliveryView is one mail of an invitation, as the dashboard says it.
type DeliveryView struct {
	Kind, State, StateText, Detail string
	At                             time.Time
}

// invitationRows fills in the invitations of the filter f, newest first,
// at most InvitationLimit.
func (h *Handler) invitationRows(ctx context.Context, d *Dashboard, lang string, f presession.Filter) error {
	list, err := h.invitations(ctx, f.Session, f.Country)
	if err != nil {
		return err
	}
	d.InvitationsTotal = len(list)
	slices.Reverse(list)
	for _, v := range list[:min(len(list), InvitationLimit)] {
		row := InvitationRow{InvitationView: v, CountryName: presession.CountryName(v.Country, lang), LanguageName: presession.LanguageName(v.Language)}
		kinds := slices.Sorted(maps.Keys(v.Mail))
		for _, k := range kinds {
			m := v.Mail[k]
			kind := k
			if key := "staff.inv.mail.kind." + k; h.site.Bundle.Has(key) {
				kind = h.site.Bundle.T(lang, key)
			}
			row.Deliveries = append(row.Deliveries, DeliveryView{Kind: kind, State: string(m.State),
				StateText: h.site.Bundle.T(lang, "staff.inv.mail."+string(m.State)), Detail: m.Detail, At: m.At})
		}
		d.Invitations = append(d.Invitations, row)
	}
	return nil
}
