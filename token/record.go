package token

import (
	"strings"

	"github.com/uprinfo/presession"
)

// Record is the catalog's record of the viewer link whose token carries
// v: its ID, what it covers and until when, issued by by for whom (as
// staff wrote it, trimmed; may be empty). CreatedAt is left for the
// catalog to set, to the microsecond (the token's IssuedAt is to the
// second).
func (v Viewer) Record(whom string, by presession.Actor) *presession.ViewerLink {
	return &presession.ViewerLink{ID: v.ID, Session: v.Session, Country: v.Country, For: strings.TrimSpace(whom),
		Expires: v.Expires, CreatedBy: by}
}
