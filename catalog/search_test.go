package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/fakes"
)

// TestListSearch: a search finds statements by organisation, title and
// speaker whatever the case and accents on either side, every word of it
// in any of the three, combined with the session, country, status and
// invitation filters, with the total of all matches and pages of them.
func TestListSearch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	type rec struct {
		session, cc, inv string
		st               presession.Status
		org, title, sp   string
	}
	recs := []rec{
		{"upr36", "AD", "i1", presession.StatusReady, "Institut de Développement Durable", "Éducation pour tous", "Anaïs Müller"},
		{"upr36", "AD", "i1", presession.StatusApproved, "INSTITUT DE DEVELOPPEMENT", "Rights of children", ""},
		{"upr36", "BG", "i2", presession.StatusReady, "Bulgarian Helsinki Committee", "Freedom of expression", "Krassimir Kanev"},
		{"upr36", "HR", "i3", presession.StatusReady, "Kuća ljudskih prava", "Prava manjina u Hrvatskoj", "Đurđa Šimić"},
		{"upr36", "HR", "i3", presession.StatusRejected, "Human-Rights House Zagreb", "Straße und Platz", "Łukasz Øster"},
		{"upr35", "AD", "i4", presession.StatusReady, "Institut de développement", "Another session", ""},
		{"upr36", "MV", "i5", presession.StatusFailed, "Maldivian Democracy Network", "ﬁnal words", ""},
	}
	var all []*presession.Statement
	for i, r := range recs {
		s := &presession.Statement{ID: fmt.Sprintf("s%02d", i), Session: r.session, Country: r.cc, InvitationID: r.inv,
			Organisation: r.org, Title: r.title, Speaker: r.sp, Language: "en", SourceKey: "uploads/x"}
		if err := e.cat.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		for _, to := range fakes.PathTo(r.st) {
			var err error
			if s, err = e.cat.Transition(ctx, s.ID, to, "worker", "setup reason"); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, s)
	}
	for _, tc := range []struct {
		name  string
		f     presession.Filter
		want  []int // indexes into recs, oldest first
		total int   // when paged: the matches in all
	}{
		{"no accents finds accents", presession.Filter{Search: "developpement"}, []int{0, 1, 5}, 0},
		{"accents find no accents", presession.Filter{Search: "DÉVELOPPEMENT"}, []int{0, 1, 5}, 0},
		{"case", presession.Filter{Search: "hElSiNkI"}, []int{2}, 0},
		{"title", presession.Filter{Search: "education"}, []int{0}, 0},
		{"speaker", presession.Filter{Search: "anais muller"}, []int{0}, 0},
		{"every word, across fields", presession.Filter{Search: "institut children"}, []int{1}, 0},
		{"word order", presession.Filter{Search: "committee bulgarian"}, []int{2}, 0},
		{"letters without a decomposition", presession.Filter{Search: "durda simic"}, []int{3}, 0},
		{"ß ł ø", presession.Filter{Search: "strasse lukasz oster"}, []int{4}, 0},
		{"ligature", presession.Filter{Search: "final"}, []int{6}, 0},
		{"croatian", presession.Filter{Search: "kuca"}, []int{3}, 0},
		{"punctuation splits words", presession.Filter{Search: "human rights,"}, []int{4}, 0},
		{"hyphen in the search", presession.Filter{Search: "human-rights"}, []int{4}, 0},
		{"spaces around", presession.Filter{Search: "  helsinki  "}, []int{2}, 0},
		{"no match", presession.Filter{Search: "nothing like this"}, nil, 0},
		{"with session", presession.Filter{Session: "upr36", Search: "développement"}, []int{0, 1}, 0},
		{"with country", presession.Filter{Country: "hr", Search: "prava"}, []int{3}, 0},
		{"with status", presession.Filter{Status: presession.StatusApproved, Search: "developpement"}, []int{1}, 0},
		{"with session, country and status", presession.Filter{Session: "upr36", Country: "AD", Status: presession.StatusReady, Search: "institut"}, []int{0}, 0},
		{"with invitation", presession.Filter{InvitationID: "i3", Search: "zagreb"}, []int{4}, 0},
		{"with invitation and status", presession.Filter{InvitationID: "i1", Status: presession.StatusReady, Search: "institut"}, []int{0}, 0},
		{"first page", presession.Filter{Search: "developpement", Limit: 2}, []int{0, 1}, 3},
		{"second page", presession.Filter{Search: "developpement", Offset: 2, Limit: 2}, []int{5}, 3},
		{"past the end", presession.Filter{Search: "developpement", Offset: 10, Limit: 2}, nil, 3},
		{"blank search is no search", presession.Filter{Country: "AD", Search: "   ", Limit: 2}, []int{0, 1}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := e.cat.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, i := range tc.want {
				want = append(want, all[i].ID)
			}
			if !slices.Equal(ids(got), want) && len(got)+len(want) > 0 {
				t.Errorf("%+v: %v, want %v", tc.f, ids(got), want)
			}
			wantTotal := tc.total
			if wantTotal == 0 {
				wantTotal = len(tc.want)
			}
			if total != wantTotal {
				t.Errorf("%+v: total %d, want %d", tc.f, total, wantTotal)
			}
			for _, s := range got {
				if len(s.History) == 0 || s.CreatedAt.IsZero() {
					t.Errorf("%s: not the whole record: %+v", s.ID, s)
				}
			}
		})
	}

	// A processing statement found by a search shows its live progress.
	p := e.statementAt(t, "upr36", "BG", "i9", presession.StatusProcessing)
	if err := e.cat.SetProgress(ctx, p.ID, 64); err != nil {
		t.Fatal(err)
	}
	got, _, err := e.cat.List(ctx, presession.Filter{Search: "org i9"})
	if err != nil || len(got) != 1 || got[0].Progress != 64 {
		t.Fatalf("search of a processing statement: %v %+v", err, got)
	}
}

