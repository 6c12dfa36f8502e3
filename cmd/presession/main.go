// Command presession runs the Pre-session statements service: the upload
// endpoint, the staff and delegation pages and API, and the processing
// workers. See the README for its commands and configuration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/token"
)

const usage = `presession runs the Pre-session statements service.

Usage:
  presession [all]      API, upload endpoint, pages and workers in one process (default)
  presession serve      API, upload endpoint and pages only
  presession worker     processing workers only
  presession invite --session S --country CC --org "NAME" [--until 2026-12-31]
                    [--email ADDR[,ADDR]]... [--lang en|fr|es]
                        record an invitation for an organisation and print its upload link
  presession invite --csv FILE
                        record the invitations of a CSV file, all or nothing, and print their links
  presession viewer-link --session S [--country CC] [--valid-for 720h]
                        print a delegation viewing link
  presession staff add --email E --name N --role admin|reviewer|observer [--lang en|fr|es]
                        add a staff account and print (and, with SMTP_URL, mail) its set-password link
  presession staff list | disable --email E | reset --email E [--lang en|fr|es]
                        list the staff accounts, disable one (its sessions end), reset one's password
  presession reindex    rebuild the catalog and the staff directory in Redis from storage
  presession version    print the version, commit and build date

Configuration comes from the environment; see the README.
`

// exitConfig is the exit code for bad configuration or usage.
const exitConfig = 2

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is bad command-line use: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "all"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || (len(args) > 0 && (args[0] == "-h" || args[0] == "--help")) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if cmd == "version" {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "presession: version takes no arguments\n")
			return exitConfig
		}
		runVersion(stdout)
		return 0
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "presession: %v\n", err)
		return exitConfig
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(getenv("PRESESSION_LOG_LEVEL"))}))

	switch cmd {
	case "all", "serve", "worker":
		if len(args) > 0 {
			err = usageError{fmt.Sprintf("%s takes no arguments", cmd)}
			break
		}
		err = runService(ctx, cfg, log, stderr, roles{http: cmd != "worker", workers: cmd != "serve"})
	case "invite":
		err = runInvite(ctx, cfg, args, stdout, stderr)
	case "viewer-link":
		err = runViewerLink(cfg, args, stdout)
	case "staff":
		err = runStaff(ctx, cfg, args, stdout, stderr)
	case "reindex":
		err = runReindex(ctx, cfg, log, stdout)
	default:
		err = usageError{fmt.Sprintf("unknown command %q\n\n%s", cmd, usage)}
	}
	if err == nil {
		return 0
	}
	var ue usageError
	var ce configError
	switch {
	case errors.As(err, &ue), errors.As(err, &ce):
		fmt.Fprintf(stderr, "presession: %v\n", err)
		return exitConfig
	case errors.Is(err, context.Canceled):
		return 0
	}
	fmt.Fprintf(stderr, "presession: %s\n", presession.ErrorMessage(err))
	if presession.ErrorCode(err) == presession.EINTERNAL {
		fmt.Fprintf(stderr, "presession: detail: %v\n", err)
	}
	return 1
}

// configError is a configuration problem found after Load (sessions file,
// secrets): exit code 2.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

func logLevel(s string) slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(s)) != nil {
		return slog.LevelInfo
	}
	return l
}

// loadSessions reads PRESESSION_SESSIONS or returns the built-in session.
func loadSessions(cfg config.Config) (*presession.Sessions, error) {
	if cfg.SessionsFile == "" {
		return presession.Builtin(), nil
	}
	f, err := os.Open(cfg.SessionsFile)
	if err != nil {
		return nil, configError{fmt.Errorf("PRESESSION_SESSIONS: %v", err)}
	}
	defer f.Close()
	ss, err := presession.ParseSessions(f)
	if err != nil {
		return nil, configError{fmt.Errorf("PRESESSION_SESSIONS (%s): %v", cfg.SessionsFile, err)}
	}
	return ss, nil
}

// issuer builds the link issuer shared by invite, viewer-link and the API.
func issuer(cfg *config.Config) (*token.Issuer, error) {
	if err := cfg.LoadSecrets(); err != nil {
		return nil, configError{err}
	}
	ss, err := loadSessions(*cfg)
	if err != nil {
		return nil, err
	}
	return &token.Issuer{Signer: token.NewSigner(cfg.SecretKeys()...), Sessions: ss, PublicURL: cfg.PublicURL,
		MaxViewerValidity: cfg.MaxViewerLinkValidity}, nil
}

func runViewerLink(cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("viewer-link", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	session := fs.String("session", "", "session id, e.g. upr36")
	country := fs.String("country", "", "limit the link to one country (ISO code)")
	validFor := fs.Duration("valid-for", token.DefaultViewerValidity, "how long the link works")
	if err := fs.Parse(args); err != nil {
		return usageError{"viewer-link: " + err.Error()}
	}
	if *session == "" || fs.NArg() > 0 {
		return usageError{"viewer-link needs --session S [--country CC] [--valid-for 720h]"}
	}
	is, err := issuer(&cfg)
	if err != nil {
		return err
	}
	valid := is.DefaultValidity()
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "valid-for" {
			valid = *validFor
		}
	})
	link, _, err := is.ViewerLink(*session, *country, valid)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, link)
	return nil
}
