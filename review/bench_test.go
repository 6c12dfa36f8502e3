package review_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/fakes"
	"github.com/uprinfo/presession/review"
	"github.com/uprinfo/presession/webhook"
)

// firstPaintBudget is the budget for the first paint of /staff
// with 200 statements on loopback.
const firstPaintBudget = 300 * time.Millisecond

// lateNames resolves names with a directory set once the env exists
// (the env makes its directory and its handler together).
type lateNames struct{ n review.Names }

func (l *lateNames) Names(ctx context.Context, actors []presession.Actor) (map[presession.Actor]string, error) {
	return l.n.Names(ctx, actors)
}

// dashboardEnv is a handler on real Redis seeded with statements
// statements spread over the 14 countries of Pre-session 36 and about as
// many invitations, and the cookie of a member signed in on it.
func dashboardEnv(b *testing.B, statements int) (*env, *http.Cookie) {
	b.Helper()
	names := &lateNames{}
	e := newEnvWith(b, []review.Option{review.WithNames(names)})
	names.n = e.dir
	start := time.Now()
	seedDashboard(b, e, statements)
	b.Logf("seeded %d statements and %d invitations in %s", statements, statements, time.Since(start).Round(time.Millisecond))
	res, _ := e.signInForm("lead@example.org", rightPassword, "en", "")
	c := cookieOf(res)
	if res.StatusCode != http.StatusSeeOther || c == nil {
		b.Fatalf("sign-in: %d", res.StatusCode)
	}
	return e, c
}

// benchOrgs and benchTopics make organisations and titles as they come:
// several languages, accents, long names.
var (
	benchOrgs = []string{"Asociación Pro Derechos Humanos", "Institut de Développement Durable", "Kuća ljudskih prava Zagreb",
		"Bulgarian Helsinki Committee", "Maldivian Democracy Network", "Centre for Human Rights and Rehabilitation",
		"Fundación Panameña para la Niñez", "Mongolian Women's Fund", "Libyan Organisation for Legal Aid",
		"Jamaicans for Justice", "Comisión de Derechos Humanos de Honduras", "Marshall Islands Youth Council"}
	benchTopics = []string{"the rights of the child", "freedom of expression", "access to justice", "gender-based violence",
		"the rights of persons with disabilities", "climate change and displacement", "torture and detention", "the rights of migrants"}
)

