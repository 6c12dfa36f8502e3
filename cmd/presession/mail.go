package main

import (
	"log/slog"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/mail"
	"github.com/uprinfo/presession/notify"
	"github.com/uprinfo/presession/token"
)

// mailSender is SMTP_URL's server, or without it the outbox in the data
// dir; it logs which.
func mailSender(cfg config.Config, log *slog.Logger) mail.Sender {
	if cfg.SMTP.Host == "" {
		log.Info("mail is written to the outbox, not sent: set SMTP_URL and MAIL_FROM (see README) to send it",
			"outbox", cfg.OutboxDir())
		return &mail.Outbox{Dir: cfg.OutboxDir(), From: cfg.MailFrom}
	}
	log.Info("mail is sent through SMTP", "smtp", cfg.SMTP, "from", cfg.MailFrom)
	return mail.NewSMTP(mail.SMTPConfig{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
		Password: cfg.SMTP.Password.Reveal(), ImplicitTLS: cfg.SMTP.ImplicitTLS, From: cfg.MailFrom})
}

// newNotify makes the mail service of the process: every process queues
// mail from the occurrences it causes; worker processes send it (Run).
func (p *parts) newNotify() error {
	cfg := p.cfg
	issuer := &token.Issuer{Signer: p.signer, Sessions: p.sessions, PublicURL: cfg.PublicURL}
	n, err := notify.New(notify.Config{PublicURL: cfg.PublicURL, StaffDigestTo: cfg.StaffDigestTo,
		ShutdownTimeout: cfg.ShutdownTimeout}, p.queueOpt, notify.Deps{
		Sender:      mailSender(cfg, p.log),
		Invitations: p.cat,
		Statements:  p.cat,
		Sessions:    p.sessions,
		Bundle:      p.site.Bundle,
		Reasons:     p.site,
		UploadURL: func(inv *presession.Invitation) (string, error) {
			link, _ := issuer.Link(inv)
			return link, nil
		},
		WatchURL: func(session, country string) (string, error) {
			link, _, err := issuer.ViewerLink(session, country, watchLinkValidity)
			return link, err
		},
		// Slot: the programme's slot of an approved statement, once
		// issue 15 gives statements one.
		Log: p.log.With("part", "mail"),
	})
	if err != nil {
		return err
	}
	p.notify = n
	p.onClose(func() { n.Close() })
	return nil
}

// watchLinkValidity is how long the watch link in an approval works.
const watchLinkValidity = 90 * 24 * time.Hour
