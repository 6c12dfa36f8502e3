package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment variables of the test command's mailpit.
const (
	EnvSMTPAddr   = "PRESESSION_TEST_SMTP_ADDR"   // host:port of mailpit's SMTP server
	EnvMailpitAPI = "PRESESSION_TEST_MAILPIT_API" // http://host:port of mailpit's HTTP API
	EnvMailpitBin = "PRESESSION_TEST_MAILPIT_BIN" // the mailpit binary, for tests that run their own
)

// Mailpit is a mailpit server: an SMTP server that keeps what it receives
// and shows it on an HTTP API.
type Mailpit struct {
	SMTPAddr string // host:port
	API      string // http://host:port
}

// SharedMailpit returns the mailpit the test command started. Tests share
// it: each should send to recipients of its own (RandomHex) and read them
// back with Messages.
func SharedMailpit(t testing.TB) Mailpit {
	t.Helper()
	addr, api := os.Getenv(EnvSMTPAddr), os.Getenv(EnvMailpitAPI)
	if addr == "" || api == "" {
		missing(t, "mailpit ("+EnvSMTPAddr+", "+EnvMailpitAPI+")")
	}
	return Mailpit{SMTPAddr: addr, API: api}
}

// MailpitProcess is a mailpit of one test's own, which the test can stop
// and start again on the same ports (a mail server down for a while).
type MailpitProcess struct {
	Mailpit
	t    testing.TB
	bin  string
	args []string
	cmd  *exec.Cmd
}

// StartMailpit starts a mailpit of the test's own on free loopback ports,
// with extra flags (for example --smtp-allowed-recipients), stopped at the
// end of the test.
func StartMailpit(t testing.TB, extra ...string) *MailpitProcess {
	t.Helper()
	bin := os.Getenv(EnvMailpitBin)
	if bin == "" {
		p, err := exec.LookPath("mailpit")
		if err != nil {
			missing(t, "mailpit ("+EnvMailpitBin+")")
		}
		bin = p
	}
	smtp, http := freePort(t), freePort(t)
	m := &MailpitProcess{Mailpit: Mailpit{SMTPAddr: "127.0.0.1:" + smtp, API: "http://127.0.0.1:" + http}, t: t, bin: bin}
	m.args = append([]string{"--listen", "127.0.0.1:" + http, "--smtp", "127.0.0.1:" + smtp, "--quiet",
		"--smtp-disable-rdns", "--max", "0", "--database", filepath.Join(t.TempDir(), "mailpit.db")}, extra...)
	m.start()
	t.Cleanup(m.Stop)
	return m
}

func (m *MailpitProcess) start() {
	m.t.Helper()
	cmd := exec.Command(m.bin, m.args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		m.t.Fatalf("testenv: start mailpit: %v", err)
	}
	m.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", m.SMTPAddr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.t.Fatalf("testenv: mailpit did not listen on %s within 10 s", m.SMTPAddr)
}

// Stop stops the mailpit (its SMTP port then refuses connections).
func (m *MailpitProcess) Stop() {
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		m.cmd.Process.Kill()
		<-done
	}
	m.cmd = nil
}

// Start starts the stopped mailpit again, on the same ports and database.
func (m *MailpitProcess) Start() {
	m.t.Helper()
	if m.cmd == nil {
		m.start()
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// MailAddress is a name and an address as mailpit reports them.
type MailAddress struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// MailSummary is a message in mailpit's list.
type MailSummary struct {
	ID        string        `json:"ID"`
	MessageID string        `json:"MessageID"`
	From      MailAddress   `json:"From"`
	To        []MailAddress `json:"To"`
	Subject   string        `json:"Subject"`
}

// MailMessage is one message as mailpit parsed it.
type MailMessage struct {
	MailSummary
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

// Messages returns the messages mailpit received for to, newest first.
func (m Mailpit) Messages(t testing.TB, to string) []MailSummary {
	t.Helper()
	var out struct {
		Messages []MailSummary `json:"messages"`
	}
	m.get(t, "/api/v1/search?limit=1000&query="+url.QueryEscape("to:"+to), &out)
	var mine []MailSummary
	for _, s := range out.Messages {
		for _, a := range s.To {
			if a.Address == to {
				mine = append(mine, s)
				break
			}
		}
	}
	return mine
}

// Message returns the message of mailpit's ID, its text and HTML bodies.
func (m Mailpit) Message(t testing.TB, id string) MailMessage {
	t.Helper()
	var msg MailMessage
	m.get(t, "/api/v1/message/"+url.PathEscape(id), &msg)
	return msg
}

func (m Mailpit) get(t testing.TB, path string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.API+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("testenv: mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("testenv: mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("testenv: mailpit %s: %v", path, fmt.Errorf("decode: %w", err))
	}
}

// RefuseRecipients makes a mailpit started with --enable-chaos answer
// code (a 4xx, say) to that percentage of recipients; 0 stops it.
func (m Mailpit) RefuseRecipients(t testing.TB, code, percent int) {
	t.Helper()
	body := fmt.Sprintf(`{"Recipient":{"ErrorCode":%d,"Probability":%d}}`, code, percent)
	req, _ := http.NewRequest(http.MethodPut, m.API+"/api/v1/chaos", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("testenv: mailpit chaos: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("testenv: mailpit chaos: %s", resp.Status)
	}
}
