package token_test

import (
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/token"
)

// TestViewerRecord: the record of a viewer link is the token's ID, scope
// and times, for whom and by whom.
func TestViewerRecord(t *testing.T) {
	is := &token.Issuer{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), Sessions: presession.Builtin(),
		PublicURL: "https://p.example.org"}
	_, v, err := is.ViewerLink("upr36", "bg", 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rec := v.Record("  Delegation of Bulgaria ", presession.ActorMember("m1"))
	want := presession.ViewerLink{ID: v.ID, Session: "upr36", Country: "BG", For: "Delegation of Bulgaria",
		Expires: v.Expires, CreatedBy: "staff:m1"}
	if v.ID == "" || *rec != want {
		t.Fatalf("record %+v, want %+v", *rec, want)
	}
}
