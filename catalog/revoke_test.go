package catalog_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/uprinfo/presession"
)

func newViewerLink(id, session, country, whom string) *presession.ViewerLink {
	return &presession.ViewerLink{ID: id, Session: session, Country: country, For: whom,
		Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), CreatedBy: presession.ActorMember("m1")}
}

func linkIDs(l []*presession.ViewerLink) []string {
	var out []string
	for _, x := range l {
		out = append(out, x.ID)
	}
	return out
}

// TestViewerLinks: a viewer link is recorded once (idempotent by ID),
// listed per session and country (a session-wide one only without a
// country), refused when malformed, and durable in storage.
func TestViewerLinks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for _, l := range []*presession.ViewerLink{
		newViewerLink("vla", "upr36", "bg", "Delegation of Bulgaria"),
		newViewerLink("vlb", "upr36", "", "Geneva missions"),
		newViewerLink("vlc", "upr37", "BG", ""),
	} {
		if err := e.cat.CreateViewerLink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	again := newViewerLink("vla", "upr36", "AD", "Someone else")
	if err := e.cat.CreateViewerLink(ctx, again); err != nil || again.Country != "BG" || again.For != "Delegation of Bulgaria" {
		t.Fatalf("repeated create: %v %+v", err, again)
	}
	for _, tc := range []struct {
		session, country string
		want             []string
	}{
		{"", "", []string{"vla", "vlb", "vlc"}},
		{"upr36", "", []string{"vla", "vlb"}},
		{"", "bg", []string{"vla", "vlc"}},
		{"upr36", "BG", []string{"vla"}},
		{"upr36", "AD", nil},
	} {
		l, err := e.cat.ListViewerLinks(ctx, tc.session, tc.country)
		if err != nil {
			t.Fatal(err)
		}
		if got := linkIDs(l); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("list %q/%q = %v, want %v", tc.session, tc.country, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		l    *presession.ViewerLink
	}{
		{"bad id", newViewerLink("a/b", "upr36", "BG", "")},
		{"no session", newViewerLink("vlx", "", "BG", "")},
		{"bad country", newViewerLink("vlx", "upr36", "BGR", "")},
		{"no expiry", &presession.ViewerLink{ID: "vlx", Session: "upr36"}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, e.cat.CreateViewerLink(ctx, tc.l), presession.EINVALID) })
	}
	got, err := e.cat.ViewerLink(ctx, "vlb")
	if err != nil || got.For != "Geneva missions" || got.Country != "" || got.CreatedAt.IsZero() || got.CreatedBy != "staff:m1" {
		t.Fatalf("viewer link: %v %+v", err, got)
	}
	_, err = e.cat.ViewerLink(ctx, "nope")
	wantCode(t, err, presession.ENOTFOUND)
	raw, err := os.ReadFile(filepath.Join(e.dir, "viewer-links", "vla.json"))
	if err != nil {
		t.Fatal(err)
	}
	var stored presession.ViewerLink
	if err := json.Unmarshal(raw, &stored); err != nil || stored.For != "Delegation of Bulgaria" || stored.Session != "upr36" {
		t.Fatalf("stored record %s (%v)", raw, err)
	}
}

