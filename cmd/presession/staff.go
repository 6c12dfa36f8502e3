package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/mail"
	"github.com/uprinfo/presession/staff"
)

const staffUsage = `staff needs a subcommand:
  presession staff add --email E --name N --role admin|reviewer|observer [--lang en|fr|es]
  presession staff list
  presession staff disable --email E
  presession staff reset --email E [--lang en|fr|es]`

// runStaff manages the staff accounts: add (prints the one-time
// set-password link and, where SMTP_URL is set, mails it), list, disable
// and reset (prints, and mails, a new link). What it changes is recorded
// as done by the service.
func runStaff(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{staffUsage}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("staff "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "the member's e-mail address")
	name := fs.String("name", "", "the member's name")
	role := fs.String("role", "", "admin, reviewer or observer")
	lang := fs.String("lang", "en", "the language of the mail with the link: en, fr or es")
	if err := fs.Parse(args); err != nil {
		return usageError{"staff " + sub + ": " + err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{staffUsage}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	allowed := map[string][]string{"add": {"email", "name", "role", "lang"}, "list": nil, "disable": {"email"}, "reset": {"email", "lang"}}
	flags, ok := allowed[sub]
	if !ok {
		return usageError{fmt.Sprintf("unknown staff subcommand %q\n\n%s", sub, staffUsage)}
	}
	for f := range given {
		if !contains(flags, f) {
			return usageError{fmt.Sprintf("staff %s takes no --%s", sub, f)}
		}
	}
	switch {
	case sub != "list" && *email == "":
		return usageError{"staff " + sub + " needs --email"}
	case sub == "add" && (*name == "" || *role == ""):
		return usageError{"staff add needs --email, --name and --role"}
	case !contains(i18n.Languages, *lang):
		return usageError{fmt.Sprintf("staff %s: --lang %q: the languages are en, fr and es", sub, *lang)}
	}
	r := presession.Role("")
	if sub == "add" {
		var err error
		if r, err = presession.ParseRole(*role); err != nil {
			return usageError{"staff add: --role: " + presession.ErrorMessage(err)}
		}
	}
	dir, done, err := openCommandDirectory(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	if cfg.Embedded() && sub != "list" {
		defer fmt.Fprintln(stderr, "presession: on the embedded default a running service sees this change after its next start; change accounts on its dashboard to have them at once")
	}
	by := presession.ActorService
	switch sub {
	case "list":
		return listStaff(ctx, dir, stdout)
	case "add":
		m, link, err := dir.Add(ctx, *email, *name, r, by)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, link)
		return mailLink(ctx, cfg, m, link, *lang, stderr)
	}
	m, err := dir.MemberByEmail(ctx, *email)
	if err != nil {
		return err
	}
	if sub == "disable" {
		if _, err := dir.Disable(ctx, m.ID, by); err != nil {
			return err
		}
		if cfg.Embedded() {
			fmt.Fprintf(stderr, "presession: %s (%s) is disabled\n", m.Name, m.Email)
		} else {
			fmt.Fprintf(stderr, "presession: %s (%s) is disabled; their sessions have ended\n", m.Name, m.Email)
		}
		return nil
	}
	m, link, err := dir.Reset(ctx, m.ID, by)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, link)
	return mailLink(ctx, cfg, m, link, *lang, stderr)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// listStaff prints the accounts as a table.
func listStaff(ctx context.Context, dir *staff.Directory, stdout io.Writer) error {
	members, err := dir.Members(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tSTATE\tPASSWORD\tPASSKEYS")
	for _, m := range members {
		state, pw := "active", "no"
		if m.Disabled {
			state = "disabled"
		}
		if m.PasswordHash != "" {
			pw = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Email, m.Name, m.Role, state, pw, strconv.Itoa(len(m.Passkeys)))
	}
	return tw.Flush()
}

// mailLink sends member m their set-password link in lang, where SMTP_URL
// is set; without it the printed link is all.
func mailLink(ctx context.Context, cfg config.Config, m *presession.Member, link, lang string, stderr io.Writer) error {
	if cfg.SMTP.Host == "" {
		fmt.Fprintf(stderr, "presession: no SMTP_URL: give %s the link above yourself\n", m.Email)
		return nil
	}
	b, err := i18n.Load()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := mailSender(cfg, log).Send(ctx, staffLinkMail(b, m, link, lang)); err != nil {
		return fmt.Errorf("the account is recorded and the link printed, but the mail to %s was not sent: %w", m.Email, err)
	}
	fmt.Fprintf(stderr, "presession: the link was mailed to %s\n", m.Email)
	return nil
}

// staffLinkMail is the mail that gives member m the link to set their
// password, in lang: the command line's and the people page's.
func staffLinkMail(b *i18n.Bundle, m *presession.Member, link, lang string) mail.Message {
	hours := int(staff.DefaultSetLinkValidity / time.Hour)
	return mail.Message{ID: "staff-link-" + m.ID + "-" + strconv.Itoa(m.Generation), To: []string{m.Email},
		Subject: b.T(lang, "mail.staff_link.subject"),
		Text:    b.T(lang, "mail.staff_link.body", m.Name, string(m.Role), link, hours)}
}

// openCommandDirectory opens the staff directory for a command: on
// REDIS_URL and storage as configured, or, on the embedded default, on a
// throwaway in-process Redis rebuilt from the storage directory, so that
// what the command records lands in storage, where a running embedded
// service finds it at its next start. done releases it.
func openCommandDirectory(ctx context.Context, cfg config.Config) (*staff.Directory, func(), error) {
	b, err := openCommandBackends(ctx, cfg)
	if err != nil {
		return nil, func() {}, err
	}
	dir := newDirectory(b.rdb, b.store, cfg)
	if _, _, err := dir.Restore(ctx); err != nil {
		b.close()
		return nil, func() {}, err
	}
	return dir, b.close, nil
}
