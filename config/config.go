// Package config loads the service's one Config from the environment, as
// documented in the README, and validates it so that a bad setting stops
// the process at start with one line naming the variable.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Secret is a string that never prints itself.
type Secret string

// LogValue redacts the secret in slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String redacts the secret in fmt output.
func (Secret) String() string { return "[redacted]" }

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// S3 holds the S3-compatible storage settings (path-style addressing).
type S3 struct {
	Endpoint  string // host[:port], no scheme
	Region    string
	Bucket    string
	AccessKey string
	SecretKey Secret
	UseSSL    bool
	// PublicEndpoint is where browsers reach the same S3 service, for
	// presigned media redirects, when it differs from Endpoint (a MinIO
	// inside a compose network, say). "" = Endpoint.
	PublicEndpoint string
}

// SMTP is the mail server of SMTP_URL. Host "" means no server: messages
// are written to the outbox directory instead.
type SMTP struct {
	Host        string
	Port        int
	Username    string
	Password    Secret
	ImplicitTLS bool // smtps://: TLS from the first byte; smtp:// uses STARTTLS when offered
}

// LogValue shows where mail goes, without the password.
func (s SMTP) LogValue() slog.Value {
	if s.Host == "" {
		return slog.StringValue("outbox")
	}
	scheme := "smtp"
	if s.ImplicitTLS {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	if s.Username != "" {
		u.User = url.UserPassword(s.Username, "redacted")
	}
	return slog.StringValue(u.String())
}

// BrowserOrigin is the origin at which browsers reach the storage, for
// the presigned media redirects: scheme://host[:port] of PublicEndpoint,
// else of Endpoint, with https when UseSSL says so and the address names
// no scheme (as storage presigns them); "" for directory storage.
func (s S3) BrowserOrigin() string {
	if s.Endpoint == "" {
		return ""
	}
	addr := s.PublicEndpoint
	if addr == "" {
		addr = s.Endpoint
	}
	if !strings.Contains(addr, "://") {
		scheme := "http"
		if s.UseSSL {
			scheme = "https"
		}
		addr = scheme + "://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// Config is everything the service reads from its environment.
type Config struct {
	Addr           string
	PublicURL      string
	PublicURLSet   bool // PRESESSION_PUBLIC_URL was given: upload URLs are absolute on it, else they follow the request's Host
	DataDir        string
	Secret         Secret // signs tokens; generated into DataDir when unset
	StaffToken     Secret // staff bearer token; generated into DataDir when unset
	SessionsFile   string // "" = built-in Pre-session 36
	MaxUploadBytes int64
	RedisURL       string // "" = embedded in-process Redis
	Redis          *redis.Options
	S3             S3 // Endpoint "" = directory storage under DataDir
	Concurrency    int

	// Beyond the contract's table, set by the issues that needed them.
	MaxStatementsPerInvitation int           // PRESESSION_MAX_STATEMENTS_PER_INVITATION, default 3
	MaxRetriesPerInvitation    int           // PRESESSION_MAX_RETRIES_PER_INVITATION, default 7
	MaxInvitationBytes         int64         // PRESESSION_MAX_INVITATION_BYTES, default 3 × MaxUploadBytes
	FailedRetention            time.Duration // PRESESSION_FAILED_RETENTION, default 72h
	AbandonedUploadAge         time.Duration // PRESESSION_ABANDONED_UPLOAD_AGE, default 168h
	ShutdownTimeout            time.Duration // PRESESSION_SHUTDOWN_TIMEOUT, default 30s
	SMTP                       SMTP          // SMTP_URL; Host "" = the outbox directory
	MailFrom                   string        // MAIL_FROM, an RFC 5322 address
	StaffDigestTo              []string      // PRESESSION_STAFF_DIGEST_TO, comma-separated; none = no digest
	WebhookAllowPrivate        bool          // PRESESSION_WEBHOOK_ALLOW_PRIVATE: webhooks may reach loopback, link-local and private addresses

	// The HTTP edge's bounds (issue 12).
	TrustedProxies     []netip.Prefix // PRESESSION_TRUSTED_PROXIES, default none
	RequestBodyTimeout time.Duration  // PRESESSION_REQUEST_BODY_TIMEOUT, default 30s
	// PRESESSION_MAX_VIEWER_LINK_VALIDITY, default 2160h (90 days)
	MaxViewerLinkValidity time.Duration
	// PRESESSION_MEDIA_CACHE_BYTES, default 256 MiB; 0 turns the media
	// cache off (issue 15).
	MediaCacheBytes int64

	// Set by LoadSecrets: a staff token generated at this start, to show once.
	GeneratedStaffToken bool
}

// Embedded reports whether Redis runs in-process.
func (c *Config) Embedded() bool { return c.RedisURL == "" }

// EmbeddedStorage reports whether storage is the directory under DataDir.
func (c *Config) EmbeddedStorage() bool { return c.S3.Endpoint == "" }

// StorageDir is the root of the directory storage.
func (c *Config) StorageDir() string { return filepath.Join(c.DataDir, "storage") }

// OutboxDir is where messages are written as .eml files without SMTP_URL.
func (c *Config) OutboxDir() string { return filepath.Join(c.DataDir, "outbox") }

// WorkDir holds per-task temporary work files.
func (c *Config) WorkDir() string { return filepath.Join(c.DataDir, "work") }

// Vars lists every environment variable Load reads.
var Vars = []string{
	"PRESESSION_ADDR", "PRESESSION_PUBLIC_URL", "PRESESSION_DATA_DIR", "PRESESSION_SECRET",
	"PRESESSION_STAFF_TOKEN", "PRESESSION_SESSIONS", "PRESESSION_MAX_UPLOAD_BYTES", "REDIS_URL",
	"S3_ENDPOINT", "S3_REGION", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_USE_SSL", "S3_PUBLIC_ENDPOINT",
	"WORKER_CONCURRENCY", "PRESESSION_MAX_STATEMENTS_PER_INVITATION", "PRESESSION_ABANDONED_UPLOAD_AGE",
	"PRESESSION_MAX_RETRIES_PER_INVITATION", "PRESESSION_MAX_INVITATION_BYTES", "PRESESSION_FAILED_RETENTION",
	"PRESESSION_SHUTDOWN_TIMEOUT", "SMTP_URL", "MAIL_FROM", "PRESESSION_STAFF_DIGEST_TO", "PRESESSION_WEBHOOK_ALLOW_PRIVATE",
	"PRESESSION_TRUSTED_PROXIES", "PRESESSION_REQUEST_BODY_TIMEOUT", "PRESESSION_MAX_VIEWER_LINK_VALIDITY",
	"PRESESSION_MEDIA_CACHE_BYTES",
}

// Load reads the configuration through getenv (os.Getenv in main) and
// validates it. The error names the variable at fault.
// It is a flat list, one block per variable in the README's order, so each
// variable's parsing and message stand in one place; splitting it would
// only scatter that list.
func Load(getenv func(string) string) (Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Addr:         get("PRESESSION_ADDR", ":8080"),
		PublicURL:    strings.TrimRight(get("PRESESSION_PUBLIC_URL", "http://localhost:8080"), "/"),
		DataDir:      get("PRESESSION_DATA_DIR", "./data"),
		Secret:       Secret(get("PRESESSION_SECRET", "")),
		StaffToken:   Secret(get("PRESESSION_STAFF_TOKEN", "")),
		SessionsFile: get("PRESESSION_SESSIONS", ""),
		RedisURL:     get("REDIS_URL", ""),
		S3: S3{
			Endpoint:  get("S3_ENDPOINT", ""),
			Region:    get("S3_REGION", "us-east-1"),
			Bucket:    get("S3_BUCKET", "presession"),
			AccessKey: get("S3_ACCESS_KEY", ""),
			SecretKey: Secret(get("S3_SECRET_KEY", "")),

			PublicEndpoint: strings.TrimRight(get("S3_PUBLIC_ENDPOINT", ""), "/"),
		},
	}
	c.PublicURLSet = strings.TrimSpace(getenv("PRESESSION_PUBLIC_URL")) != ""
	var err error
	if _, _, err = net.SplitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("PRESESSION_ADDR=%q is not a listen address such as :8080 or 127.0.0.1:8080", c.Addr)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("PRESESSION_PUBLIC_URL=%q is not an absolute http(s) URL such as https://presession.example.org", c.PublicURL)
	}
	if c.MaxUploadBytes, err = positiveInt(get("PRESESSION_MAX_UPLOAD_BYTES", "8589934592")); err != nil {
		return c, fmt.Errorf("PRESESSION_MAX_UPLOAD_BYTES: %v", err)
	}
	n, err := positiveInt(get("WORKER_CONCURRENCY", "1"))
	if err != nil {
		return c, fmt.Errorf("WORKER_CONCURRENCY: %v", err)
	}
	c.Concurrency = int(n)
	if n, err = positiveInt(get("PRESESSION_MAX_STATEMENTS_PER_INVITATION", "3")); err != nil {
		return c, fmt.Errorf("PRESESSION_MAX_STATEMENTS_PER_INVITATION: %v", err)
	}
	c.MaxStatementsPerInvitation = int(n)
	if n, err = strconv.ParseInt(get("PRESESSION_MAX_RETRIES_PER_INVITATION", "7"), 10, 32); err != nil || n < 0 {
		return c, fmt.Errorf("PRESESSION_MAX_RETRIES_PER_INVITATION=%q is not a whole number of zero or more", getenv("PRESESSION_MAX_RETRIES_PER_INVITATION"))
	}
	c.MaxRetriesPerInvitation = int(n)
	c.MaxInvitationBytes = math.MaxInt64
	if c.MaxUploadBytes <= math.MaxInt64/3 {
		c.MaxInvitationBytes = 3 * c.MaxUploadBytes
	}
	if v := get("PRESESSION_MAX_INVITATION_BYTES", ""); v != "" {
		if c.MaxInvitationBytes, err = positiveInt(v); err != nil {
			return c, fmt.Errorf("PRESESSION_MAX_INVITATION_BYTES: %v", err)
		}
		if c.MaxInvitationBytes < c.MaxUploadBytes {
			return c, fmt.Errorf("PRESESSION_MAX_INVITATION_BYTES: %d is less than PRESESSION_MAX_UPLOAD_BYTES (%d): an upload of the largest accepted size must fit", c.MaxInvitationBytes, c.MaxUploadBytes)
		}
	}
	if c.FailedRetention, err = positiveDuration(get("PRESESSION_FAILED_RETENTION", "72h")); err != nil {
		return c, fmt.Errorf("PRESESSION_FAILED_RETENTION: %v", err)
	}
	if c.AbandonedUploadAge, err = positiveDuration(get("PRESESSION_ABANDONED_UPLOAD_AGE", "168h")); err != nil {
		return c, fmt.Errorf("PRESESSION_ABANDONED_UPLOAD_AGE: %v", err)
	}
	if c.ShutdownTimeout, err = positiveDuration(get("PRESESSION_SHUTDOWN_TIMEOUT", "30s")); err != nil {
		return c, fmt.Errorf("PRESESSION_SHUTDOWN_TIMEOUT: %v", err)
	}
	if c.TrustedProxies, err = prefixes(get("PRESESSION_TRUSTED_PROXIES", "")); err != nil {
		return c, fmt.Errorf("PRESESSION_TRUSTED_PROXIES: %v", err)
	}
	if c.RequestBodyTimeout, err = positiveDuration(get("PRESESSION_REQUEST_BODY_TIMEOUT", "30s")); err != nil {
		return c, fmt.Errorf("PRESESSION_REQUEST_BODY_TIMEOUT: %v", err)
	}
	if c.MaxViewerLinkValidity, err = positiveDuration(get("PRESESSION_MAX_VIEWER_LINK_VALIDITY", "2160h")); err != nil {
		return c, fmt.Errorf("PRESESSION_MAX_VIEWER_LINK_VALIDITY: %v", err)
	}
	if v := get("PRESESSION_MEDIA_CACHE_BYTES", "268435456"); v != "" {
		if c.MediaCacheBytes, err = strconv.ParseInt(v, 10, 64); err != nil || c.MediaCacheBytes < 0 {
			return c, fmt.Errorf("PRESESSION_MEDIA_CACHE_BYTES=%q is not a whole number of bytes, 0 or more (0 turns the media cache off)", v)
		}
	}
	if c.RedisURL != "" {
		if c.Redis, err = redis.ParseURL(c.RedisURL); err != nil {
			return c, fmt.Errorf("REDIS_URL does not parse as redis://[:password@]host:port/db: %v", redactURLError(err))
		}
	}
	if c.S3.Endpoint != "" {
		if strings.Contains(c.S3.Endpoint, "://") || strings.Contains(c.S3.Endpoint, "/") {
			return c, fmt.Errorf("S3_ENDPOINT=%q must be host[:port] without a scheme or path (use S3_USE_SSL for https)", c.S3.Endpoint)
		}
		if _, err := url.Parse("http://" + c.S3.Endpoint); err != nil {
			return c, fmt.Errorf("S3_ENDPOINT=%q is not a host[:port]", c.S3.Endpoint)
		}
		if c.S3.AccessKey == "" || c.S3.SecretKey == "" {
			return c, fmt.Errorf("S3_ACCESS_KEY and S3_SECRET_KEY must both be set when S3_ENDPOINT is")
		}
		if p := c.S3.PublicEndpoint; p != "" {
			u, err := url.Parse(p)
			if !strings.Contains(p, "://") {
				u, err = url.Parse("http://" + p)
			}
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return c, fmt.Errorf("S3_PUBLIC_ENDPOINT=%q must be host[:port] or http(s)://host[:port], without a path", p)
			}
		}
		if l := len(c.S3.Bucket); l < 3 || l > 63 || strings.ToLower(c.S3.Bucket) != c.S3.Bucket || strings.ContainsAny(c.S3.Bucket, "_/ ") {
			return c, fmt.Errorf("S3_BUCKET=%q is not a valid bucket name (3–63 lower-case letters, digits, dots, hyphens)", c.S3.Bucket)
		}
	}
	switch v := strings.ToLower(get("S3_USE_SSL", "false")); v {
	case "true", "1", "yes":
		c.S3.UseSSL = true
	case "false", "0", "no":
	default:
		return c, fmt.Errorf("S3_USE_SSL=%q must be true or false", v)
	}
	if err := c.loadMail(get); err != nil {
		return c, err
	}
	switch v := strings.ToLower(get("PRESESSION_WEBHOOK_ALLOW_PRIVATE", "false")); v {
	case "true", "1", "yes":
		c.WebhookAllowPrivate = true
	case "false", "0", "no":
	default:
		return c, fmt.Errorf("PRESESSION_WEBHOOK_ALLOW_PRIVATE=%q must be true or false", v)
	}
	if c.SessionsFile != "" {
		if _, err := os.Stat(c.SessionsFile); err != nil {
			return c, fmt.Errorf("PRESESSION_SESSIONS: cannot read the sessions file: %v", err)
		}
	}
	return c, nil
}

