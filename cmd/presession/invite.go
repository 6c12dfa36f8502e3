package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/config"
	invites "github.com/uprinfo/presession/invite"
	"github.com/uprinfo/presession/notify"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/webhook"
)

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

const inviteUsage = `invite needs --session S --country CC --org "NAME" [--until 2026-12-31] [--email ADDR]... [--lang en|fr|es], or --csv FILE`

// runInvite records one invitation (the flags) or those of a CSV file
// (--csv) in the catalog and prints the upload links: one link for one
// invitation; for a file, a line per row (created or existing, country,
// organisation, link) and a summary on stderr. A file that cannot be
// used creates nothing, names every problem on stderr and exits 2.
func runInvite(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("invite", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	session := fs.String("session", "", "session id, e.g. upr36")
	country := fs.String("country", "", "ISO 3166-1 alpha-2 code of the country under review")
	org := fs.String("org", "", "name of the organisation")
	until := fs.String("until", "", "extension past the country's deadline (YYYY-MM-DD, end of day UTC)")
	var emails listFlag
	fs.Var(&emails, "email", "the organisation's contact address (repeat, or separate with commas)")
	lang := fs.String("lang", "", "language of the organisation's mail: en, fr or es (default: the session's first)")
	file := fs.String("csv", "", "a CSV file of invitations (session,country,organisation,email,language,until)")
	if err := fs.Parse(args); err != nil {
		return usageError{"invite: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{inviteUsage}
	}
	if *file != "" {
		if *session != "" || *country != "" || *org != "" || *until != "" || len(emails) > 0 || *lang != "" {
			return usageError{"invite: --csv takes no other flag; the file has a column for each"}
		}
		return runInviteCSV(ctx, cfg, *file, stdout, stderr)
	}
	if *session == "" || *country == "" || *org == "" {
		return usageError{inviteUsage}
	}
	var u time.Time
	if *until != "" {
		var err error
		if u, err = token.EndOfDay(*until); err != nil {
			return usageError{"invite: --until " + presession.ErrorMessage(err)}
		}
	}
	is, err := issuer(&cfg)
	if err != nil {
		return err
	}
	req := invites.Request{Session: *session, Country: *country, Organisation: *org, Emails: emails, Language: *lang, Until: u, By: presession.ActorService}
	// Check everything before touching the catalog.
	if _, _, err := is.Invite(req.Session, req.Country, req.Organisation, req.Until); err != nil {
		return err
	}
	if _, err := invites.Emails(req.Emails); err != nil {
		return usageError{"invite: --email: " + presession.ErrorMessage(err)}
	}
	if _, err := invites.Language(nil, req.Language); err != nil {
		return usageError{"invite: --lang: " + presession.ErrorMessage(err)}
	}
	cat, done, err := openCommandCatalog(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer done()
	iss, err := (&invites.Inviter{Issuer: is, Catalog: cat}).Invite(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, iss.UploadURL)
	return nil
}

func runInviteCSV(ctx context.Context, cfg config.Config, file string, stdout, stderr io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return usageError{"invite: --csv: " + err.Error()}
	}
	is, err := issuer(&cfg)
	if err != nil {
		return err
	}
	iv := &invites.Inviter{Issuer: is}
	rows, err := iv.ParseCSV(data)
	var fe *invites.FileError
	if errors.As(err, &fe) {
		var b strings.Builder
		fmt.Fprintf(&b, "invite: %s: %s", file, presession.ErrorMessage(err))
		for _, p := range fe.Problems {
			if p.Line > 0 {
				fmt.Fprintf(&b, "\n  %s", p)
			}
		}
		return usageError{b.String()}
	}
	if err != nil {
		return err
	}
	cat, done, err := openCommandCatalog(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer done()
	iv.Catalog = cat
	res, err := iv.Import(ctx, rows, presession.ActorService)
	if err != nil {
		return err
	}
	for _, iss := range res.Invitations {
		state := "existing"
		if iss.Created {
			state = "created"
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", state, iss.Invitation.Country, iss.Invitation.Organisation, iss.UploadURL)
	}
	fmt.Fprintf(stderr, "presession: %s: %d invitations created, %d existing\n", file, res.Created, res.Existing)
	return nil
}

// openCommandCatalog opens the catalog for a command that records in it:
// on REDIS_URL and storage as configured, or, on the embedded default, on
// a throwaway in-process Redis over the storage directory, so the record
// lands in storage, where a running embedded service finds it at its next
// start (and a repeated import finds it at once). On REDIS_URL what the
// command records is told as the service's own changes are: its mail and
// webhook deliveries are queued for the workers. done releases it.
func openCommandCatalog(ctx context.Context, cfg config.Config, stderr io.Writer) (cat *catalog.Catalog, done func(), err error) {
	b, err := openCommandBackends(ctx, cfg)
	if err != nil {
		return nil, func() {}, err
	}
	opts := []catalog.Option{catalog.WithPrefix(keyPrefix)}
	if !cfg.Embedded() {
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		mail, err := notify.New(notify.Config{}, queueOpt(b.ropts), notify.Deps{Log: log})
		if err != nil {
			b.close()
			return nil, func() {}, err
		}
		hooks := webhook.NewClient(queueOpt(b.ropts), webhook.NewRegistry(b.rdb, b.store, keyPrefix), log)
		b.onClose(func() { mail.Close() })
		b.onClose(func() { hooks.Close() })
		opts = append(opts, catalog.WithOccurrenceHook(func(ctx context.Context, o presession.Occurrence) {
			hooks.Occurred(ctx, o)
			mail.Occurred(ctx, o)
		}))
	}
	return catalog.New(b.rdb, catalog.StorageBlobs(b.store), opts...), b.close, nil
}
