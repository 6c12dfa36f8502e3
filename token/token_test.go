package token_test

import (
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/token"
)

func TestTokens(t *testing.T) {
	s := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	other := token.NewSigner([]byte("another key another key another!"))
	now := time.Now()
	inv, _ := s.SignInvitation(token.Invitation{Session: "upr36", Country: "bg", Organisation: "Example NGO", Until: now.Add(time.Hour)})
	view, _ := s.SignViewer(token.Viewer{Session: "upr36", Country: "BG", Expires: now.Add(time.Hour)})
	expired, _ := s.SignViewer(token.Viewer{Session: "upr36", Expires: now.Add(-time.Minute)})
	foreignInv, _ := other.SignInvitation(token.Invitation{Session: "upr36", Country: "BG", Organisation: "X"})
	foreignView, _ := other.SignViewer(token.Viewer{Session: "upr36", Expires: now.Add(time.Hour)})

	got, err := s.ParseInvitation(inv)
	if err != nil || got.Country != "BG" || got.Organisation != "Example NGO" || got.ID == "" || got.Until.IsZero() {
		t.Fatalf("good invitation: %+v %v", got, err)
	}
	if v, err := s.ParseViewer(view, now); err != nil || !v.Allows("upr36", "bg") || v.Allows("upr36", "US") {
		t.Fatalf("good viewer: %+v %v", v, err)
	}
	if strings.ContainsAny(inv+view, "+/= ") {
		t.Fatalf("tokens must be URL-safe: %s %s", inv, view)
	}

	p, m, _ := strings.Cut(inv, ".")
	flipped := []byte(p)
	flipped[3] ^= 1
	for _, tc := range []struct {
		name, tok string
		viewer    bool
		want      string
	}{
		{"empty", "", false, "not valid"},
		{"truncated", inv[:len(inv)-5], false, "not valid"},
		{"payload only", p, false, "not valid"},
		{"forged payload", string(flipped) + "." + m, false, "not valid"},
		{"wrong key invitation", foreignInv, false, "not valid"},
		{"wrong key viewer", foreignView, true, "not valid"},
		{"viewer as invitation", view, false, "not valid"},
		{"invitation as viewer", inv, true, "not valid"},
		{"expired viewer", expired, true, "expired"},
		{"garbage", "%%%.@@@", false, "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.viewer {
				_, err = s.ParseViewer(tc.tok, now)
			} else {
				_, err = s.ParseInvitation(tc.tok)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if presession.ErrorCode(err) != presession.EUNAUTHORIZED {
				t.Fatalf("code %s", presession.ErrorCode(err))
			}
		})
	}
}

// TestKeyRotation: a signer signs with its newest key and accepts tokens
// signed under any of its keys; once a key is dropped, its tokens are
// refused.
func TestKeyRotation(t *testing.T) {
	oldKey, newKey := []byte("old-key-0123456789abcdef0123456789"), []byte("new-key-0123456789abcdef0123456789")
	before := token.NewSigner(oldKey)
	rotated := token.NewSigner(newKey, oldKey)
	after := token.NewSigner(newKey)
	issued, _ := before.SignInvitation(token.Invitation{Session: "upr36", Country: "AD", Organisation: "Org"})
	if _, err := rotated.ParseInvitation(issued); err != nil {
		t.Fatalf("a link of the previous key is refused after rotation: %v", err)
	}
	fresh, _ := rotated.SignInvitation(token.Invitation{Session: "upr36", Country: "AD", Organisation: "Org"})
	if _, err := after.ParseInvitation(fresh); err != nil {
		t.Fatalf("a link signed after rotation is not under the newest key: %v", err)
	}
	if _, err := before.ParseInvitation(fresh); err == nil {
		t.Fatal("a link signed after rotation verifies under the old key alone")
	}
	if _, err := after.ParseInvitation(issued); presession.ErrorCode(err) != presession.EUNAUTHORIZED {
		t.Fatalf("a link of a dropped key: %v, want refused", err)
	}
	v, _ := before.SignViewer(token.Viewer{Session: "upr36", Expires: time.Now().Add(time.Hour)})
	if _, err := rotated.ParseViewer(v, time.Now()); err != nil {
		t.Fatalf("a viewer link of the previous key is refused after rotation: %v", err)
	}
}
