package web

import (
	"context"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/buildinfo"
)

// HomeCountry is one row of the landing page.
type HomeCountry struct {
	Code, Name string
	Deadline   time.Time
	Extended   bool
	Open       bool
}

// HomeSession is one session of the landing page.
type HomeSession struct {
	*presession.Session
	Rows      []HomeCountry
	Languages string
	Programme *ProgrammeView // nil: no slots (or no Site.Programme)
}

// MaxSeconds is the session's length limit as a float for formatting.
func (h HomeSession) MaxSeconds() float64 { return float64(h.MaxStatementSeconds) }

// Home serves GET /: sessions, countries and deadlines, and each
// session's programme (Site.Programme), which is public.
func (s *Site) Home() (http.Handler, error) {
	page, err := s.ParsePage(assets, "templates/home.html")
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			s.Error(w, r, presession.Errorf(presession.ENOTFOUND, "there is no page at %s", r.URL.Path).Localize("err.no_page", r.URL.Path))
			return
		}
		lang := s.Lang(r)
		now := time.Now()
		var list []HomeSession
		for i := range s.Sessions.List {
			ss := &s.Sessions.List[i]
			hs := HomeSession{Session: ss}
			var langs []string
			for _, l := range ss.Languages {
				langs = append(langs, presession.LanguageName(l))
			}
			hs.Languages = strings.Join(langs, ", ")
			for _, c := range ss.Countries {
				d := ss.Deadline(c)
				hs.Rows = append(hs.Rows, HomeCountry{Code: c.Code, Name: presession.CountryName(c.Code, lang),
					Deadline: d, Extended: c.UploadDeadline != nil, Open: now.Before(d)})
			}
			sort.SliceStable(hs.Rows, func(a, b int) bool { return hs.Rows[a].Name < hs.Rows[b].Name })
			if s.Programme != nil {
				pv, err := s.Programme.ProgrammeView(r.Context(), ss, lang, "")
				if err != nil {
					s.Error(w, r, err)
					return
				}
				if len(pv.Slots) > 0 {
					hs.Programme = pv
				}
			}
			list = append(list, hs)
		}
		s.Render(w, r, page, http.StatusOK, list)
	}), nil
}

// Check is one readiness check.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// BinaryCheck checks that a program answers `name -version`. Each check
// starts a process: give /readyz its Cached form.
func BinaryCheck(name string) Check {
	return Check{Name: name, Fn: func(ctx context.Context) error {
		return exec.CommandContext(ctx, name, "-version").Run()
	}}
}

// checkTimeout bounds one run of a cached check.
const checkTimeout = 5 * time.Second

// Cached returns c answering from its last result for ttl, with one run
// in flight at a time however many requests ask: an unauthenticated
// /readyz then cannot make the process start programs faster than one per
// ttl. A run does not end with the request that started it (the others
// wait for it too); it is bounded by its own timeout.
func (c Check) Cached(ttl time.Duration) Check {
	var (
		mu    sync.Mutex
		at    time.Time // when the last run ended; zero before the first
		last  error
		group singleflight.Group
	)
	fn := c.Fn
	c.Fn = func(ctx context.Context) error {
		mu.Lock()
		if !at.IsZero() && time.Since(at) < ttl {
			err := last
			mu.Unlock()
			return err
		}
		mu.Unlock()
		ch := group.DoChan("", func() (any, error) {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkTimeout)
			defer cancel()
			err := fn(rctx)
			mu.Lock()
			at, last = time.Now(), err
			mu.Unlock()
			return nil, err
		})
		select {
		case res := <-ch:
			return res.Err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return c
}

// Health serves GET /healthz (the process answers, and says which build it
// is) and GET /readyz (every check passes; 503 with JSON naming what fails
// otherwise).
func (s *Site) Health(checks []Check) (healthz, readyz http.Handler) {
	b := buildinfo.Read()
	healthz = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.JSON(w, http.StatusOK, map[string]string{"status": "ok", "version": b.Version, "commit": b.Commit, "built": b.Built})
	})
	readyz = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		res := map[string]string{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		failed := false
		for _, c := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := c.Fn(ctx)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					res[c.Name] = "failing: " + err.Error()
					failed = true
				} else {
					res[c.Name] = "ok"
				}
			}()
		}
		wg.Wait()
		status := http.StatusOK
		body := map[string]any{"status": "ready", "checks": res}
		if failed {
			status = http.StatusServiceUnavailable
			body["status"] = "not ready"
		}
		s.JSON(w, status, body)
	})
	return healthz, readyz
}
