package notify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/notify"
)

// deadline is the built-in session's deadline for Andorra.
var deadline = time.Date(2020, 1, 31, 23, 59, 59, 0, time.UTC)

func invitation(lang, to string) *presession.Invitation {
	return &presession.Invitation{ID: "inv" + lang + testenv.RandomHex(4), Session: "upr36", Country: "AD",
		Organisation: "Org " + lang, Emails: []string{to}, Language: lang, CreatedAt: deadline.Add(-30 * 24 * time.Hour)}
}

// told returns the occurrence of st moved into status, the n-th transition.
func told(st presession.Statement, status presession.Status, n int, reason string, msg ...presession.Message) presession.Occurrence {
	st.Status, st.Reason = status, reason
	if len(msg) > 0 {
		st.ReasonKey, st.ReasonArgs = msg[0].Key, msg[0].Args
	}
	st.History = make([]presession.Event, n)
	o, ok := presession.StatementOccurrence(&st)
	if !ok {
		panic("not told: " + status)
	}
	return o
}

// TestEveryMessageOnceInItsLanguage: each kind of message reaches a real
// SMTP server once, in the recipient's language, as text and HTML with
// absolute links and the reason it was sent, though every occurrence is
// told twice and every sweep runs twice; reminders go out once each as
// the clock passes 7 days and 48 hours before the deadline, and the staff
// digest once.
func TestEveryMessageOnceInItsLanguage(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	bundle, _ := i18n.Load()
	tag := testenv.RandomHex(5)
	addr := func(who string) string { return who + "-" + tag + "@example.org" }
	langs := []string{"en", "fr", "es"}
	var all []*presession.Invitation
	for _, l := range langs {
		all = append(all, invitation(l, addr(l)))
	}
	late := invitation("fr", addr("late"))
	invs := newInvitations(append(all, late)...)
	sts := &statements{}
	waiting := &presession.Statement{ID: "st-wait-" + tag, Session: "upr36", Country: "AD", Organisation: "Someone",
		InvitationID: "inv-other", Title: "Awaiting", Status: presession.StatusReady, UpdatedAt: deadline.Add(-20 * 24 * time.Hour)}
	sts.add(waiting)
	f := start(t, smtpSender(t, mp.SMTPAddr), invs, sts, deadline.Add(-10*24*time.Hour), digestTo(addr("staff")))
	ctx := context.Background()

	tooLong := presession.Message{Key: "reject.too_long", Args: []string{"12:00", "10:00"}}
	for _, inv := range all {
		st := presession.Statement{ID: "st-" + inv.ID, Session: inv.Session, Country: inv.Country, Organisation: inv.Organisation,
			InvitationID: inv.ID, Title: "Statement " + inv.Language, Size: 3 << 19}
		sts.add(&presession.Statement{ID: st.ID, InvitationID: inv.ID, Status: presession.StatusApproved})
		for _, o := range []presession.Occurrence{
			{ID: "inv_" + inv.ID, Type: presession.InvitationCreated, Session: inv.Session, Country: inv.Country, Invitation: inv},
			told(st, presession.StatusUploaded, 1, ""),
			told(st, presession.StatusReady, 2, ""), // not mailed to the organisation
			told(st, presession.StatusFailed, 3, "the file is 12:00 long; statements may be at most 10:00", tooLong),
			told(st, presession.StatusRejected, 4, "The sound is inaudible after 0:40."),
			told(st, presession.StatusApproved, 5, ""),
		} {
			f.svc.Occurred(ctx, o)
			f.svc.Occurred(ctx, o) // a retried transition tells it again
		}
	}
	for _, at := range []time.Duration{10 * 24 * time.Hour, 6 * 24 * time.Hour, 6 * 24 * time.Hour, 47 * time.Hour, 47 * time.Hour, 0} {
		f.clock.Set(deadline.Add(-at))
		if err := f.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}

	want := map[string]int{addr("en"): 5, addr("fr"): 5, addr("es"): 5, addr("late"): 2, addr("staff"): 1}
	counts := func() string {
		var b strings.Builder
		for a := range want {
			fmt.Fprintf(&b, "%s=%d ", a, len(mp.Messages(t, a)))
		}
		return b.String()
	}
	eventually(t, 60*time.Second, "not every message arrived", func() bool {
		for a, n := range want {
			if len(mp.Messages(t, a)) < n {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * time.Second) // a duplicate would arrive by now
	for a, n := range want {
		if got := len(mp.Messages(t, a)); got != n {
			t.Errorf("%s received %d messages, want %d (%s)", a, got, n, counts())
		}
	}

	for _, inv := range append(all, late) {
		lang := inv.Language
		for _, s := range mp.Messages(t, inv.Emails[0]) {
			m := mp.Message(t, s.ID)
			if m.Text == "" || m.HTML == "" || !strings.Contains(m.HTML, `lang="`+lang+`"`) {
				t.Errorf("%s %q: want text and HTML in %s", inv.Emails[0], m.Subject, lang)
			}
			if !strings.Contains(m.Text, bundle.T(lang, "mail.greeting", inv.Organisation)) || !strings.Contains(m.Text, inv.Organisation+",") {
				t.Errorf("%s %q: no greeting or reason for receiving it in %s:\n%s", inv.Emails[0], m.Subject, lang, m.Text)
			}
			if strings.Contains(m.Text, "%!") || strings.Contains(m.HTML, "%!") {
				t.Errorf("%q: a misformatted message:\n%s", m.Subject, m.Text)
			}
			switch {
			case strings.Contains(m.Subject, bundle.T(lang, "mail.invitation.subject", "Andorra")):
				for _, s := range []string{publicURL + "/upload?token=tok-" + inv.ID, "2020-01-31 23:59 UTC", i18n.Date(lang, deadline)} {
					if !strings.Contains(m.Text, s) {
						t.Errorf("invitation in %s lacks %q:\n%s", lang, s, m.Text)
					}
				}
				if !strings.Contains(m.HTML, `href="`+publicURL+"/upload?token=tok-"+inv.ID+`"`) {
					t.Errorf("invitation in %s: no absolute link in the HTML:\n%s", lang, m.HTML)
				}
			case strings.Contains(m.Subject, bundle.T(lang, "mail.received.subject", "Statement "+lang)):
				if !strings.Contains(m.Text, i18n.Bytes(lang, 3<<19)) {
					t.Errorf("received in %s: no size:\n%s", lang, m.Text)
				}
			case strings.Contains(m.Subject, bundle.T(lang, "mail.failed.subject", "Statement "+lang)):
				if r := bundle.T(lang, "reject.too_long", "12:00", "10:00"); !strings.Contains(m.Text, r) {
					t.Errorf("failed in %s lacks the page's reason %q:\n%s", lang, r, m.Text)
				}
			case strings.Contains(m.Subject, bundle.T(lang, "mail.rejected.subject", "Statement "+lang)):
				if !strings.Contains(m.Text, "The sound is inaudible after 0:40.") {
					t.Errorf("rejected in %s lacks staff's reason:\n%s", lang, m.Text)
				}
			case strings.Contains(m.Subject, bundle.T(lang, "mail.approved.subject", "Statement "+lang)):
				if !strings.Contains(m.Text, publicURL+"/watch/upr36/AD") {
					t.Errorf("approved in %s lacks the watch link:\n%s", lang, m.Text)
				}
			case strings.Contains(m.Subject, bundle.T(lang, "mail.reminder.subject", "Andorra", i18n.Date(lang, deadline))):
				if inv != late || !strings.Contains(m.Text, bundle.T(lang, "mail.why_reminder", inv.Organisation, "Andorra")) {
					t.Errorf("reminder to %s:\n%s", inv.Emails[0], m.Text)
				}
			default:
				t.Errorf("%s: unexpected message %q", inv.Emails[0], m.Subject)
			}
		}
	}
	for _, k := range []string{notify.KindReminder7d, notify.KindReminder48h} {
		if d := invs.delivery(late.ID, k); d.State != presession.DeliverySent {
			t.Errorf("%s recorded %+v, want sent", k, d)
		}
	}
	if d := invs.delivery(all[1].ID, notify.KindInvitation); d.State != presession.DeliverySent || d.Attempt != 1 {
		t.Errorf("invitation recorded %+v, want sent at the first attempt", d)
	}
	staff := mp.Messages(t, addr("staff"))
	if len(staff) == 1 {
		m := mp.Message(t, staff[0].ID)
		if !strings.Contains(m.Text, "Awaiting") || !strings.Contains(m.Text, publicURL+"/staff") || !strings.Contains(m.Text, "PRESESSION_STAFF_DIGEST_TO") {
			t.Errorf("digest:\n%s", m.Text)
		}
	}
}

// TestNoDigestWhenNothingAwaits: staff get no digest when no statement
// awaits review.
func TestNoDigestWhenNothingAwaits(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	to := "staff-" + testenv.RandomHex(5) + "@example.org"
	sender := &countingSender{Sender: smtpSender(t, mp.SMTPAddr)}
	f := start(t, sender, newInvitations(), &statements{}, deadline, digestTo(to))
	if err := f.svc.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n := sender.total(); n != 0 || len(mp.Messages(t, to)) != 0 {
		t.Fatalf("%d messages sent with nothing awaiting review", n)
	}
}

// TestDigestAtMostEvery: while a statement awaits review, sweeps send one
// digest per DigestEvery, not one per sweep.
func TestDigestAtMostEvery(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	to := "staff-" + testenv.RandomHex(5) + "@example.org"
	sts := &statements{}
	sts.add(&presession.Statement{ID: "st1", Session: "upr36", Country: "AD", Title: "Awaiting", Status: presession.StatusReady})
	f := start(t, smtpSender(t, mp.SMTPAddr), newInvitations(), sts, deadline, digestTo(to),
		func(c *notify.Config) { c.DigestEvery = 2 * time.Second })
	ctx := context.Background()
	sweep := func() {
		t.Helper()
		if err := f.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sweep()
	eventually(t, 10*time.Second, "no digest", func() bool { return len(mp.Messages(t, to)) == 1 })
	sweep()
	sweep()
	time.Sleep(time.Second)
	if n := len(mp.Messages(t, to)); n != 1 {
		t.Fatalf("%d digests within DigestEvery, want 1", n)
	}
	// Once DigestEvery has passed (and Asynq has let the sent task go),
	// the next sweep sends the next digest.
	eventually(t, 30*time.Second, "no second digest after DigestEvery", func() bool {
		sweep()
		time.Sleep(500 * time.Millisecond)
		return len(mp.Messages(t, to)) == 2
	})
}

// TestServerDownLosesNothing: a burst while the SMTP server is stopped for
// 30 s is delivered, each message once, when it is back; the hook returns
// at once meanwhile.
func TestServerDownLosesNothing(t *testing.T) {
	mp := testenv.StartMailpit(t)
	var all []*presession.Invitation
	for i := range 12 {
		all = append(all, invitation(i18n.Languages[i%3], fmt.Sprintf("org%d@example.org", i)))
	}
	invs := newInvitations(all...)
	sender := &countingSender{Sender: smtpSender(t, mp.SMTPAddr)}
	f := start(t, sender, invs, &statements{}, deadline.Add(-20*24*time.Hour))
	mp.Stop()
	began := time.Now()
	for _, inv := range all {
		f.svc.Occurred(context.Background(), presession.Occurrence{ID: "inv_" + inv.ID, Type: presession.InvitationCreated, Invitation: inv})
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("telling 12 occurrences took %s with the server down", took)
	}
	eventually(t, 20*time.Second, "no attempt failed while the server was down", func() bool {
		return invs.delivery(all[0].ID, notify.KindInvitation).Attempt >= 2
	})
	time.Sleep(30*time.Second - time.Since(began))
	mp.Start()
	eventually(t, 30*time.Second, "not every message arrived after the server came back", func() bool {
		for _, inv := range all {
			if len(mp.Messages(t, inv.Emails[0])) == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second)
	for _, inv := range all {
		if n := len(mp.Messages(t, inv.Emails[0])); n != 1 {
			t.Errorf("%s received %d messages, want 1", inv.Emails[0], n)
		}
		if d := invs.delivery(inv.ID, notify.KindInvitation); d.State != presession.DeliverySent || d.Attempt < 2 {
			t.Errorf("%s: recorded %+v, want sent after retries", inv.ID, d)
		}
	}
}

// TestPermanentRefusalRecordedNotRetried: a 5xx answer is recorded on the
// invitation with the server's answer, and the message is not tried again.
func TestPermanentRefusalRecordedNotRetried(t *testing.T) {
	mp := testenv.StartMailpit(t, "--smtp-allowed-recipients", `@allowed\.example$`)
	inv := invitation("fr", "contact@refused.example")
	ok := invitation("fr", "contact@allowed.example")
	invs := newInvitations(inv, ok)
	sender := &countingSender{Sender: smtpSender(t, mp.SMTPAddr)}
	f := start(t, sender, invs, &statements{}, deadline.Add(-20*24*time.Hour))
	for _, i := range []*presession.Invitation{inv, ok} {
		f.svc.Occurred(context.Background(), presession.Occurrence{ID: "inv_" + i.ID, Type: presession.InvitationCreated, Invitation: i})
	}
	eventually(t, 20*time.Second, "the refusal was not recorded", func() bool {
		return invs.delivery(inv.ID, notify.KindInvitation).State == presession.DeliveryFailed
	})
	d := invs.delivery(inv.ID, notify.KindInvitation)
	if !strings.Contains(d.Detail, "550") || !strings.Contains(d.Detail, "contact@refused.example") || d.Attempt != 1 {
		t.Errorf("recorded %+v, want the server's 550 answer at the first attempt", d)
	}
	time.Sleep(3 * time.Second) // retries come every 300 ms here
	if n := sender.total(); n != 2 {
		t.Errorf("%d send attempts, want 2 (one refused, one delivered)", n)
	}
	if d := invs.delivery(ok.ID, notify.KindInvitation); d.State != presession.DeliverySent {
		t.Errorf("the allowed recipient: %+v", d)
	}
}

// TestTemporaryRefusalRetried: a 4xx answer is retried, recorded as still
// queued with the server's answer, until the server accepts the message,
// which then arrives once.
func TestTemporaryRefusalRetried(t *testing.T) {
	mp := testenv.StartMailpit(t, "--enable-chaos")
	mp.RefuseRecipients(t, 451, 100)
	inv := invitation("es", "contact@busy.example")
	invs := newInvitations(inv)
	f := start(t, smtpSender(t, mp.SMTPAddr), invs, &statements{}, deadline.Add(-20*24*time.Hour))
	f.svc.Occurred(context.Background(), presession.Occurrence{ID: "inv_" + inv.ID, Type: presession.InvitationCreated, Invitation: inv})
	eventually(t, 20*time.Second, "the 4xx was not retried", func() bool {
		return invs.delivery(inv.ID, notify.KindInvitation).Attempt >= 3
	})
	if d := invs.delivery(inv.ID, notify.KindInvitation); d.State != presession.DeliveryQueued || !strings.Contains(d.Detail, "451") {
		t.Errorf("during the refusals: recorded %+v, want queued with the 451 answer", d)
	}
	mp.RefuseRecipients(t, 451, 0)
	eventually(t, 20*time.Second, "the message did not arrive once accepted", func() bool {
		return invs.delivery(inv.ID, notify.KindInvitation).State == presession.DeliverySent
	})
	time.Sleep(time.Second)
	if n := len(mp.Messages(t, "contact@busy.example")); n != 1 {
		t.Errorf("%d messages arrived, want 1", n)
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 4: 80 * time.Second, 30: 6 * time.Hour} {
		if got := notify.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, want)
		}
	}
}
