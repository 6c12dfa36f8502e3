package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/mail"
)

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
