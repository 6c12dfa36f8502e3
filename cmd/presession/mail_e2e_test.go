package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// mailPhrases are the messages of i18n/messages/LANG/mail.json.
func mailPhrases(t testing.TB, lang string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "i18n", "messages", lang, "mail.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// fixed is the part of a message before its first argument: what every
// message of that key starts with, whatever it is about.
func fixed(msg string) string {
	head, _, _ := strings.Cut(msg, "%")
	return strings.TrimSpace(head)
}

// mailSessions writes a sessions file of one session with countries, its
// deadline until from now, and returns its path.
func mailSessions(t testing.TB, id string, until time.Duration, countries ...string) string {
	t.Helper()
	var cs []map[string]string
	for _, c := range countries {
		cs = append(cs, map[string]string{"code": c})
	}
	js, err := json.Marshal(map[string]any{"sessions": []map[string]any{{
		"id": id, "title": "Pre-session " + id, "review": "UPR 99", "max_statement_seconds": 300,
		"upload_deadline": time.Now().Add(until).UTC().Format(time.RFC3339),
		"languages":       []string{"en", "fr", "es"}, "countries": cs,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "sessions.json")
	if err := os.WriteFile(p, js, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// freeAddr is a loopback address free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// importCSV posts a CSV file to the staff import route, failing the test
// unless it answers want.
func importCSV(t testing.TB, base, staff, file string, want int) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/invitations/import", strings.NewReader(file))
	req.Header.Set("Authorization", "Bearer "+staff)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("import: %s, want %d: %s", resp.Status, want, data)
	}
}

// mailTotal is the number of messages mailpit holds.
func mailTotal(t testing.TB, api string) int {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/messages?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Total int `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Total
}

// uploadLink is the upload link of a message's text.
var uploadLink = regexp.MustCompile(`https?://[^\s<>"]+/upload\?token=[^\s<>"]+`)

// org is one organisation of the mail test's CSV.
type org struct {
	country, name, email, lang string
}

// TestMailEndToEnd runs the binary (all roles) on real Redis and S3 with
// SMTP_URL on a mailpit of the test's own. Staff import a CSV of three
// countries × four organisations in English, French and Spanish while
// mailpit is down for 30 s: every invitation arrives once, in its row's
// language. The link in one is used by tus-js-client to upload, and "we
// received your statement" follows; a PDF uploaded as a statement brings
// the failure with its reason; a rejection and an approval bring theirs;
// and, the deadline being six days away, the invitations without an upload
// get one 7-day reminder each, however many sweeps run.
func TestMailEndToEnd(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	mp := testenv.StartMailpit(t)
	script := testenv.NodeScript(t, "upload-tus.mjs")
	session := "mail" + testenv.RandomHex(3)
	addr := freeAddr(t)
	base := "http://" + addr
	mailEnv := []string{"SMTP_URL=smtp://" + mp.SMTPAddr, "MAIL_FROM=Pre-session <presession@example.org>",
		"PRESESSION_SESSIONS=" + mailSessions(t, session, 6*24*time.Hour, "AD", "BG", "CL")}
	c.start(t, "all", "all", append(slices.Clone(mailEnv), "PRESESSION_ADDR="+addr, "PRESESSION_PUBLIC_URL="+base)...)
	staff := envValue(c.env, "PRESESSION_STAFF_TOKEN")

	langs := []string{"en", "fr", "es"}
	phrases := map[string]map[string]string{}
	for _, l := range langs {
		phrases[l] = mailPhrases(t, l)
	}
	var orgs []org
	var file strings.Builder
	file.WriteString("session,country,organisation,email,language,until\n")
	tag := testenv.RandomHex(4)
	for _, cc := range []string{"AD", "BG", "CL"} {
		for i := range 4 {
			o := org{country: cc, name: fmt.Sprintf("Org %s %d", cc, i+1), lang: langs[len(orgs)%3],
				email: fmt.Sprintf("org-%s-%s-%d@example.org", tag, strings.ToLower(cc), i+1)}
			orgs = append(orgs, o)
			fmt.Fprintf(&file, "%s,%s,%s,%s,%s,\n", session, o.country, o.name, o.email, o.lang)
		}
	}

	// The burst: mailpit goes down as soon as the import is answered, for
	// 30 s, and comes back on the same ports.
	importCSV(t, base, staff, file.String(), 201)
	before := mailTotal(t, mp.API)
	mp.Stop()
	down := time.Now()
	time.Sleep(30 * time.Second)
	mp.Start()
	t.Logf("mailpit was down %v; it held %d of the %d invitations when it stopped", time.Since(down).Round(time.Second), before, len(orgs))

	// messages returns o's messages whose subject starts as key's does.
	messages := func(o org, key string) []testenv.MailSummary {
		var out []testenv.MailSummary
		for _, m := range mp.Messages(t, o.email) {
			if strings.HasPrefix(m.Subject, fixed(phrases[o.lang][key])) {
				out = append(out, m)
			}
		}
		return out
	}
	// waitOne waits until o has one message of key and returns it.
	waitOne := func(o org, key string, within time.Duration) testenv.MailMessage {
		t.Helper()
		var got []testenv.MailSummary
		eventually(t, within, o.email+": "+key, func() bool {
			got = messages(o, key)
			return len(got) > 0
		})
		return mp.Message(t, got[0].ID)
	}

	eventually(t, 3*time.Minute, "the 12 invitations after mailpit's downtime", func() bool {
		return mailTotal(t, mp.API) >= len(orgs)
	})
	time.Sleep(3 * time.Second) // a duplicate would come now
	invitations := map[string]testenv.MailMessage{}
	for _, o := range orgs {
		all := mp.Messages(t, o.email)
		if len(all) != 1 {
			var subjects []string
			for _, m := range all {
				subjects = append(subjects, m.Subject)
			}
			t.Fatalf("%s received %d messages %q, want its one invitation", o.email, len(all), subjects)
		}
		msg := mp.Message(t, all[0].ID)
		p := phrases[o.lang]
		if !strings.HasPrefix(msg.Subject, fixed(p["mail.invitation.subject"])) {
			t.Errorf("%s (%s): subject %q, want it to start %q", o.email, o.lang, msg.Subject, fixed(p["mail.invitation.subject"]))
		}
		if !strings.Contains(msg.Text, fixed(p["mail.why_org"])) || msg.HTML == "" {
			t.Errorf("%s (%s): the text does not say why in its language (%q), or there is no HTML:\n%s", o.email, o.lang, fixed(p["mail.why_org"]), msg.Text)
		}
		if !uploadLink.MatchString(msg.Text) {
			t.Errorf("%s: no upload link in\n%s", o.email, msg.Text)
		}
		invitations[o.email] = msg
	}
	if t.Failed() {
		t.FailNow()
	}
	// Each delivery is recorded on its invitation.
	var listed struct {
		Invitations []struct {
			Emails []string `json:"emails"`
			Mail   map[string]struct {
				State string `json:"state"`
			} `json:"mail"`
		} `json:"invitations"`
	}
	eventually(t, 10*time.Second, "every invitation's mail recorded as sent", func() bool {
		mustCall(t, 200, "GET", base+"/api/v1/invitations?session="+session, staff, nil, &listed)
		n := 0
		for _, inv := range listed.Invitations {
			if inv.Mail["invitation"].State == "sent" {
				n++
			}
		}
		return len(listed.Invitations) == len(orgs) && n == len(orgs)
	})

	// upload uploads file through the link in o's invitation, as received.
	upload := func(o org, file, title string) (tok, id string) {
		t.Helper()
		u, err := url.Parse(uploadLink.FindString(invitations[o.email].Text))
		if err != nil {
			t.Fatal(err)
		}
		tok = u.Query().Get("token")
		endpoint := u.Scheme + "://" + u.Host + "/files/"
		if endpoint != base+"/files/" {
			t.Fatalf("the link %s is not on the service's public URL %s", u.Redacted(), base)
		}
		opts := map[string]any{"endpoint": endpoint, "token": tok, "file": file,
			"metadata": metadata(title), "urlStorage": filepath.Join(t.TempDir(), "urls.json")}
		if !strings.HasSuffix(file, ".pdf") {
			_, up := tusUpload(t, script, opts)
			return tok, statementOf(up)
		}
		// Not a video: refused while it is sent, with the reason.
		if msg := tusRefused(t, script, opts); !strings.Contains(msg, "422") || !strings.Contains(msg, "ERR_FILE_REFUSED") {
			t.Fatalf("the PDF's upload ended with %q; want a 422 ERR_FILE_REFUSED", msg)
		}
		for _, s := range mine(t, base, tok) {
			id = s.ID
		}
		return tok, id
	}
	dir := t.TempDir()
	clip := testenv.Clip(t, dir, "clip.mp4", "640x360", 2, true)
	pdf := filepath.Join(dir, "statement.pdf")
	if err := os.WriteFile(pdf, append([]byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), bytes.Repeat([]byte("0 0 0 rg\n"), 2000)...), 0o644); err != nil {
		t.Fatal(err)
	}

	good, bad, rejected := orgs[1], orgs[3], orgs[5] // fr, en, es
	goodTok, goodID := upload(good, clip, "Déclaration de "+good.name)
	badTok, badID := upload(bad, pdf, "Statement of "+bad.name)
	rejTok, rejID := upload(rejected, clip, "Declaración de "+rejected.name)

	msg := waitOne(good, "mail.received.subject", time.Minute)
	if !strings.Contains(msg.Subject, "Déclaration de "+good.name) {
		t.Errorf("received: subject %q, want the title", msg.Subject)
	}
	waitOne(rejected, "mail.received.subject", time.Minute)

	// The PDF fails with the reason the page shows, in the mail.
	var reason string
	eventually(t, 90*time.Second, "the PDF failing", func() bool {
		for _, s := range mine(t, base, badTok) {
			if s.ID == badID && s.Status == "failed" {
				reason = s.Reason
				return true
			}
		}
		return false
	})
	msg = waitOne(bad, "mail.failed.subject", time.Minute)
	if reason == "" || !strings.Contains(msg.Text, reason) || !strings.Contains(msg.Text, fixed(phrases["en"]["mail.failed.action"])) {
		t.Errorf("failed: the mail does not carry the reason %q and what to do:\n%s", reason, msg.Text)
	}
	t.Logf("failure mail: %s: %s", msg.Subject, reason)

	// A rejection with the staff's reason, an approval with the watch page.
	waitMine(t, base, goodTok, goodID, []string{goodID}, 90*time.Second)
	waitMine(t, base, rejTok, rejID, []string{rejID}, 90*time.Second)
	mustCall(t, 200, "POST", base+"/api/v1/statements/"+rejID+"/reject", staff, map[string]string{"reason": "the sound is inaudible after the first minute"}, nil)
	mustCall(t, 200, "POST", base+"/api/v1/statements/"+goodID+"/approve", staff, nil, nil)
	msg = waitOne(rejected, "mail.rejected.subject", time.Minute)
	if !strings.Contains(msg.Text, "the sound is inaudible after the first minute") {
		t.Errorf("rejected: the mail does not carry the staff's reason:\n%s", msg.Text)
	}
	msg = waitOne(good, "mail.approved.subject", time.Minute)
	if !strings.Contains(msg.Text, base+"/watch/") {
		t.Errorf("approved: no watch link in\n%s", msg.Text)
	}

	// Reminders: each process sweeps when it starts (then every five
	// minutes). Two more sweeps, from two workers one after the other: the
	// first queues one 7-day reminder for each invitation without an
	// upload, the second nothing.
	uploaded := []org{good, bad, rejected}
	sweep := func() {
		t.Helper()
		w := c.start(t, "worker", "worker", mailEnv...)
		time.Sleep(2 * time.Second)
		w.stop(t, 40*time.Second)
	}
	sweep()
	for _, o := range orgs {
		if slices.Contains(uploaded, o) {
			continue
		}
		msg := waitOne(o, "mail.reminder.subject", time.Minute)
		if !strings.Contains(msg.Text, fixed(phrases[o.lang]["mail.why_reminder"])) {
			t.Errorf("%s: the reminder does not say why in its language:\n%s", o.email, msg.Text)
		}
	}
	sweep()
	time.Sleep(5 * time.Second)
	for _, o := range orgs {
		want := 1
		if slices.Contains(uploaded, o) {
			want = 0
		}
		if got := messages(o, "mail.reminder.subject"); len(got) != want {
			t.Errorf("%s: %d reminders after two sweeps, want %d", o.email, len(got), want)
		}
		if got := messages(o, "mail.invitation.subject"); len(got) != 1 {
			t.Errorf("%s: %d invitations, want 1", o.email, len(got))
		}
	}
}

// BenchmarkInvitationImport imports 1,000 invitations (ten countries × 100
// organisations) through the API of the binary (all roles) with a mailpit
// of its own as SMTP server, and reports the import's rows per second, the
// messages per second until mailpit holds all 1,000 (from the import's
// start), and the p99 latency of GET /api/v1/statements sampled every
// 50 ms meanwhile. It gives up after five minutes.
func BenchmarkInvitationImport(b *testing.B) {
	c := newCluster(b)
	mp := testenv.StartMailpit(b)
	session := "bench" + testenv.RandomHex(3)
	countries := []string{"AD", "BG", "CL", "DK", "EE", "FI", "GH", "HU", "IS", "JM"}
	api := c.start(b, "all", "all", "SMTP_URL=smtp://"+mp.SMTPAddr, "MAIL_FROM=Pre-session <presession@example.org>",
		"PRESESSION_SESSIONS="+mailSessions(b, session, 60*24*time.Hour, countries...))
	base := "http://" + api.addr
	staff := envValue(c.env, "PRESESSION_STAFF_TOKEN")
	const rows = 1000
	langs := []string{"en", "fr", "es"}

	for n := range b.N {
		b.StopTimer()
		var file strings.Builder
		file.WriteString("session,country,organisation,email,language,until\n")
		for i := range rows {
			fmt.Fprintf(&file, "%s,%s,Organisation %d-%d,org%d-%d@example.org,%s,\n", session, countries[i%len(countries)], n, i, n, i, langs[i%3])
		}
		want := (n + 1) * rows
		// GET /api/v1/statements, every 50 ms until stop is closed.
		var (
			mu    sync.Mutex
			lat   []time.Duration
			fails int
		)
		stop, sampled := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(sampled)
			client := &http.Client{Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				req, _ := http.NewRequestWithContext(context.Background(), "GET", base+"/api/v1/statements", nil)
				req.Header.Set("Authorization", "Bearer "+staff)
				start := time.Now()
				resp, err := client.Do(req)
				d := time.Since(start)
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				if ok {
					lat = append(lat, d)
				} else {
					fails++
				}
				mu.Unlock()
			}
		}()

		b.StartTimer()
		start := time.Now()
		importCSV(b, base, staff, file.String(), 201)
		imported := time.Since(start)
		deadline := start.Add(5 * time.Minute)
		for mailTotal(b, mp.API) < want {
			if time.Now().After(deadline) {
				close(stop)
				b.Fatalf("mailpit holds %d of %d messages after 5 minutes", mailTotal(b, mp.API), want)
			}
			time.Sleep(100 * time.Millisecond)
		}
		sent := time.Since(start)
		b.StopTimer()
		close(stop)
		<-sampled

		slices.Sort(lat)
		if len(lat) == 0 || fails > 0 {
			b.Fatalf("GET /api/v1/statements: %d answers, %d failures", len(lat), fails)
		}
		p99 := lat[min(len(lat)-1, len(lat)*99/100)]
		b.ReportMetric(rows/imported.Seconds(), "import-rows/s")
		b.ReportMetric(rows/sent.Seconds(), "mails/s")
		b.ReportMetric(float64(p99.Microseconds())/1000, "statements-p99-ms")
		b.ReportMetric(float64(len(lat)), "statements-samples")
		b.Logf("import of %d rows %v, all %d messages in mailpit after %v; GET /api/v1/statements: %d samples, median %v, p99 %v, max %v",
			rows, imported.Round(time.Millisecond), rows, sent.Round(time.Millisecond), len(lat), lat[len(lat)/2], p99, lat[len(lat)-1])
	}
}

// tusRefused runs an upload that the service refuses and returns
// tus-js-client's error message.
func tusRefused(t *testing.T, script string, opts map[string]any) string {
	t.Helper()
	js, _ := json.Marshal(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "node", script, string(js)).Output()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var ev tusEvent
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event == "error" {
			return ev.Message
		}
	}
	t.Fatalf("tus-js-client did not fail: %s", out)
	return ""
}
