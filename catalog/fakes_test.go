package catalog_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/fakes"
)

// TestInMemoryDouble: the other packages' in-memory catalog agrees with
// this one on a run of moves: the same refusals, statements and playlist
// order.
func TestInMemoryDouble(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fake := fakes.NewCatalog()
	var ids []string
	for range 3 {
		s := e.statementAt(t, "upr36", "AD", "inv1", presession.StatusReady)
		fake.Put(s)
		ids = append(ids, s.ID)
	}
	// strip drops the times, which come from different clocks.
	strip := func(s *presession.Statement) *presession.Statement {
		if s == nil {
			return nil
		}
		s.UpdatedAt = time.Time{}
		for i := range s.History {
			s.History[i].At = time.Time{}
		}
		return s
	}
	for i, step := range []struct {
		n             int
		to            presession.Status
		actor, reason string
	}{
		{0, presession.StatusApproved, "staff", ""},
		{1, presession.StatusApproved, "staff", ""},
		{2, presession.StatusRejected, "staff", "off topic"},
		{2, presession.StatusApproved, "staff", ""}, // refused
		{0, presession.StatusReady, "staff", "second look"},
		{2, presession.StatusReady, "staff", ""},
		{2, presession.StatusApproved, "staff", ""},
		{0, presession.StatusApproved, "staff", ""},
		{1, presession.StatusRejected, "staff", ""}, // refused
		{1, presession.StatusProcessing, "worker", ""},
		{1, presession.StatusFailed, "worker", "the file is damaged"},
	} {
		got, err := e.cat.Transition(ctx, ids[step.n], step.to, step.actor, step.reason)
		fgot, ferr := fake.Transition(ctx, ids[step.n], step.to, step.actor, step.reason)
		if presession.ErrorCode(err) != presession.ErrorCode(ferr) || presession.ErrorMessage(err) != presession.ErrorMessage(ferr) {
			t.Fatalf("step %d: catalog says %v, the double %v", i, err, ferr)
		}
		if !reflect.DeepEqual(strip(got), strip(fgot)) {
			t.Fatalf("step %d: catalog returns\n%+v\nthe double\n%+v", i, got, fgot)
		}
		approved, err := e.cat.ApprovedInOrder(ctx, "upr36", "AD")
		if err != nil {
			t.Fatal(err)
		}
		fapproved, _ := fake.ApprovedInOrder(ctx, "upr36", "AD")
		for j := range approved {
			strip(approved[j])
		}
		for j := range fapproved {
			strip(fapproved[j])
		}
		if !reflect.DeepEqual(approved, fapproved) {
			t.Fatalf("step %d: catalog's playlist\n%+v\nthe double's\n%+v", i, approved, fapproved)
		}
	}
	_, err := e.cat.Get(ctx, "nope")
	_, ferr := fake.Get(ctx, "nope")
	if presession.ErrorMessage(err) != presession.ErrorMessage(ferr) {
		t.Fatalf("missing: catalog says %v, the double %v", err, ferr)
	}
}
