package review_test

import (
	"context"
	"errors"
	"html"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/review"
)

// names is a Names of fixed names; it fails when fail is set.
type names struct {
	m    map[presession.Actor]string
	fail bool
}

func (n names) Names(_ context.Context, actors []presession.Actor) (map[presession.Actor]string, error) {
	if n.fail {
		return nil, errors.New("directory unreachable")
	}
	out := map[presession.Actor]string{}
	for _, a := range actors {
		if v, ok := n.m[a]; ok {
			out[a] = v
		}
	}
	return out, nil
}

// TestHistoryNames: with WithNames, a statement's history in the API has
// actor_name beside actor, and the dashboard's history lists say who
// acted by name (else what kind of actor it was); without a resolver, or
// when it fails, actor stays and no name is made up.
func TestHistoryNames(t *testing.T) {
	t.Parallel()
	resolver := names{m: map[presession.Actor]string{"staff:m1": "Alice Reviewer", presession.ActorService: "service"}}
	for _, tc := range []struct {
		name  string
		opts  []review.Option
		named bool
	}{
		{"with names", []review.Option{review.WithNames(resolver)}, true},
		{"without", nil, false},
		{"resolver failing", []review.Option{review.WithNames(names{fail: true})}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, tc.opts)
			ready := e.statement("AD", "", "Named review", presession.StatusReady)
			if _, err := e.cat.Transition(context.Background(), ready.ID, presession.StatusApproved, "staff:m1", ""); err != nil {
				t.Fatal(err)
			}
			var got struct {
				History []review.HistoryEvent `json:"history"`
			}
			if st, code := e.staff("GET", "/api/v1/statements/"+ready.ID, nil, &got); st != 200 {
				t.Fatalf("get: %d %s", st, code)
			}
			last := got.History[len(got.History)-1]
			if last.Actor != "staff:m1" {
				t.Fatalf("actor %q", last.Actor)
			}
			if want := map[bool]string{true: "Alice Reviewer"}[tc.named]; last.ActorName != want {
				t.Errorf("actor_name %q, want %q", last.ActorName, want)
			}
			for _, ev := range got.History[:len(got.History)-1] {
				if ev.ActorName != "" {
					t.Errorf("%s has a name %q the resolver does not know", ev.Actor, ev.ActorName)
				}
			}

			var reopened struct {
				History []review.HistoryEvent `json:"history"`
			}
			if st, code := e.staff("POST", "/api/v1/statements/"+ready.ID+"/reopen", map[string]string{"reason": "second look"}, &reopened); st != 200 {
				t.Fatalf("reopen: %d %s", st, code)
			}
			if l := reopened.History[len(reopened.History)-1]; l.Actor != presession.ActorService || l.ActorName != map[bool]string{true: "service"}[tc.named] {
				t.Errorf("reopen's event %+v", l)
			}

			st, body, _ := e.page("/staff?lang=en", bearer(staffToken))
			if st != 200 {
				t.Fatalf("dashboard: %d", st)
			}
			body = html.UnescapeString(body)
			for _, want := range []string{"History", "the organisation (Org of Named review)", "by processing", `second look`} {
				if !strings.Contains(body, want) {
					t.Errorf("dashboard lacks %q", want)
				}
			}
			if named := strings.Contains(body, "by Alice Reviewer"); named != tc.named {
				t.Errorf("dashboard names the reviewer: %v, want %v", named, tc.named)
			}
			if !tc.named && !strings.Contains(body, "by staff:m1") {
				t.Errorf("dashboard without names does not show the actor as recorded")
			}
		})
	}
}
