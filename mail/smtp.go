package mail

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig says where and as whom to send.
type SMTPConfig struct {
	Host        string
	Port        int
	Username    string // "" = no authentication
	Password    string
	ImplicitTLS bool   // TLS from the first byte (smtps://); else STARTTLS when the server offers it
	From        string // the From address
	Timeout     time.Duration
}

// SMTP sends through a mail server, one connection per message.
type SMTP struct{ cfg SMTPConfig }

// NewSMTP returns a sender through the server of cfg.
func NewSMTP(cfg SMTPConfig) *SMTP {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &SMTP{cfg: cfg}
}

func (s *SMTP) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout)}
	if s.cfg.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	return gomail.NewClient(s.cfg.Host, opts...)
}

// Send delivers m. A 5xx answer is a *PermanentError; anything else
// (unreachable, timed out, 4xx) is worth retrying.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := build(s.cfg.From, m)
	if err != nil {
		return &PermanentError{Answer: err.Error()}
	}
	c, err := s.client()
	if err != nil {
		return fmt.Errorf("mail: client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		if code := replyCode(err); code >= 500 && code < 600 {
			return &PermanentError{Code: code, Answer: err.Error()}
		}
		return fmt.Errorf("mail: send to %v: %w", m.To, err)
	}
	return nil
}

// replyCode is the server's reply code in err, 0 when the server did not
// answer one (a network error).
func replyCode(err error) int {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return 0
}
