// Package mail delivers the service's messages: through an SMTP server
// (go-mail: STARTTLS when the server offers it, or implicit TLS, and
// proper MIME with a plain-text and an HTML alternative), or, without a
// server, into an outbox directory as .eml files a mail client opens.
//
// A Sender tells a refusal that will never succeed (the server answered
// 5xx) from one worth retrying (the server is down, or answered 4xx): the
// first is a *PermanentError.
package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one message to its recipients.
type Message struct {
	// ID makes the Message-ID header (<ID@domain of From>); the same
	// message sent again has the same ID, and the outbox its file name.
	ID      string
	To      []string
	Subject string
	Text    string // the plain-text body
	HTML    string // the HTML alternative; "" for text only
	Date    time.Time
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// PermanentError is a refusal the server means for good (a 5xx answer):
// sending the same message again would be refused again.
type PermanentError struct {
	Code   int    // the SMTP reply code, 500–599
	Answer string // what the server said
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("mail: refused for good: %s", e.Answer)
}

// Permanent reports whether err is a permanent refusal, and returns it.
func Permanent(err error) (*PermanentError, bool) {
	var p *PermanentError
	ok := errors.As(err, &p)
	return p, ok
}

// build makes the go-mail message of m from from.
func build(from string, m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", from, err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("mail: to %v: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	if m.ID != "" {
		msg.SetMessageIDWithValue(safeID(m.ID) + "@" + domain(msg))
	}
	if m.Date.IsZero() {
		msg.SetDate()
	} else {
		msg.SetDateWithValue(m.Date)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// domain is the domain of the message's sender, for its Message-ID.
func domain(msg *gomail.Msg) string {
	from := msg.GetFrom()
	if len(from) == 0 {
		return "localhost"
	}
	a := from[0].Address
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] == '@' {
			return a[i+1:]
		}
	}
	return "localhost"
}
