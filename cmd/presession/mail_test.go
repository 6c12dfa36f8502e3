package main

import (
	"bytes"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/mail"
	"github.com/uprinfo/presession/token"
)

// TestUploadLinkFromRecord: the link in an invitation's mail carries a
// token for the record's invitation, organisation, country and extension.
func TestUploadLinkFromRecord(t *testing.T) {
	signer := token.NewSigner([]byte("0123456789abcdef0123"))
	until := time.Date(2020, 6, 1, 23, 59, 59, 0, time.UTC)
	inv := &presession.Invitation{ID: "inv1", Session: "upr36", Country: "AD", Organisation: "Org", Until: &until,
		CreatedAt: time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC)}
	link := uploadLink(signer, "https://presession.example.org", inv)
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, "https://presession.example.org/upload?token=") {
		t.Fatalf("link %q (%v)", link, err)
	}
	got, err := signer.ParseInvitation(u.Query().Get("token"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "inv1" || got.Session != "upr36" || got.Country != "AD" || got.Organisation != "Org" || !got.Until.Equal(until) {
		t.Fatalf("token carries %+v", got)
	}
	if again := uploadLink(signer, "https://presession.example.org", inv); again != link {
		t.Errorf("the same record gave two links")
	}
}

// TestMailSenderSaysWhere: without SMTP_URL mail goes to the outbox in the
// data dir and the log says so; with it, the log names the server without
// its password.
func TestMailSenderSaysWhere(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PRESESSION_DATA_DIR": dir}, dir + "/outbox"},
		{map[string]string{"PRESESSION_DATA_DIR": dir, "SMTP_URL": "smtp://u:s3cret-pw@mail.example.org", "MAIL_FROM": "a@example.org"}, "smtp://u:redacted@mail.example.org:587"},
	} {
		cfg, err := config.Load(func(k string) string { return tc.env[k] })
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		s := mailSender(cfg, slog.New(slog.NewTextHandler(&buf, nil)))
		if !strings.Contains(buf.String(), tc.want) || strings.Contains(buf.String(), "s3cret-pw") {
			t.Errorf("log %q, want it to name %s and no password", buf.String(), tc.want)
		}
		if _, outbox := s.(*mail.Outbox); outbox != (cfg.SMTP.Host == "") {
			t.Errorf("sender %T for SMTP %+v", s, cfg.SMTP)
		}
	}
}
