package review_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
)

// tripCounter counts the round trips to Redis: each command alone and
// each pipeline (or transaction) once.
type tripCounter struct{ n atomic.Int64 }

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// trips returns how many round trips to Redis one GET of path makes.
func (e *env) trips(c *tripCounter, path string, opts ...func(*http.Request)) int {
	e.t.Helper()
	before := c.n.Load()
	st, _, _ := e.page(path, opts...)
	if st != http.StatusOK {
		e.t.Fatalf("GET %s: %d", path, st)
	}
	return int(c.n.Load() - before)
}

// TestDashboardRoundTrips: the dashboard's first paint asks Redis the
// same few times whether the session has a few statements in one country
// or many in all 14, approved ones among them, with invitations, viewer
// links and webhooks: nothing is read per country, per row or per
// invitation.
func TestDashboardRoundTrips(t *testing.T) {
	t.Parallel()
	few := newEnv(t)
	many := newEnv(t)
	sess, _ := presession.Builtin().Find("upr36")
	seed := func(e *env, countries []presession.Country) {
		for _, c := range countries {
			_, inv := e.invite(c.Code, "Org "+c.Code)
			if _, err := e.cat.CreateInvitation(context.Background(), &presession.Invitation{ID: inv.ID, Session: "upr36", Country: c.Code,
				Organisation: "Org " + c.Code, CreatedBy: presession.ActorService}); err != nil {
				t.Fatal(err)
			}
			for _, st := range []presession.Status{presession.StatusApproved, presession.StatusReady, presession.StatusRejected, presession.StatusProcessing} {
				e.statement(c.Code, inv.ID, "Statement of "+c.Code, st)
			}
		}
	}
	seed(few, sess.Countries[:1])
	seed(many, sess.Countries)
	ad := "/staff?country=" + sess.Countries[0].Code
	counts := map[string]int{}
	for name, e := range map[string]*env{"few": few, "many": many} {
		c := &tripCounter{}
		e.rdb.AddHook(c)
		cookie := e.staffCookie()
		for _, path := range []string{"/staff", "/staff?q=statement", ad, ad + "&status=ready&q=of"} {
			n := e.trips(c, path, func(r *http.Request) { r.AddCookie(cookie) })
			counts[name+" "+path] = n
			t.Logf("%s %s: %d round trips", name, path, n)
		}
	}
	for _, path := range []string{"/staff", "/staff?q=statement", ad, ad + "&status=ready&q=of"} {
		if counts["few "+path] != counts["many "+path] {
			t.Errorf("%s: %d round trips with one country's statements, %d with %d countries'", path, counts["few "+path], counts["many "+path], len(sess.Countries))
		}
		if n := counts["many "+path]; n > 20 {
			t.Errorf("%s: %d round trips", path, n)
		}
	}
}
