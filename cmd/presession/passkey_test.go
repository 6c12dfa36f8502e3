package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestPasskeyRoutesServed: the built binary serves the passkey routes with
// the relying party of PRESESSION_PUBLIC_URL, refuses a passkey to the
// service token, and sends a browser that is not signed in from "My
// account" to the sign-in page. (passkey's TestPasskeysInChromium drives
// the ceremonies themselves.)
func TestPasskeyRoutesServed(t *testing.T) {
	dir := t.TempDir()
	addr := kbFreeAddr(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	staff := testenv.RandomHex(24)
	env := append(os.Environ(),
		"PRESESSION_DATA_DIR="+filepath.Join(dir, "data"), "PRESESSION_ADDR="+addr,
		"PRESESSION_PUBLIC_URL=http://localhost:"+port, "PRESESSION_STAFF_TOKEN="+staff,
		"PRESESSION_SECRET="+testenv.RandomHex(32), "REDIS_URL=", "S3_ENDPOINT=")
	kbStartServer(t, testenv.Binary(t), env, addr)
	base := "http://" + addr

	post := func(path, bearer string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("POST", base+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	res := post("/staff/passkeys/login/begin", "")
	var opts struct {
		PublicKey struct {
			Challenge        string `json:"challenge"`
			RPID             string `json:"rpId"`
			UserVerification string `json:"userVerification"`
		} `json:"publicKey"`
	}
	if err := json.NewDecoder(res.Body).Decode(&opts); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login/begin: %d %v", res.StatusCode, err)
	}
	if pk := opts.PublicKey; pk.RPID != "localhost" || len(pk.Challenge) < 43 || pk.UserVerification != "required" {
		t.Errorf("login/begin options %+v; want rpId localhost, a 32-byte challenge, user verification required", pk)
	}

	if res := post("/staff/passkeys/register/begin", staff); res.StatusCode != http.StatusForbidden {
		t.Errorf("register/begin with the staff token: %d, want 403 (passkeys are members')", res.StatusCode)
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	me, err := client.Get(base + "/staff/me")
	if err != nil {
		t.Fatal(err)
	}
	me.Body.Close()
	if me.StatusCode != http.StatusSeeOther || me.Header.Get("Location") != "/staff" {
		t.Errorf("GET /staff/me signed out: %d to %q, want 303 to /staff", me.StatusCode, me.Header.Get("Location"))
	}
}
