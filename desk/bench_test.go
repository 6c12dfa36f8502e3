package desk_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
)

// BenchmarkReviewQueue: the first paint of /staff/review (the queue
// ordered, the next statement claimed, the counts per country, the page
// rendered and read whole over loopback) with 200 statements awaiting
// review across the session's 14 countries, against the same page with
// 10, measured in the same run, and against the 300 ms budget.
// Each paint is a new reviewer's, who is given the first statement and
// lets it go, so every paint orders the whole queue and claims.
func BenchmarkReviewQueue(b *testing.B) {
	measure := func(n int) time.Duration {
		e := newEnv(b, 0)
		t0 := time.Now().UTC().Add(-48 * time.Hour)
		countries := presession.Builtin().List[0].Countries
		for i := range n {
			e.ready(countries[i%len(countries)].Code, fmt.Sprintf("Statement %d on water and land", i), t0.Add(time.Duration(i)*time.Minute), 180,
				[]presession.Finding{{Kind: "quiet", Start: 0, End: 180, Text: "The sound is quiet"}})
		}
		ctx := context.Background()
		const rounds = 20
		var total time.Duration
		for r := range rounds {
			tok, secret, err := e.dir.CreateToken(ctx, fmt.Sprintf("bench %d", r), presession.RoleReviewer, presession.ActorService)
			if err != nil {
				b.Fatal(err)
			}
			req, _ := http.NewRequest("GET", e.srv.URL+"/staff/review?lang=fr", nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			start := time.Now()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			total += time.Since(start)
			if res.StatusCode != 200 || !strings.Contains(string(body), `id="statement"`) {
				b.Fatalf("%d statements: %d\n%s", n, res.StatusCode, body)
			}
			// Let go, so every round finds the whole queue free.
			id := strings.SplitN(strings.SplitN(string(body), `data-id="`, 2)[1], `"`, 2)[0]
			if err := e.queue.Claims().Release(ctx, id, presession.ActorToken(tok.ID)); err != nil {
				b.Fatal(err)
			}
		}
		return total / rounds
	}
	for range b.N {
		small, big := measure(10), measure(200)
		b.ReportMetric(float64(big.Microseconds())/1000, "ms/paint-200")
		b.ReportMetric(float64(small.Microseconds())/1000, "ms/paint-10")
		b.ReportMetric(float64(big)/float64(small), "x-of-10")
		b.ReportMetric(float64(big)/float64(300*time.Millisecond), "of-budget")
	}
}