// seedDashboard records n statements of upr36 (about 40 % ready, 30 %
// approved, 10 % rejected, the rest failed, processing, uploaded or
// uploading), each with its invitation, as a session would have them:
// media of 1–10 minutes with four rungs of 6 s segments, a quality report,
// captions in three languages (some corrected, with their history), and
// the history of its moves by the organisation, the worker and three
// members of staff; plus a few viewer links and two webhooks with
// deliveries.
func seedDashboard(b *testing.B, e *env, n int) {
	b.Helper()
	ctx := context.Background()
	e.member("lead@example.org", "Léa Lead", presession.RoleAdmin, rightPassword)
	var reviewers []presession.Actor
	for i, name := range []string{"Ana López", "Jean Dupont", "Mariam Said"} {
		m := e.member(fmt.Sprintf("r%d@example.org", i), name, presession.RoleReviewer, rightPassword)
		reviewers = append(reviewers, presession.ActorMember(m.ID))
	}
	sess, _ := presession.Builtin().Find("upr36")
	base := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	for i := range n {
		cc := sess.Countries[i%len(sess.Countries)].Code
		org := fmt.Sprintf("%s %d", benchOrgs[i%len(benchOrgs)], i)
		inv := &presession.Invitation{ID: fmt.Sprintf("inv%04d", i), Session: "upr36", Country: cc, Organisation: org,
			Emails:   []string{fmt.Sprintf("contact%d@example.org", i), fmt.Sprintf("office%d@example.org", i)},
			Language: []string{"en", "fr", "es"}[i%3], CreatedAt: base.Add(time.Duration(i) * time.Minute), CreatedBy: reviewers[i%3]}
		if _, err := e.cat.CreateInvitation(ctx, inv); err != nil {
			b.Fatal(err)
		}
		if err := e.cat.RecordMail(ctx, inv.ID, "invitation", presession.Delivery{State: presession.DeliverySent, At: inv.CreatedAt.Add(time.Minute)}); err != nil {
			b.Fatal(err)
		}
		st := []presession.Status{presession.StatusReady, presession.StatusReady, presession.StatusReady, presession.StatusReady,
			presession.StatusReady, presession.StatusReady, presession.StatusReady, presession.StatusReady,
			presession.StatusApproved, presession.StatusApproved, presession.StatusApproved, presession.StatusApproved,
			presession.StatusApproved, presession.StatusApproved, presession.StatusRejected, presession.StatusRejected,
			presession.StatusFailed, presession.StatusProcessing, presession.StatusUploaded, presession.StatusUploading}[i%20]
		s := &presession.Statement{ID: fmt.Sprintf("01JSTMT%06d", i), Session: "upr36", Country: cc, Organisation: org,
			InvitationID: inv.ID, Title: fmt.Sprintf("Statement on %s in %s", benchTopics[i%len(benchTopics)], presession.CountryName(cc, "en")),
			Speaker: fmt.Sprintf("Speaker %d of %s", i, org), Language: inv.Language, Filename: fmt.Sprintf("statement-%d.mp4", i),
			Filetype: "video/mp4", Size: 180 << 20, SourceKey: "uploads/" + inv.ID + "/" + fmt.Sprint(i),
			CreatedAt: inv.CreatedAt.Add(time.Hour)}
		if err := e.cat.Create(ctx, s); err != nil {
			b.Fatal(err)
		}
		for _, to := range fakes.PathTo(st) {
			actor, reason := presession.ActorWorker, ""
			switch to {
			case presession.StatusUploaded:
				actor = presession.ActorCSO(inv.ID)
			case presession.StatusFailed:
				reason = "the file stops at 0:24 of 1:00 — the upload may have been cut; please upload it again"
			case presession.StatusApproved, presession.StatusRejected:
				actor = reviewers[i%3]
				if to == presession.StatusRejected {
					reason = "The statement is not about the country under review."
				}
			case presession.StatusReady:
				if _, err := e.cat.Update(ctx, s.ID, func(s *presession.Statement) error {
					benchMedia(s, 60+float64(i*37%540))
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := e.cat.Transition(ctx, s.ID, to, string(actor), reason); err != nil {
				b.Fatal(err)
			}
		}
		if st == presession.StatusProcessing {
			if err := e.cat.SetProgress(ctx, s.ID, float64(i%100)); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 6 {
		l := &presession.ViewerLink{ID: fmt.Sprintf("vl%03d", i), Session: "upr36", Country: sess.Countries[i].Code,
			For: "Delegation of " + presession.CountryName(sess.Countries[i].Code, "en"), Expires: base.Add(90 * 24 * time.Hour),
			CreatedAt: base, CreatedBy: reviewers[0]}
		if err := e.cat.CreateViewerLink(ctx, l); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 2 {
		wh := &presession.Webhook{ID: fmt.Sprintf("wh_bench%d", i), URL: fmt.Sprintf("https://hooks.example.org/in/%d", i),
			Events: presession.OccurrenceTypes, Secret: webhook.NewSecret(), CreatedAt: base, CreatedBy: presession.ActorService}
		if err := e.hooksR.Add(ctx, wh); err != nil {
			b.Fatal(err)
		}
		for j := range 20 {
			d := presession.WebhookDelivery{Occurrence: fmt.Sprintf("stmt_%d_3", j), Type: presession.StatementReady, Attempt: 1,
				At: base.Add(time.Duration(j) * time.Minute), Status: 204, Outcome: presession.OutcomeDelivered}
			if err := e.hooksR.Record(ctx, wh.ID, d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchMedia gives s the media a processed statement of dur seconds has.
func benchMedia(s *presession.Statement, dur float64) {
	p := "statements/" + s.ID + "/"
	m := &presession.Media{Duration: dur, Width: 1920, Height: 1080, SourceFormat: "mov,mp4,m4a,3gp,3g2,mj2", Master: p + "master.m3u8",
		MP4: p + "statement.mp4", MP4Size: int64(dur * 400000), Poster: p + "poster.jpg", Thumbnail: p + "thumb.jpg",
		Storyboard: p + "storyboard.jpg", StoryboardVT: p + "storyboard.vtt", Version: "3"}
	for _, r := range []struct {
		name string
		w, h int
		bw   int
	}{{"1080p", 1920, 1080, 5000000}, {"720p", 1280, 720, 3000000}, {"360p", 640, 360, 800000}, {"240p", 426, 240, 400000}} {
		rd := presession.Rendition{Name: r.name, Width: r.w, Height: r.h, Bandwidth: r.bw, AverageBandwidth: r.bw * 4 / 5,
			Codecs: "avc1.640028,mp4a.40.2", FrameRate: 25, Playlist: p + r.name + "/index.m3u8", Init: p + r.name + "/init.mp4", TargetDuration: 6}
		for t, k := 0.0, 1; t < dur; t, k = t+6, k+1 {
			rd.Segments = append(rd.Segments, presession.Segment{Key: fmt.Sprintf("%s%s/seg_%05d.m4s", p, r.name, k), Duration: math.Min(6, dur-t)})
		}
		m.Renditions = append(m.Renditions, rd)
	}
	m.Quality = &presession.Quality{Loudness: &presession.Loudness{Integrated: -23.4, Range: 6.1, TruePeak: -1.2},
		Summary: "needs attention (2)", SummaryKey: "quality.summary.attention", SummaryArgs: []string{"2"},
		Findings: []presession.Finding{
			{Kind: "silence", Start: 12, End: 16.5, Text: "no sound for 4.5 s", Key: "quality.silence", Args: []string{"4.5"}},
			{Kind: "black", Start: 0, End: 3, Text: "the picture is black for 3 s", Key: "quality.black", Args: []string{"3"}},
		}}
	s.Media = m
	for j, l := range []string{"en", "fr", "es"} {
		c := presession.Caption{Language: l, Name: presession.LanguageName(l), Key: p + "subs/" + l + ".vtt", Placeholder: true}
		if j == 0 && len(s.ID)%2 == 0 {
			c.Placeholder = false
			c.UpdatedAt, c.UpdatedBy = s.CreatedAt.Add(2*time.Hour), "staff:someone"
			c.History = []presession.CaptionChange{{At: c.UpdatedAt, By: c.UpdatedBy, Source: "upload", Cues: 84}}
		}
		s.Captions = append(s.Captions, c)
	}
}

// BenchmarkDashboardFirstPaint times GET /staff, over loopback HTTP with a
// member's session cookie and real Redis, from the request to the last
// byte of the page: with 200 statements across the 14 countries of a
// session (and 200 invitations), and in the same run with 10, alternating
// requests. It reports the medians, the ratio of the 200's to the
// issue's 300 ms budget (x_budget, must stay ≤ 1), the ratio to the
// 10's (x_small), a search of the 200 (ms_search), and the round trips
// to Redis of one paint of the 200 (redis_trips_200).
func BenchmarkDashboardFirstPaint(b *testing.B) {
	big, bigCookie := dashboardEnv(b, 200)
	small, smallCookie := dashboardEnv(b, 10)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	b.Cleanup(client.CloseIdleConnections)
	paint := func(e *env, c *http.Cookie, path string) (time.Duration, string) {
		b.Helper()
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.AddCookie(c)
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		took := time.Since(start)
		if err != nil || res.StatusCode != 200 || !strings.Contains(string(body), `id="statements-table"`) {
			b.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
		}
		return took, string(body)
	}
	_, page := paint(big, bigCookie, "/staff")
	if !strings.Contains(page, "Showing statements 1–50 of 200.") || strings.Count(page, `<tr id="st-`) != review.PageLimit {
		b.Fatal("the big dashboard does not show 50 of its 200 statements")
	}
	_, page = paint(small, smallCookie, "/staff")
	if !strings.Contains(page, "Showing statements 1–10 of 10.") {
		b.Fatal("the small dashboard does not show its 10 statements")
	}
	trips := &tripCounter{}
	big.rdb.AddHook(trips)
	paint(big, bigCookie, "/staff")
	roundTrips := trips.n.Load()
	for range 3 { // warm both servers and the connections
		paint(big, bigCookie, "/staff")
		paint(small, smallCookie, "/staff")
	}
	const rounds = 15
	var bigT, smallT, searchT []time.Duration
	size := 0
	b.ResetTimer()
	for b.Loop() {
		for range rounds {
			d, body := paint(big, bigCookie, "/staff")
			bigT, size = append(bigT, d), len(body)
			d, _ = paint(small, smallCookie, "/staff")
			smallT = append(smallT, d)
			d, _ = paint(big, bigCookie, "/staff?q=developpement")
			searchT = append(searchT, d)
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	mBig, mSmall, mSearch := median(bigT), median(smallT), median(searchT)
	b.ReportMetric(ms(mBig), "ms_200")
	b.ReportMetric(ms(slices.Max(bigT)), "ms_200_max")
	b.ReportMetric(ms(mSmall), "ms_10")
	b.ReportMetric(ms(mSearch), "ms_search")
	b.ReportMetric(float64(mBig)/float64(firstPaintBudget), "x_budget")
	b.ReportMetric(float64(mBig)/float64(mSmall), "x_small")
	b.ReportMetric(float64(size)/1024, "KiB_200")
	b.ReportMetric(float64(roundTrips), "redis_trips_200")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