// TestListBriefAndOrders: ListBrief lists what List does, each statement
// without its media, captions and history; Orders reads the orders of
// many countries at once, empty for one that never had any.
func TestListBriefAndOrders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var approved []*presession.Statement
	for i := range 6 {
		s := e.statementAt(t, "upr36", []string{"AD", "BG"}[i%2], fmt.Sprint("inv", i), presession.StatusApproved)
		if _, err := e.cat.Update(ctx, s.ID, func(s *presession.Statement) error {
			s.Media = &presession.Media{Duration: 60, Renditions: []presession.Rendition{{Name: "720p", Segments: []presession.Segment{{Key: "k", Duration: 6}}}}}
			s.Captions = []presession.Caption{{Language: "en", Key: "c", Placeholder: true}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		approved = append(approved, s)
	}
	e.statementAt(t, "upr36", "AD", "inv9", presession.StatusReady)
	for _, f := range []presession.Filter{
		{}, {Country: "ad"}, {Status: presession.StatusApproved, Offset: 1, Limit: 3}, {InvitationID: "inv2"},
		{Search: "org inv", Country: "BG", Limit: 2},
	} {
		full, n, err := e.cat.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		brief, bn, err := e.cat.ListBrief(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if n != bn || !slices.Equal(ids(full), ids(brief)) || len(full) == 0 {
			t.Errorf("%+v: brief %v of %d, full %v of %d", f, ids(brief), bn, ids(full), n)
		}
		for i, s := range brief {
			if s.Media != nil || s.Captions != nil || s.History != nil {
				t.Errorf("%s: brief with media, captions or history", s.ID)
			}
			w := *full[i]
			w.Media, w.Captions, w.History = nil, nil, nil
			if fmt.Sprintf("%+v", *s) != fmt.Sprintf("%+v", w) {
				t.Errorf("%s: brief\n%+v\nwant\n%+v", s.ID, *s, w)
			}
		}
	}
	if err := e.cat.SetOrder(ctx, "upr36", "BG", []string{approved[5].ID, approved[3].ID, approved[1].ID}, "staff"); err != nil {
		t.Fatal(err)
	}
	orders, err := e.cat.Orders(ctx, "upr36", []string{"ad", "BG", "HR"})
	if err != nil {
		t.Fatal(err)
	}
	if got := orders["AD"].Statements; !slices.Equal(got, []string{approved[0].ID, approved[2].ID, approved[4].ID}) {
		t.Errorf("AD order %v", got)
	}
	if got := orders["BG"]; !slices.Equal(got.Statements, []string{approved[5].ID, approved[3].ID, approved[1].ID}) || got.UpdatedBy != "staff" {
		t.Errorf("BG order %+v", got)
	}
	if got := orders["HR"]; got == nil || got.Country != "HR" || got.Session != "upr36" || got.Statements == nil || len(got.Statements) != 0 {
		t.Errorf("HR order %+v", got)
	}
	for _, cc := range []string{"AD", "BG"} {
		one, err := e.cat.Order(ctx, "upr36", cc)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(one) != fmt.Sprint(orders[cc]) {
			t.Errorf("%s: Orders %+v, Order %+v", cc, orders[cc], one)
		}
	}
}
