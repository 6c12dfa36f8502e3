package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/notify"
	"github.com/uprinfo/presession/storage"
)

// storedInvitations reads the invitation records in a data dir's storage.
func storedInvitations(t *testing.T, dataDir string) map[string]presession.Invitation {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dataDir, "storage", "invitations", "*.json"))
	out := map[string]presession.Invitation{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var inv presession.Invitation
		if err := json.Unmarshal(b, &inv); err != nil {
			t.Fatal(err)
		}
		out[inv.Organisation] = inv
	}
	return out
}

// TestInviteCommand: presession invite records the invitation with its
// contacts and language; --csv records a file's, all or nothing, once.
// On the embedded default the records land in storage.
func TestInviteCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PRESESSION_DATA_DIR": dir}
	code, out, errs := runCLI(t, env, "invite", "--session", "upr36", "--country", "BG", "--org", "Example NGO", "--until", "2030-01-01",
		"--email", "a@example.org, b@example.org", "--email", "c@example.org", "--lang", "FR")
	if code != 0 || !strings.HasPrefix(out, "http://localhost:8080/upload?token=") {
		t.Fatalf("invite: %d\n%s\n%s", code, out, errs)
	}
	inv := storedInvitations(t, dir)["Example NGO"]
	if strings.Join(inv.Emails, ",") != "a@example.org,b@example.org,c@example.org" || inv.Language != "fr" || inv.Until == nil || inv.CreatedBy != presession.ActorService {
		t.Fatalf("stored %+v", inv)
	}
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--email", "not an address"}, 2, `"not an address" is not an e-mail address`},
		{[]string{"--lang", "de"}, 2, `"de" is not a language`},
	} {
		args := append([]string{"invite", "--session", "upr36", "--country", "BG", "--org", "Other", "--until", "2030-01-01"}, tc.args...)
		if code, _, errs := runCLI(t, env, args...); code != tc.code || !strings.Contains(errs, tc.err) {
			t.Errorf("%v: %d %s", tc.args, code, errs)
		}
	}

	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("\ufeffsession,country,organisation,email,language,until\r\n"+
		"upr36,BG,Bulgarian Helsinki Committee,bhc@example.org;office@example.org,fr,2030-01-01\r\n"+
		"upr36,HR,Kuća ljudskih prava,kuca@example.org,es,2030-01-01\r\n"+
		"upr36,MV,Maldivian Democracy Network,mdn@example.org,,2030-01-01\r\n"), 0o644)
	code, out, errs = runCLI(t, env, "invite", "--csv", good)
	if code != 0 || strings.Count(out, "created\t") != 3 || !strings.Contains(out, "created\tHR\tKuća ljudskih prava\thttp://localhost:8080/upload?token=") ||
		!strings.Contains(errs, "3 invitations created, 0 existing") {
		t.Fatalf("import: %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, env, "invite", "--csv", good)
	if code != 0 || strings.Count(out, "existing\t") != 3 || !strings.Contains(errs, "0 invitations created, 3 existing") {
		t.Fatalf("second import: %d\n%s\n%s", code, out, errs)
	}
	if got := storedInvitations(t, dir); len(got) != 4 || got["Kuća ljudskih prava"].Language != "es" || got["Maldivian Democracy Network"].Language != "en" {
		t.Fatalf("stored after two imports: %d %+v", len(got), got)
	}

	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("session,country,organisation,email,language,until\n"+
		"upr36,BG,Fine,fine@example.org,en,2030-01-01\n"+
		"upr36,BG,Bad mail,jane@,en,2030-01-01\n"+
		"upr36,AD,Closed,closed@example.org,en,\n"+
		"upr36,FR,Unknown,u@example.org,xx,2030-01-01\n"), 0o644)
	code, out, errs = runCLI(t, env, "invite", "--csv", bad)
	if code != 2 || out != "" {
		t.Fatalf("bad file: %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"3 rows of the file cannot be used; nothing was created", "line 3, email: ", "line 4, until: ", "line 5, country: ", "line 5, language: "} {
		if !strings.Contains(errs, want) {
			t.Errorf("bad file: stderr lacks %q:\n%s", want, errs)
		}
	}
	if got := storedInvitations(t, dir); len(got) != 4 {
		t.Fatalf("a bad file created invitations: %d", len(got))
	}
	for _, args := range [][]string{{"--csv", bad, "--session", "upr36"}, {"--csv", filepath.Join(dir, "missing.csv")}} {
		if code, _, errs := runCLI(t, env, append([]string{"invite"}, args...)...); code != 2 {
			t.Errorf("%v: %d %s", args, code, errs)
		}
	}
}

// TestInviteCommandOnRedis: with REDIS_URL the command records in that
// Redis (and storage), where the service lists it at once.
func TestInviteCommandOnRedis(t *testing.T) {
	url := testenv.RedisURL(t)
	dir := t.TempDir()
	env := map[string]string{"PRESESSION_DATA_DIR": dir, "REDIS_URL": url}
	code, out, errs := runCLI(t, env, "invite", "--session", "upr36", "--country", "MH", "--org", "Island Voices", "--until", "2030-01-01", "--email", "iv@example.org")
	if code != 0 || !strings.Contains(out, "/upload?token=") {
		t.Fatalf("invite: %d\n%s\n%s", code, out, errs)
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	store, err := storage.NewDir(filepath.Join(dir, "storage"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := catalog.New(rdb, catalog.StorageBlobs(store), catalog.WithPrefix(keyPrefix)).ListInvitations(context.Background(), "upr36", "MH")
	if err != nil || len(l) != 1 || l[0].Emails[0] != "iv@example.org" {
		t.Fatalf("listed %+v %v", l, err)
	}
	// What the command recorded is told like the service's own changes:
	// the invitation's mail waits in the mail queue for the workers.
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: opts.Addr, DB: opts.DB})
	defer insp.Close()
	info, err := insp.GetTaskInfo(notify.Queue, "mail:occ:inv_"+l[0].ID+"_created")
	if err != nil || info.Type != notify.TypeOccurrence {
		t.Fatalf("the invitation's mail is not queued: %+v %v", info, err)
	}
}
