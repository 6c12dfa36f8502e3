package catalog_test

import (
	"context"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
)

// TestViews: a view is the record as it stands in Redis, decoded once
// per change of it: the same value while the record is unchanged, the
// new record at once after a transition or an update.
func TestViews(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := catalog.NewViews(e.cat)
	s := e.statementAt(t, "upr36", "AD", "inv1", presession.StatusApproved)
	first, err := v.Get(ctx, s.ID)
	if err != nil || first.Status != presession.StatusApproved || first.ID != s.ID {
		t.Fatalf("first view: %+v, %v", first, err)
	}
	if again, _ := v.Get(ctx, s.ID); again != first {
		t.Error("an unchanged record was decoded again")
	}
	steps := []struct {
		name   string
		change func() error
		check  func(*presession.Statement) bool
	}{
		{"transition", func() error {
			_, err := e.cat.Transition(ctx, s.ID, presession.StatusReady, "staff", "")
			return err
		}, func(got *presession.Statement) bool { return got.Status == presession.StatusReady }},
		{"update", func() error {
			_, err := e.cat.Update(ctx, s.ID, func(st *presession.Statement) error {
				st.Media = &presession.Media{Version: "g2"}
				return nil
			})
			return err
		}, func(got *presession.Statement) bool { return got.Media != nil && got.Media.Version == "g2" }},
	}
	prev := first
	for _, step := range steps {
		if err := step.change(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		got, err := v.Get(ctx, s.ID)
		if err != nil || got == prev || !step.check(got) {
			t.Errorf("after the %s: %+v, %v", step.name, got, err)
		}
		prev = got
	}
	if _, err := v.Get(ctx, "nosuch"); presession.ErrorCode(err) != presession.ENOTFOUND {
		t.Errorf("a missing statement: %v, want ENOTFOUND", err)
	}
}
