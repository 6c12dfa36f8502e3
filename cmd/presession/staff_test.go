package main

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestStaffCommand: presession staff add prints the set-password link,
// list shows the account, disable and reset change it; on the embedded
// default the records land in storage, where the next command (and the
// service's next start) finds them.
func TestStaffCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PRESESSION_DATA_DIR": dir}
	code, out, errs := runCLI(t, env, "staff", "add", "--email", "Ana@Example.org", "--name", "Ana López", "--role", "Reviewer")
	if code != 0 || !strings.HasPrefix(out, "http://localhost:8080/staff/password?t=") || !strings.Contains(errs, "no SMTP_URL") {
		t.Fatalf("staff add: %d\n%s\n%s", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		code int
		out  []string // in stdout
		err  string   // in stderr
	}{
		{[]string{"add", "--email", "ana@example.org", "--name", "Again", "--role", "admin"}, 1, nil, "already a staff account for ana@example.org"},
		{[]string{"add", "--email", "b@example.org", "--name", "Bo", "--role", "boss"}, 2, nil, `"boss" is not a role`},
		{[]string{"add", "--email", "b@example.org", "--role", "admin"}, 2, nil, "needs --email, --name and --role"},
		{[]string{"add", "--email", "b@example.org", "--name", "Bo", "--role", "admin", "--lang", "de"}, 2, nil, "--lang"},
		{[]string{"list", "--email", "x@example.org"}, 2, nil, "takes no --email"},
		{[]string{"disable"}, 2, nil, "needs --email"},
		{[]string{"frob"}, 2, nil, `unknown staff subcommand "frob"`},
		{nil, 2, nil, "staff needs a subcommand"},
		{[]string{"disable", "--email", "nobody@example.org"}, 1, nil, "no staff account for nobody@example.org"},
		{[]string{"list"}, 0, []string{"EMAIL", "ana@example.org", "Ana López", "reviewer", "active", "no"}, ""},
		{[]string{"disable", "--email", "ANA@example.org"}, 0, nil, "is disabled"},
		{[]string{"reset", "--email", "ana@example.org", "--lang", "fr"}, 0, []string{"http://localhost:8080/staff/password?t="}, ""},
		{[]string{"list"}, 0, []string{"disabled"}, ""},
	} {
		code, out, errs := runCLI(t, env, append([]string{"staff"}, tc.args...)...)
		ok := code == tc.code && strings.Contains(errs, tc.err)
		for _, w := range tc.out {
			ok = ok && strings.Contains(out, w)
		}
		if !ok {
			t.Errorf("staff %v: %d\n%s\n%s", tc.args, code, out, errs)
		}
	}
}

// TestStaffCommandMails: with REDIS_URL and SMTP_URL, staff add and reset
// mail the link, in --lang.
func TestStaffCommandMails(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	s3 := testenv.S3Bucket(t)
	env := map[string]string{"PRESESSION_DATA_DIR": t.TempDir(), "REDIS_URL": testenv.RedisURL(t),
		"SMTP_URL": "smtp://" + mp.SMTPAddr, "MAIL_FROM": "Pre-session <presession@example.org>"}
	for _, kv := range s3.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	to := "rev-" + testenv.RandomHex(6) + "@example.org"
	code, out, errs := runCLI(t, env, "staff", "add", "--email", to, "--name", "Rosa", "--role", "reviewer", "--lang", "es")
	if code != 0 || !strings.Contains(errs, "mailed to "+to) {
		t.Fatalf("staff add: %d\n%s\n%s", code, out, errs)
	}
	link := strings.TrimSpace(out)
	msgs := mp.Messages(t, to)
	if len(msgs) != 1 {
		t.Fatalf("%d messages to %s", len(msgs), to)
	}
	msg := mp.Message(t, msgs[0].ID)
	if !strings.Contains(msg.Subject, "presesión") || !strings.Contains(msg.Text, link) || !strings.Contains(msg.Text, "Hola, Rosa") {
		t.Errorf("mail %q:\n%s\nwant the link %s", msg.Subject, msg.Text, link)
	}
	code, out, errs = runCLI(t, env, "staff", "reset", "--email", to)
	if code != 0 || strings.TrimSpace(out) == link || len(mp.Messages(t, to)) != 2 {
		t.Errorf("staff reset: %d\n%s\n%s", code, out, errs)
	}
}

// TestStaffReindex: with Redis emptied, presession reindex brings the
// staff accounts back from storage (as any command or start would, on
// finding no account in Redis).
func TestStaffReindex(t *testing.T) {
	s3 := testenv.S3Bucket(t)
	redisURL := testenv.RedisURL(t)
	env := map[string]string{"PRESESSION_DATA_DIR": t.TempDir(), "REDIS_URL": redisURL}
	for _, kv := range s3.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if code, out, errs := runCLI(t, env, "staff", "add", "--email", "kept@example.org", "--name", "Kept", "--role", "observer"); code != 0 {
		t.Fatalf("staff add: %d\n%s\n%s", code, out, errs)
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, env, "reindex")
	if code != 0 || !strings.Contains(out, "and 2 staff records") { // the account and its link
		t.Fatalf("reindex: %d\n%s\n%s", code, out, errs)
	}
	if n, err := rdb.HLen(context.Background(), keyPrefix+"staff:members").Result(); err != nil || n != 1 {
		t.Errorf("accounts in Redis after reindex: %d %v", n, err)
	}
	if code, out, _ := runCLI(t, env, "staff", "list"); code != 0 || !strings.Contains(out, "kept@example.org") {
		t.Errorf("staff list after reindex: %d\n%s", code, out)
	}
}
