package mail_test

import (
	"context"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
	pmail "github.com/uprinfo/presession/mail"
)

func message(to string) pmail.Message {
	return pmail.Message{ID: "occ_1:invitation:" + to, To: []string{to}, Subject: "Votre invitation — Pré-session",
		Text: "Bonjour,\n\nhttps://presession.example.org/upload?token=abc\n", HTML: "<p>Bonjour,</p><p><a href=\"https://presession.example.org/upload?token=abc\">lien</a></p>",
		Date: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func smtpTo(t *testing.T, addr string) *pmail.SMTP {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return pmail.NewSMTP(pmail.SMTPConfig{Host: host, Port: p, From: "Pre-session <presession@example.org>", Timeout: 5 * time.Second})
}

// TestSMTPDelivers: a message reaches a real server with its text and
// HTML alternatives, its subject intact and its Message-ID from the ID.
func TestSMTPDelivers(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	to := "org-" + testenv.RandomHex(6) + "@example.org"
	if err := smtpTo(t, mp.SMTPAddr).Send(context.Background(), message(to)); err != nil {
		t.Fatal(err)
	}
	got := mp.Messages(t, to)
	if len(got) != 1 {
		t.Fatalf("%d messages for %s, want 1", len(got), to)
	}
	m := mp.Message(t, got[0].ID)
	if m.Subject != "Votre invitation — Pré-session" || !strings.Contains(m.Text, "upload?token=abc") ||
		!strings.Contains(m.HTML, `href="https://presession.example.org/upload?token=abc"`) {
		t.Fatalf("received %+v", m)
	}
	if !strings.HasSuffix(m.MessageID, "@example.org") || !strings.HasPrefix(m.MessageID, "occ_1_invitation_") {
		t.Errorf("Message-ID %q", m.MessageID)
	}
}

// TestSMTPPermanentAndTemporary: a 5xx refusal is permanent, an
// unreachable server is not.
func TestSMTPPermanentAndTemporary(t *testing.T) {
	mp := testenv.StartMailpit(t, "--smtp-allowed-recipients", `@allowed\.example$`)
	s := smtpTo(t, mp.SMTPAddr)
	err := s.Send(context.Background(), message("someone@refused.example"))
	p, ok := pmail.Permanent(err)
	if !ok || p.Code < 500 || p.Code > 599 || !strings.Contains(p.Answer, "550") {
		t.Fatalf("refused recipient: err = %v, want a permanent 5xx", err)
	}
	if err := s.Send(context.Background(), message("someone@allowed.example")); err != nil {
		t.Fatal(err)
	}
	mp.Stop()
	err = s.Send(context.Background(), message("someone@allowed.example"))
	if _, ok := pmail.Permanent(err); err == nil || ok {
		t.Fatalf("server down: err = %v, want a temporary error", err)
	}
}

// TestOutbox: without a server, each message is a parseable .eml file
// named by its ID, with both alternatives; sending it again overwrites it.
func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	o := &pmail.Outbox{Dir: dir, From: "Pre-session <presession@example.org>"}
	m := message("org@example.org")
	for range 2 {
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || filepath.Base(files[0]) != "occ_1_invitation_org_example.org.eml" {
		t.Fatalf("outbox holds %v", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msg, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subj != m.Subject {
		t.Errorf("Subject %q (%v)", subj, err)
	}
	if to := msg.Header.Get("To"); !strings.Contains(to, "org@example.org") {
		t.Errorf("To %q", to)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
	}
	if strings.Join(types, " ") != "text/plain text/html" {
		t.Errorf("parts %v, want text/plain then text/html", types)
	}
}