// loadMail reads SMTP_URL, MAIL_FROM and PRESESSION_STAFF_DIGEST_TO.
func (c *Config) loadMail(get func(k, def string) string) error {
	if raw := get("SMTP_URL", ""); raw != "" {
		s, err := parseSMTP(raw)
		if err != nil {
			return err
		}
		c.SMTP = s
	}
	from := get("MAIL_FROM", "")
	if from == "" && c.SMTP.Host != "" {
		return fmt.Errorf("MAIL_FROM must be set when SMTP_URL is (an address such as \"Pre-session <presession@example.org>\")")
	}
	if from == "" {
		from = "Pre-session <presession@localhost>"
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return fmt.Errorf("MAIL_FROM=%q is not an e-mail address such as \"Pre-session <presession@example.org>\"", from)
	}
	c.MailFrom = from
	for _, a := range strings.Split(get("PRESESSION_STAFF_DIGEST_TO", ""), ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if p, err := mail.ParseAddress(a); err != nil || p.Name != "" {
			return fmt.Errorf("PRESESSION_STAFF_DIGEST_TO: %q is not an e-mail address such as staff@example.org", a)
		}
		c.StaffDigestTo = append(c.StaffDigestTo, a)
	}
	return nil
}

// parseSMTP reads smtp://[user:pass@]host[:port] (STARTTLS when offered,
// port 587 by default) or smtps://… (implicit TLS, port 465). Its errors
// never repeat the password.
func parseSMTP(raw string) (SMTP, error) {
	const want = "SMTP_URL must be smtp://[user:password@]host[:port] or smtps://[user:password@]host[:port]"
	u, err := url.Parse(raw)
	if err != nil {
		return SMTP{}, fmt.Errorf("%s: %v", want, redactURLError(err))
	}
	var s SMTP
	switch u.Scheme {
	case "smtp":
		s.Port = 587
	case "smtps":
		s.Port, s.ImplicitTLS = 465, true
	default:
		return SMTP{}, fmt.Errorf("%s (the scheme is %q)", want, u.Scheme)
	}
	if s.Host = u.Hostname(); s.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return SMTP{}, fmt.Errorf("%s, without a path or query", want)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTP{}, fmt.Errorf("%s (the port %q is not 1–65535)", want, p)
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		pw, _ := u.User.Password()
		s.Password = Secret(pw)
	}
	return s, nil
}

func positiveInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	if n <= 0 {
		return 0, fmt.Errorf("%d must be greater than zero", n)
	}
	return n, nil
}

// prefixes parses a comma-separated list of addresses and CIDR ranges
// (192.0.2.7, 10.0.0.0/8, fd00::/8); an address is a range of one.
func prefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or a CIDR range such as 10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func positiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 30s, 15m or 168h", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s must be greater than zero", d)
	}
	return d, nil
}

// redactURLError keeps a password out of a URL parse error.
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// SecretKeys are the keys of PRESESSION_SECRET, newest first: tokens are
// signed with the first and accepted under any, so a key is rotated by
// putting a new one before it and removing it once the links it signed
// have expired or been replaced. Keys are separated by commas.
func (c Config) SecretKeys() [][]byte {
	var keys [][]byte
	for _, k := range strings.Split(c.Secret.Reveal(), ",") {
		keys = append(keys, []byte(strings.TrimSpace(k)))
	}
	return keys
}

// LoadSecrets fills Secret and StaffToken from the data dir, generating and
// saving them (mode 0600) on first start when the environment does not set
// them. It creates DataDir.
func (c *Config) LoadSecrets() error {
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("PRESESSION_DATA_DIR: %v", err)
	}
	if c.Secret == "" {
		s, _, err := fileSecret(filepath.Join(c.DataDir, "secret"), 32)
		if err != nil {
			return fmt.Errorf("PRESESSION_SECRET: %v", err)
		}
		c.Secret = s
	}
	if c.StaffToken == "" {
		s, created, err := fileSecret(filepath.Join(c.DataDir, "staff-token"), 24)
		if err != nil {
			return fmt.Errorf("PRESESSION_STAFF_TOKEN: %v", err)
		}
		c.StaffToken, c.GeneratedStaffToken = s, created
	}
	for i, k := range c.SecretKeys() {
		if len(k) < 16 {
			return fmt.Errorf("PRESESSION_SECRET: key %d of %d is shorter than 16 characters (several keys are separated by commas, newest first)", i+1, len(c.SecretKeys()))
		}
	}
	if len(c.StaffToken) < 16 {
		return fmt.Errorf("PRESESSION_STAFF_TOKEN must be at least 16 characters")
	}
	return nil
}

func fileSecret(path string, n int) (Secret, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return Secret(s), false, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	s := base64.RawURLEncoding.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			return fileSecret(path, n)
		}
		return "", false, err
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", false, err
	}
	return Secret(s), true, f.Close()
}