// TestRevoke: revoking an invitation or a viewer link records who and
// when, in Redis and in storage, and makes Revoked say so; a second
// revocation changes nothing; an unknown id is ENOTFOUND; and after a
// FLUSHDB, Reindex brings back the records and the revoked set.
func TestRevoke(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for _, inv := range []*presession.Invitation{newInvitation("inva", "upr36", "BG", "A"), newInvitation("invb", "upr36", "BG", "B")} {
		if _, err := e.cat.CreateInvitation(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []*presession.ViewerLink{newViewerLink("vla", "upr36", "BG", "A"), newViewerLink("vlb", "upr36", "", "B")} {
		if err := e.cat.CreateViewerLink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	by := presession.ActorMember("m7")
	inv, err := e.cat.RevokeInvitation(ctx, "inva", by)
	if err != nil || inv.RevokedAt == nil || inv.RevokedBy != by || inv.Organisation != "A" {
		t.Fatalf("revoke invitation: %v %+v", err, inv)
	}
	l, err := e.cat.RevokeViewerLink(ctx, "vlb", by)
	if err != nil || l.RevokedAt == nil || l.RevokedBy != by || l.For != "B" {
		t.Fatalf("revoke viewer link: %v %+v", err, l)
	}
	// Twice: the first revocation stands.
	inv2, err := e.cat.RevokeInvitation(ctx, "inva", presession.ActorService)
	if err != nil || !inv2.RevokedAt.Equal(*inv.RevokedAt) || inv2.RevokedBy != by {
		t.Fatalf("second revocation: %v %+v", err, inv2)
	}
	l2, err := e.cat.RevokeViewerLink(ctx, "vlb", presession.ActorService)
	if err != nil || !l2.RevokedAt.Equal(*l.RevokedAt) || l2.RevokedBy != by {
		t.Fatalf("second revocation: %v %+v", err, l2)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"unknown invitation", func() error { _, err := e.cat.RevokeInvitation(ctx, "nope", by); return err }()},
		{"unknown viewer link", func() error { _, err := e.cat.RevokeViewerLink(ctx, "nope", by); return err }()},
		{"a viewer link as an invitation", func() error { _, err := e.cat.RevokeInvitation(ctx, "vla", by); return err }()},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.err, presession.ENOTFOUND) })
	}

	revoked := map[string]bool{"inva": true, "invb": false, "vla": false, "vlb": true, "nope": false}
	check := func(when string) {
		t.Helper()
		for id, want := range revoked {
			got, err := e.cat.Revoked(ctx, id)
			if err != nil || got != want {
				t.Errorf("%s: Revoked(%s) = %v, %v; want %v", when, id, got, err, want)
			}
		}
	}
	check("after the revocations")

	for _, f := range []struct{ path, id string }{{"invitations/inva.json", "inva"}, {"viewer-links/vlb.json", "vlb"}} {
		raw, err := os.ReadFile(filepath.Join(e.dir, filepath.FromSlash(f.path)))
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			RevokedAt *time.Time       `json:"revoked_at"`
			RevokedBy presession.Actor `json:"revoked_by"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil || rec.RevokedAt == nil || rec.RevokedBy != by {
			t.Errorf("%s in storage: %s (%v)", f.path, raw, err)
		}
	}

	invsBefore, _ := e.cat.ListInvitations(ctx, "", "")
	linksBefore, _ := e.cat.ListViewerLinks(ctx, "", "")
	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.cat.Revoked(ctx, "inva"); ok {
		t.Fatal("revoked after FLUSHDB")
	}
	if _, err := e.cat.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	check("after reindex")
	invsAfter, _ := e.cat.ListInvitations(ctx, "", "")
	linksAfter, err := e.cat.ListViewerLinks(ctx, "", "")
	if err != nil || !reflect.DeepEqual(invsBefore, invsAfter) || !reflect.DeepEqual(linksBefore, linksAfter) {
		t.Fatalf("after reindex: %v\n%+v\n%+v\nwant\n%+v\n%+v", err, invsAfter, linksAfter, invsBefore, linksBefore)
	}
	if l, err := e.cat.ListViewerLinks(ctx, "upr36", "BG"); err != nil || !reflect.DeepEqual(linkIDs(l), []string{"vla"}) {
		t.Errorf("index after reindex: %v %v", linkIDs(l), err)
	}
	// A second reindex clears what is no longer revoked in storage.
	if _, err := e.rdb.SAdd(ctx, e.prefix+"revoked", "invb").Result(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a second reindex")
}

// TestRevokeDurability: a revocation committed while storage is down
// holds at once (Revoked) and is written by a retry or the next sync.
func TestRevokeDurability(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if err := e.cat.CreateViewerLink(ctx, newViewerLink("vld", "upr36", "BG", "")); err != nil {
		t.Fatal(err)
	}
	e.blobs.fail.Store(true)
	if _, err := e.cat.RevokeViewerLink(ctx, "vld", presession.ActorService); err == nil {
		t.Fatal("revoke with storage down succeeded")
	}
	if ok, err := e.cat.Revoked(ctx, "vld"); err != nil || !ok {
		t.Fatalf("a revocation not yet durable is not in force: %v %v", ok, err)
	}
	e.blobs.fail.Store(false)
	if _, err := e.cat.RevokeViewerLink(ctx, "vld", presession.ActorService); err != nil {
		t.Fatalf("retry: %v", err)
	}
	raw, _ := os.ReadFile(filepath.Join(e.dir, "viewer-links", "vld.json"))
	var stored presession.ViewerLink
	if err := json.Unmarshal(raw, &stored); err != nil || stored.RevokedAt == nil {
		t.Fatalf("the retry did not write the revocation: %s", raw)
	}
}
