package notify

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/mail"
)

// Sweep queues what is due at the service's clock: each reminder an
// invitation without an upload has reached (7 days, then 48 hours before
// its deadline; once each), and the staff digest when something awaits
// review. Running it again queues nothing new.
func (s *Service) Sweep(ctx context.Context) error {
	var errs []error
	if err := s.remind(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.queueDigest(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Service) remind(ctx context.Context) error {
	now := s.cfg.Now()
	for i := range s.deps.Sessions.List {
		session := &s.deps.Sessions.List[i]
		for _, c := range session.Countries {
			invs, err := s.deps.Invitations.ListInvitations(ctx, session.ID, c.Code)
			if err != nil {
				return err
			}
			for _, inv := range invs {
				deadline := deadlineOf(session, c, inv)
				kind, due := reminderDue(deadline, now)
				if !due || len(inv.Emails) == 0 {
					continue
				}
				if d, ok := inv.Mail[kind]; ok && d.State != "" {
					continue // queued or told already
				}
				if up, err := s.uploaded(ctx, inv.ID); err != nil || up {
					if err != nil {
						return err
					}
					continue
				}
				p := sendPayload{Event: "remind_" + inv.ID + "_" + strconv.FormatInt(deadline.Unix(), 10), Kind: kind, InvitationID: inv.ID}
				if err := s.queueTo(ctx, inv, p, s.cfg.Retention); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// reminderDue says which reminder an invitation with this deadline is due
// at now: none before 7 days are left or once it has passed, the 48-hour
// one in its last 48 hours (the 7-day one is then skipped), else the 7-day one.
func reminderDue(deadline, now time.Time) (string, bool) {
	left := deadline.Sub(now)
	switch {
	case left <= 0:
		return "", false
	case left <= Reminder48h:
		return KindReminder48h, true
	case left <= Reminder7d:
		return KindReminder7d, true
	}
	return "", false
}

// deadlineOf is an invitation's upload deadline: its extension when later
// than the country's, else the country's.
func deadlineOf(session *presession.Session, c presession.Country, inv *presession.Invitation) time.Time {
	d := session.Deadline(c)
	if inv.Until != nil && inv.Until.After(d) {
		return *inv.Until
	}
	return d
}

// uploaded reports whether the invitation has a statement past uploading.
func (s *Service) uploaded(ctx context.Context, invID string) (bool, error) {
	sts, _, err := s.deps.Statements.List(ctx, presession.Filter{InvitationID: invID})
	if err != nil {
		return false, err
	}
	for _, st := range sts {
		if st.Status != presession.StatusUploading {
			return true, nil
		}
	}
	return false, nil
}

// queueDigest queues the staff digest when a statement awaits review. A
// digest's task ID is the address alone, kept DigestEvery once sent, so
// each address gets at most one digest in that time.
func (s *Service) queueDigest(ctx context.Context) error {
	if len(s.cfg.StaffDigestTo) == 0 {
		return nil
	}
	_, n, err := s.deps.Statements.List(ctx, presession.Filter{Status: presession.StatusReady, Limit: 1})
	if err != nil || n == 0 {
		return err
	}
	for _, to := range s.cfg.StaffDigestTo {
		if err := s.enqueueSend(ctx, sendPayload{Event: "staff", Kind: KindDigest, To: to}, s.cfg.DigestEvery); err != nil {
			return err
		}
	}
	return nil
}

// compose writes the message of p, reading the invitation for its
// recipient's language; ok is false when there is nothing to send any
// more.
func (s *Service) compose(ctx context.Context, p sendPayload) (msg mail.Message, ok bool, err error) {
	id := p.taskID()[len("mail:"):]
	if p.Kind == KindDigest {
		awaiting, _, err := s.deps.Statements.List(ctx, presession.Filter{Status: presession.StatusReady})
		if err != nil || len(awaiting) == 0 {
			return mail.Message{}, false, err
		}
		m, err := s.layouts.render(id, []string{p.To}, digest(s.deps.Bundle, s.deps.Sessions, s.cfg.PublicURL, awaiting))
		return m, err == nil, err
	}
	inv, err := s.deps.Invitations.Invitation(ctx, p.InvitationID)
	if err != nil {
		return mail.Message{}, false, err
	}
	session, c, err := s.deps.Sessions.Lookup(inv.Session, inv.Country)
	if err != nil {
		return mail.Message{}, false, err
	}
	lang := inv.Language
	if !i18n.Supported(lang) {
		lang = i18n.Languages[0]
	}
	l := letter{b: s.deps.Bundle, lang: lang, inv: inv, session: session, country: c, deadline: deadlineOf(session, c, inv)}
	var body content
	st := p.Statement
	if st == nil && p.Kind != KindInvitation && p.Kind != KindReminder7d && p.Kind != KindReminder48h {
		return mail.Message{}, false, nil
	}
	switch p.Kind {
	case KindInvitation, KindFailed, KindRejected, KindReminder7d, KindReminder48h:
		if p.Kind == KindReminder7d || p.Kind == KindReminder48h {
			if up, err := s.uploaded(ctx, inv.ID); err != nil || up {
				return mail.Message{}, false, err
			}
		}
		upload, err := s.deps.UploadURL(inv)
		if err != nil {
			return mail.Message{}, false, err
		}
		switch p.Kind {
		case KindInvitation:
			body = l.invitation(upload)
		case KindFailed:
			reason := st.Reason
			if s.deps.Reasons != nil {
				reason = s.deps.Reasons.Reason(lang, st)
			}
			body = l.failed(st, reason, upload)
		case KindRejected:
			body = l.rejected(st, upload)
		default:
			body = l.reminder(upload)
		}
	case KindReceived:
		body = l.received(st)
	case KindApproved:
		watch, err := s.deps.WatchURL(inv.Session, inv.Country)
		if err != nil {
			return mail.Message{}, false, err
		}
		var slot time.Time
		if s.deps.Slot != nil {
			if t, ok := s.deps.Slot(ctx, st); ok {
				slot = t
			}
		}
		body = l.approved(st, watch, slot)
	default:
		return mail.Message{}, false, nil
	}
	m, err := s.layouts.render(id, []string{p.To}, body)
	return m, err == nil, err
}
