package token

import (
	"strings"
	"unicode/utf8"

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

// MaxForLength is the longest "for" of a viewer link, in characters.
const MaxForLength = 300

// CheckFor refuses a "for" (whom a viewer link is for) longer than
// MaxForLength.
func CheckFor(whom string) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(whom)); n > MaxForLength {
		return presession.Errorf(presession.EINVALID, "whom the link is for may be at most %d characters long; this is %d", MaxForLength, n).
			Localize("err.viewer_for_long", MaxForLength, n)
	}
	return nil
}
