package config_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.PublicURL != "http://localhost:8080" || c.DataDir != "./data" || c.MaxUploadBytes != 8<<30 ||
		c.Concurrency != 1 || !c.Embedded() || !c.EmbeddedStorage() || c.MaxStatementsPerInvitation != 3 || c.PublicURLSet ||
		c.FailedRetention != 72*time.Hour || c.MaxRetriesPerInvitation != 7 || c.MaxInvitationBytes != 24<<30 ||
		c.RequestBodyTimeout != 30*time.Second || c.MaxViewerLinkValidity != 2160*time.Hour || c.WebhookAllowPrivate {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = config.Load(env(map[string]string{"PRESESSION_PUBLIC_URL": "https://presession.example.org/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://presession.example.org" || !c.PublicURLSet {
		t.Fatalf("PRESESSION_PUBLIC_URL set: %q, set %v", c.PublicURL, c.PublicURLSet)
	}
	if c, err = config.Load(env(map[string]string{"PRESESSION_WEBHOOK_ALLOW_PRIVATE": "true"})); err != nil || !c.WebhookAllowPrivate {
		t.Fatalf("PRESESSION_WEBHOOK_ALLOW_PRIVATE=true: %v %v", c.WebhookAllowPrivate, err)
	}
}

// TestInvitationLimits: the byte cap follows the upload limit unless set;
// no retries is a choice, not an error.
func TestInvitationLimits(t *testing.T) {
	c, err := config.Load(env(map[string]string{"PRESESSION_MAX_UPLOAD_BYTES": "1000", "PRESESSION_MAX_RETRIES_PER_INVITATION": "0"}))
	if err != nil || c.MaxInvitationBytes != 3000 || c.MaxRetriesPerInvitation != 0 {
		t.Fatalf("%d bytes, %d retries, %v", c.MaxInvitationBytes, c.MaxRetriesPerInvitation, err)
	}
	c, err = config.Load(env(map[string]string{"PRESESSION_MAX_UPLOAD_BYTES": "1000", "PRESESSION_MAX_INVITATION_BYTES": "1000"}))
	if err != nil || c.MaxInvitationBytes != 1000 {
		t.Fatalf("%d bytes, %v", c.MaxInvitationBytes, err)
	}
	if c, err = config.Load(env(map[string]string{"PRESESSION_MAX_UPLOAD_BYTES": "9223372036854775807"})); err != nil || c.MaxInvitationBytes != 9223372036854775807 {
		t.Fatalf("%d bytes, %v", c.MaxInvitationBytes, err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PRESESSION_ADDR": "nonsense"}, "PRESESSION_ADDR"},
		{map[string]string{"PRESESSION_PUBLIC_URL": "localhost"}, "PRESESSION_PUBLIC_URL"},
		{map[string]string{"PRESESSION_MAX_UPLOAD_BYTES": "-5"}, "PRESESSION_MAX_UPLOAD_BYTES"},
		{map[string]string{"PRESESSION_MAX_UPLOAD_BYTES": "8GB"}, "PRESESSION_MAX_UPLOAD_BYTES"},
		{map[string]string{"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY"},
		{map[string]string{"REDIS_URL": "http://:pw@host"}, "REDIS_URL"},
		{map[string]string{"S3_ENDPOINT": "http://minio:9000", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b"}, "S3_ENDPOINT"},
		{map[string]string{"S3_ENDPOINT": "minio:9000"}, "S3_ACCESS_KEY"},
		{map[string]string{"S3_ENDPOINT": "minio:9000", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "S3_BUCKET": "Bad_Bucket"}, "S3_BUCKET"},
		{map[string]string{"S3_USE_SSL": "maybe"}, "S3_USE_SSL"},
		{map[string]string{"PRESESSION_WEBHOOK_ALLOW_PRIVATE": "sometimes"}, "PRESESSION_WEBHOOK_ALLOW_PRIVATE"},
		{map[string]string{"S3_ENDPOINT": "minio:9000", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "S3_PUBLIC_ENDPOINT": "ftp://x/y"}, "S3_PUBLIC_ENDPOINT"},
		{map[string]string{"PRESESSION_SESSIONS": "/nonexistent/sessions.json"}, "PRESESSION_SESSIONS"},
		{map[string]string{"PRESESSION_ABANDONED_UPLOAD_AGE": "a week"}, "PRESESSION_ABANDONED_UPLOAD_AGE"},
		{map[string]string{"PRESESSION_FAILED_RETENTION": "3 days"}, "PRESESSION_FAILED_RETENTION"},
		{map[string]string{"PRESESSION_MAX_RETRIES_PER_INVITATION": "-1"}, "PRESESSION_MAX_RETRIES_PER_INVITATION"},
		{map[string]string{"PRESESSION_MAX_RETRIES_PER_INVITATION": "many"}, "PRESESSION_MAX_RETRIES_PER_INVITATION"},
		{map[string]string{"PRESESSION_MAX_INVITATION_BYTES": "24GiB"}, "PRESESSION_MAX_INVITATION_BYTES"},
		{map[string]string{"PRESESSION_MAX_INVITATION_BYTES": "1000"}, "PRESESSION_MAX_INVITATION_BYTES"},
		{map[string]string{"PRESESSION_FAILED_RETENTION": "0s"}, "PRESESSION_FAILED_RETENTION"},
		{map[string]string{"SMTP_URL": "http://u:pw@mail.example.org", "MAIL_FROM": "a@example.org"}, "SMTP_URL"},
		{map[string]string{"SMTP_URL": "smtp://u:pw@mail.example.org:99999", "MAIL_FROM": "a@example.org"}, "SMTP_URL"},
		{map[string]string{"SMTP_URL": "smtp://u:pw@/x", "MAIL_FROM": "a@example.org"}, "SMTP_URL"},
		{map[string]string{"SMTP_URL": "smtp://u:pw@mail.example.org"}, "MAIL_FROM"},
		{map[string]string{"MAIL_FROM": "not an address"}, "MAIL_FROM"},
		{map[string]string{"PRESESSION_STAFF_DIGEST_TO": "staff@example.org, nobody"}, "PRESESSION_STAFF_DIGEST_TO"},
		{map[string]string{"PRESESSION_TRUSTED_PROXIES": "10.0.0.1, proxy.internal"}, "PRESESSION_TRUSTED_PROXIES"},
		{map[string]string{"PRESESSION_TRUSTED_PROXIES": "10.0.0.0/33"}, "PRESESSION_TRUSTED_PROXIES"},
		{map[string]string{"PRESESSION_REQUEST_BODY_TIMEOUT": "0s"}, "PRESESSION_REQUEST_BODY_TIMEOUT"},
		{map[string]string{"PRESESSION_REQUEST_BODY_TIMEOUT": "soon"}, "PRESESSION_REQUEST_BODY_TIMEOUT"},
	} {
		t.Run(tc.want+fmt.Sprint(tc.env), func(t *testing.T) {
			_, err := config.Load(env(tc.env))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), ":pw@") {
				t.Fatalf("error leaks a password: %v", err)
			}
		})
	}
}

func TestSecretsGeneratedOnce(t *testing.T) {
	dir := t.TempDir()
	c, _ := config.Load(env(map[string]string{"PRESESSION_DATA_DIR": dir}))
	if err := c.LoadSecrets(); err != nil {
		t.Fatal(err)
	}
	if !c.GeneratedStaffToken || len(c.Secret.Reveal()) < 32 {
		t.Fatalf("first start: %+v", c)
	}
	for _, f := range []string{"secret", "staff-token"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, st.Mode(), err)
		}
	}
	c2, _ := config.Load(env(map[string]string{"PRESESSION_DATA_DIR": dir}))
	if err := c2.LoadSecrets(); err != nil {
		t.Fatal(err)
	}
	if c2.GeneratedStaffToken || c2.Secret != c.Secret || c2.StaffToken != c.StaffToken {
		t.Fatal("second start must reuse the saved secrets")
	}
	if s := fmt.Sprint(c2.StaffToken, c2.Secret); strings.Contains(s, c2.StaffToken.Reveal()) {
		t.Fatal("secrets must not print")
	}
}

func TestMailConfig(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Host != "" || c.MailFrom == "" || len(c.StaffDigestTo) != 0 || !strings.HasSuffix(c.OutboxDir(), "outbox") {
		t.Fatalf("mail defaults: %+v from %q digest %v", c.SMTP, c.MailFrom, c.StaffDigestTo)
	}
	for _, tc := range []struct {
		url  string
		want config.SMTP
	}{
		{"smtp://mail.example.org", config.SMTP{Host: "mail.example.org", Port: 587}},
		{"smtp://u%40x:p%3Aw@mail.example.org:2525", config.SMTP{Host: "mail.example.org", Port: 2525, Username: "u@x", Password: "p:w"}},
		{"smtps://u:pw@mail.example.org", config.SMTP{Host: "mail.example.org", Port: 465, Username: "u", Password: "pw", ImplicitTLS: true}},
	} {
		c, err := config.Load(env(map[string]string{"SMTP_URL": tc.url, "MAIL_FROM": "Pre-session <ps@example.org>",
			"PRESESSION_STAFF_DIGEST_TO": " a@example.org,b@example.org ,"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.SMTP != tc.want || c.MailFrom != "Pre-session <ps@example.org>" || strings.Join(c.StaffDigestTo, " ") != "a@example.org b@example.org" {
			t.Errorf("%s: %+v from %q digest %v", tc.url, c.SMTP, c.MailFrom, c.StaffDigestTo)
		}
		var buf strings.Builder
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "smtp", c.SMTP)
		if tc.want.Password != "" && strings.Contains(buf.String(), tc.want.Password.Reveal()+"@") {
			t.Errorf("the log shows the SMTP password: %s", buf.String())
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil || len(c.TrustedProxies) != 0 {
		t.Fatalf("default: %v %v", c.TrustedProxies, err)
	}
	c, err = config.Load(env(map[string]string{"PRESESSION_TRUSTED_PROXIES": " 10.0.0.7 , 172.16.5.9/12,fd00::/8,::ffff:192.0.2.1"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.TrustedProxies); got != "[10.0.0.7/32 172.16.0.0/12 fd00::/8 192.0.2.1/32]" {
		t.Errorf("PRESESSION_TRUSTED_PROXIES: %s", got)
	}
}

func TestS3BrowserOrigin(t *testing.T) {
	for _, tc := range []struct {
		s3   config.S3
		want string
	}{
		{config.S3{}, ""},
		{config.S3{PublicEndpoint: "http://localhost:9000"}, ""}, // directory storage: no redirects
		{config.S3{Endpoint: "minio:9000"}, "http://minio:9000"},
		{config.S3{Endpoint: "s3.example.org", UseSSL: true}, "https://s3.example.org"},
		{config.S3{Endpoint: "minio:9000", PublicEndpoint: "localhost:9000"}, "http://localhost:9000"},
		{config.S3{Endpoint: "minio:9000", PublicEndpoint: "HTTPS://Media.Example.org/", UseSSL: false}, "https://media.example.org"},
	} {
		if got := tc.s3.BrowserOrigin(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.s3, got, tc.want)
		}
	}
}

// TestSecretKeys: PRESESSION_SECRET may hold several keys, newest first;
// each must be long enough, and the error names the variable.
func TestSecretKeys(t *testing.T) {
	for _, tc := range []struct {
		secret string
		keys   []string
		err    bool
	}{
		{"0123456789abcdef0123", []string{"0123456789abcdef0123"}, false},
		{"new-key-0123456789abcdef, old-key-0123456789abcdef", []string{"new-key-0123456789abcdef", "old-key-0123456789abcdef"}, false},
		{"new-key-0123456789abcdef,short", nil, true},
		{"new-key-0123456789abcdef,", nil, true},
	} {
		c, err := config.Load(env(map[string]string{"PRESESSION_DATA_DIR": t.TempDir(), "PRESESSION_SECRET": tc.secret,
			"PRESESSION_STAFF_TOKEN": "staff-token-0123456789"}))
		if err != nil {
			t.Fatal(err)
		}
		err = c.LoadSecrets()
		if tc.err {
			if err == nil || !strings.Contains(err.Error(), "PRESESSION_SECRET") {
				t.Errorf("%q: %v, want a refusal naming PRESESSION_SECRET", tc.secret, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.secret, err)
			continue
		}
		var got []string
		for _, k := range c.SecretKeys() {
			got = append(got, string(k))
		}
		if strings.Join(got, "|") != strings.Join(tc.keys, "|") {
			t.Errorf("%q: keys %q, want %q", tc.secret, got, tc.keys)
		}
	}
}
