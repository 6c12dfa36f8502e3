package catalog_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
)

func newInvitation(id, session, country, org string) *presession.Invitation {
	return &presession.Invitation{ID: id, Session: session, Country: country, Organisation: org,
		Emails: []string{"contact@" + id + ".example.org"}, Language: "fr", CreatedBy: presession.ActorStaff}
}

// TestInvitations: an invitation is recorded once (idempotent by ID), told
// once as invitation.created, listed per session and country, durable in
// storage, its mail deliveries recorded, and restored by reindex.
func TestInvitations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var mu sync.Mutex
	var told []presession.Occurrence
	cat := catalog.New(e.rdb, e.blobs, catalog.WithPrefix("i"+e.prefix),
		catalog.WithOccurrenceHook(func(_ context.Context, o presession.Occurrence) {
			mu.Lock()
			told = append(told, o)
			mu.Unlock()
		}))

	a := newInvitation("inva", "upr36", "bg", "Helsinki Committee")
	created, err := cat.CreateInvitation(ctx, a)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if a.Country != "BG" || a.CreatedAt.IsZero() {
		t.Fatalf("created record %+v", a)
	}
	for _, inv := range []*presession.Invitation{newInvitation("invb", "upr36", "AD", "B"), newInvitation("invc", "upr37", "BG", "C")} {
		if _, err := cat.CreateInvitation(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	// The same ID again: nothing changes, the record there is comes back.
	again := newInvitation("inva", "upr36", "BG", "Another name")
	created, err = cat.CreateInvitation(ctx, again)
	if err != nil || created || again.Organisation != "Helsinki Committee" || !again.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("repeated create: %v %v %+v", created, err, again)
	}
	if len(told) != 3 || told[0].Type != presession.InvitationCreated || told[0].ID != "inv_inva_created" ||
		told[0].Invitation.ID != "inva" || told[0].Session != "upr36" || told[0].Country != "BG" {
		t.Fatalf("told %+v", told)
	}

	for _, tc := range []struct {
		session, country string
		want             []string
	}{
		{"", "", []string{"inva", "invb", "invc"}},
		{"upr36", "", []string{"inva", "invb"}},
		{"", "bg", []string{"inva", "invc"}},
		{"upr36", "AD", []string{"invb"}},
		{"upr36", "MH", nil},
	} {
		l, err := cat.ListInvitations(ctx, tc.session, tc.country)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, inv := range l {
			got = append(got, inv.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("list %q/%q = %v, want %v", tc.session, tc.country, got, tc.want)
		}
	}

	// Mail deliveries: recorded, durable; sent is not moved back to queued.
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		d    presession.Delivery
		want presession.DeliveryState
	}{
		{presession.Delivery{State: presession.DeliveryQueued, At: at}, presession.DeliveryQueued},
		{presession.Delivery{State: presession.DeliverySent, At: at.Add(time.Minute), Attempt: 2}, presession.DeliverySent},
		{presession.Delivery{State: presession.DeliveryQueued, At: at.Add(2 * time.Minute)}, presession.DeliverySent},
	}
	for i, st := range steps {
		if err := cat.RecordMail(ctx, "inva", "invitation", st.d); err != nil {
			t.Fatal(err)
		}
		got, err := cat.Invitation(ctx, "inva")
		if err != nil {
			t.Fatal(err)
		}
		if got.Mail["invitation"].State != st.want {
			t.Errorf("step %d: mail %+v", i, got.Mail)
		}
	}
	if err := cat.RecordMail(ctx, "inva", "failed", presession.Delivery{State: presession.DeliveryFailed, At: at, Detail: "550 no such user"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, cat.RecordMail(ctx, "nope", "invitation", presession.Delivery{State: presession.DeliverySent}), presession.ENOTFOUND)
	_, err = cat.Invitation(ctx, "nope")
	wantCode(t, err, presession.ENOTFOUND)

	raw, err := os.ReadFile(filepath.Join(e.dir, "invitations", "inva.json"))
	if err != nil {
		t.Fatal(err)
	}
	var stored presession.Invitation
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Mail["failed"].Detail != "550 no such user" || stored.Mail["invitation"].State != presession.DeliverySent ||
		stored.Language != "fr" || len(stored.Emails) != 1 || stored.CreatedBy != presession.ActorStaff {
		t.Fatalf("stored record %+v", stored)
	}

	// Reindex restores everything from storage.
	before, _ := cat.ListInvitations(ctx, "", "")
	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if l, _ := cat.ListInvitations(ctx, "", ""); len(l) != 0 {
		t.Fatalf("after FLUSHDB: %d", len(l))
	}
	if _, err := cat.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := cat.ListInvitations(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("after reindex\n%+v\nwant\n%+v", after, before)
	}
	if l, _ := cat.ListInvitations(ctx, "upr36", "BG"); len(l) != 1 || l[0].ID != "inva" {
		t.Fatalf("index after reindex: %+v", l)
	}
	// A record that only storage has (another process wrote it) is
	// adopted by a create, not overwritten, and not told again.
	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	n := len(told)
	adopt := newInvitation("inva", "upr36", "BG", "Overwriter")
	if created, err := cat.CreateInvitation(ctx, adopt); err != nil || created || adopt.Organisation != "Helsinki Committee" {
		t.Fatalf("adopt: %v %v %+v", created, err, adopt)
	}
	if l, _ := cat.ListInvitations(ctx, "upr36", "BG"); len(l) != 1 || l[0].Mail["failed"].Detail == "" {
		t.Fatalf("adopted: %+v", l)
	}
	if len(told) != n {
		t.Errorf("adoption was told")
	}
}

// TestInvitationDurability: a storage failure leaves the record pending;
// a retry completes it, and a later sync writes it.
func TestInvitationDurability(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.blobs.fail.Store(true)
	inv := newInvitation("invd", "upr36", "AD", "D")
	if _, err := e.cat.CreateInvitation(ctx, inv); err == nil {
		t.Fatal("create with storage down succeeded")
	}
	e.blobs.fail.Store(false)
	if _, err := os.Stat(filepath.Join(e.dir, "invitations", "invd.json")); err == nil {
		t.Fatal("written although storage was down")
	}
	if created, err := e.cat.CreateInvitation(ctx, newInvitation("invd", "upr36", "AD", "D")); err != nil || created {
		t.Fatalf("retry: %v %v", created, err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "invitations", "invd.json")); err != nil {
		t.Fatalf("retry did not complete the write: %v", err)
	}
	e.blobs.fail.Store(true)
	if err := e.cat.RecordMail(ctx, "invd", "invitation", presession.Delivery{State: presession.DeliverySent}); err == nil {
		t.Fatal("record mail with storage down succeeded")
	}
	e.blobs.fail.Store(false)
	if err := e.cat.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(e.dir, "invitations", "invd.json"))
	var stored presession.Invitation
	json.Unmarshal(raw, &stored)
	if stored.Mail["invitation"].State != presession.DeliverySent {
		t.Fatalf("sync did not write the pending delivery: %s", raw)
	}
}

// TestInvitationStatements: each invitation's statements, in two round
// trips.
func TestInvitationStatements(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.newStatement(t, "upr36", "AD", "inv1")
	e.newStatement(t, "upr36", "AD", "inv1")
	e.statementAt(t, "upr36", "AD", "inv2", presession.StatusReady)
	got, err := e.cat.InvitationStatements(ctx, []string{"inv1", "inv2", "inv3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got["inv1"]) != 2 || len(got["inv2"]) != 1 || len(got["inv3"]) != 0 || got["inv2"][0].Status != presession.StatusReady {
		t.Fatalf("statements of invitations: %v", got)
	}
}
