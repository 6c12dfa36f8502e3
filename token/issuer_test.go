package token_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/token"
)

func TestIssuer(t *testing.T) {
	s := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	is := &token.Issuer{Signer: s, Sessions: presession.Builtin(), PublicURL: "https://p.example",
		Now: func() time.Time { return time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC) }}

	// Bulgaria is open until 20 May 2020; Andorra closed on 31 January.
	link, inv, err := is.Invite("upr36", "bg", "Example NGO", time.Time{})
	if err != nil || inv.Country != "BG" || !strings.HasPrefix(link, "https://p.example/upload?token=") {
		t.Fatalf("open country: %s %+v %v", link, inv, err)
	}
	u, _ := url.Parse(link)
	if got, err := s.ParseInvitation(u.Query().Get("token")); err != nil || got.ID != inv.ID {
		t.Fatalf("link token: %+v %v", got, err)
	}
	if _, _, err := is.Invite("upr36", "AD", "Example NGO", time.Time{}); err == nil ||
		!strings.Contains(err.Error(), "Andorra's upload deadline (31 January 2020) has passed") || presession.ErrorCode(err) != presession.EFORBIDDEN {
		t.Fatalf("closed country: %v", err)
	}
	until, _ := token.EndOfDay("2030-01-01")
	if _, inv, err := is.Invite("upr36", "AD", "Example NGO", until); err != nil || !inv.Until.Equal(until) {
		t.Fatalf("extension: %+v %v", inv, err)
	}
	past, _ := token.EndOfDay("2019-01-01")
	for name, err := range map[string]error{
		"past until":      func() error { _, _, err := is.Invite("upr36", "AD", "X", past); return err }(),
		"unknown country": func() error { _, _, err := is.Invite("upr36", "FR", "X", until); return err }(),
		"unknown session": func() error { _, _, err := is.Invite("upr99", "BG", "X", until); return err }(),
		"no organisation": func() error { _, _, err := is.Invite("upr36", "BG", " ", until); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	link, v, err := is.ViewerLink("upr36", "bg", 720*time.Hour)
	if err != nil || !strings.HasPrefix(link, "https://p.example/watch/upr36/bg?key=") || v.Country != "BG" {
		t.Fatalf("viewer link: %s %v", link, err)
	}
	u, _ = url.Parse(link)
	if _, err := s.ParseViewer(u.Query().Get("key"), is.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ParseViewer(u.Query().Get("key"), is.Now().Add(721*time.Hour)); err == nil {
		t.Fatal("viewer token valid past its expiry")
	}
}

// TestIssuerInviteAsAndLink: an invitation may carry a given ID, and a
// recorded invitation's link is signed afresh from its record, extension
// included, with no deadline check.
func TestIssuerInviteAsAndLink(t *testing.T) {
	s := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	is := &token.Issuer{Signer: s, Sessions: presession.Builtin(), PublicURL: "https://p.example",
		Now: func() time.Time { return time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC) }}
	_, inv, err := is.InviteAs("derived0123456789", "upr36", "BG", "X", time.Time{})
	if err != nil || inv.ID != "derived0123456789" {
		t.Fatalf("InviteAs: %+v %v", inv, err)
	}
	if _, _, err := is.InviteAs("derived", "upr36", "AD", "X", time.Time{}); presession.ErrorCode(err) != presession.EFORBIDDEN {
		t.Fatalf("InviteAs a closed country: %v", err)
	}
	until := time.Date(2030, 1, 1, 23, 59, 59, 0, time.UTC)
	link, tok := is.Link(&presession.Invitation{ID: "rec1", Session: "upr36", Country: "AD", Organisation: "Y", Until: &until})
	got, err := s.ParseInvitation(tok)
	if err != nil || got.ID != "rec1" || got.Country != "AD" || got.Organisation != "Y" || !got.Until.Equal(until) ||
		link != "https://p.example/upload?token="+url.QueryEscape(tok) {
		t.Fatalf("Link: %s %+v %v", link, got, err)
	}
}
