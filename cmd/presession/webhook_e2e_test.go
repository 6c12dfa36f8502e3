package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver is an organiser's system receiving the webhooks of the
// running binary: it checks each delivery's Standard Webhooks signature
// (independently of package webhook) and keeps what arrived.
type hookReceiver struct {
	mu     sync.Mutex
	secret string
	got    []hookDelivery
	srv    *httptest.Server
}

type hookDelivery struct {
	ID   string
	Type string
	Data map[string]any
	Bad  string // why the signature or body is refused, "" when fine
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		d := hookDelivery{ID: r.Header.Get("webhook-id")}
		var p struct {
			Type      string         `json:"type"`
			Timestamp string         `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			d.Bad = "body: " + err.Error()
		}
		d.Type, d.Data = p.Type, p.Data
		if _, err := time.Parse(time.RFC3339, p.Timestamp); err != nil {
			d.Bad = "timestamp: " + p.Timestamp
		}
		ts := r.Header.Get("webhook-timestamp")
		sec, _ := strconv.ParseInt(ts, 10, 64)
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(rc.secret, "whsec_"))
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%s.%s", d.ID, ts, body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if r.Header.Get("webhook-signature") != want || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute || d.ID == "" {
			d.Bad = "signature " + r.Header.Get("webhook-signature")
		}
		rc.got = append(rc.got, d)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// register registers the receiver with the service for every event.
func (rc *hookReceiver) register(t *testing.T, base, staff string) string {
	t.Helper()
	var ep struct{ ID, Secret string }
	mustCall(t, 201, "POST", base+"/api/v1/webhooks", staff, map[string]any{"url": rc.srv.URL + "/presession",
		"events": []string{"statement.uploaded", "statement.ready", "statement.failed", "statement.approved",
			"statement.rejected", "playlist.updated", "invitation.created"}}, &ep)
	rc.mu.Lock()
	rc.secret = ep.Secret
	rc.mu.Unlock()
	return ep.ID
}

// of returns the statement ids (the playlist countries for
// playlist.updated) of the deliveries of type typ, failing on any badly
// signed one.
func (rc *hookReceiver) of(t *testing.T, typ string) []string {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, d := range rc.got {
		if d.Bad != "" {
			t.Errorf("webhook %s (%s): %s", d.ID, d.Type, d.Bad)
		}
		if d.Type != typ {
			continue
		}
		if typ == "playlist.updated" {
			out = append(out, fmt.Sprint(d.Data["country"]))
		} else {
			out = append(out, fmt.Sprint(d.Data["id"]))
		}
	}
	return out
}
