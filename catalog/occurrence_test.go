package catalog_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/internal/testenv"
)

// TestOccurrenceHook: every told transition reaches the hook once, with an
// ID that names the statement and the transition; the others do not.
func TestOccurrenceHook(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var mu sync.Mutex
	var got []presession.Occurrence
	cat := catalog.New(redis.NewClient(testenv.RedisDB(t)), e.blobs, catalog.WithPrefix("o"+e.prefix),
		catalog.WithOccurrenceHook(func(_ context.Context, o presession.Occurrence) {
			mu.Lock()
			got = append(got, o)
			mu.Unlock()
		}))
	s := &presession.Statement{ID: "occ1", Session: "upr36", Country: "AD", InvitationID: "inv1", Title: "T", SourceKey: "uploads/occ1"}
	if err := cat.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		to     presession.Status
		reason string
		want   presession.OccurrenceType // "" when not told
	}{
		{presession.StatusUploaded, "", presession.StatementUploaded},
		{presession.StatusProcessing, "", ""},
		{presession.StatusReady, "", presession.StatementReady},
		{presession.StatusRejected, "off topic", presession.StatementRejected},
		{presession.StatusReady, "", presession.StatementReady},
		{presession.StatusApproved, "", presession.StatementApproved},
	}
	var want []presession.OccurrenceType
	for _, st := range steps {
		if _, err := cat.Transition(ctx, s.ID, st.to, "staff", st.reason); err != nil {
			t.Fatalf("→ %s: %v", st.to, err)
		}
		if st.want != "" {
			want = append(want, st.want)
		}
	}
	var types []presession.OccurrenceType
	ids := map[string]bool{}
	for _, o := range got {
		types = append(types, o.Type)
		if ids[o.ID] {
			t.Errorf("occurrence ID %s told twice", o.ID)
		}
		ids[o.ID] = true
		if o.Statement == nil || o.Statement.ID != s.ID || o.Session != "upr36" || o.Country != "AD" || o.At.IsZero() {
			t.Errorf("occurrence %+v does not describe the statement", o)
		}
	}
	if !slices.Equal(types, want) {
		t.Errorf("told %v, want %v", types, want)
	}
	if o := got[len(got)-1]; o.ID != "stmt_occ1_7" || o.Statement.Status != presession.StatusApproved {
		t.Errorf("last occurrence %s (%s), want stmt_occ1_7 of the approved statement", o.ID, o.Statement.Status)
	}
}
