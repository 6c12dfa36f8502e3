package programme_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/programme"
	"github.com/uprinfo/presession/storage"
)

const sessionsFile = `{"sessions": [{"id": "upr47", "title": "UPR Pre-session 47", "upload_deadline": "2026-09-01T23:59:59Z",
  "max_statement_seconds": 600, "languages": ["en"],
  "countries": [
    {"code": "AD", "name": "Andorra", "slot": {"start": "2026-12-10T09:00:00+01:00", "minutes": 30}},
    {"code": "HR", "name": "Croatia", "slot": {"start": "2026-12-10T09:30:00+01:00", "minutes": 30}},
    {"code": "BG", "name": "Bulgaria"}]}]}`

// TestStore changes slots as staff would, against real Redis and storage:
// each refusal is named, a change holds for a second store over the same
// Redis (another node) and survives a flushed Redis through Reindex.
func TestStore(t *testing.T) {
	ctx := context.Background()
	ss, err := presession.ParseSessions(strings.NewReader(sessionsFile))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	dir, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobs := catalog.StorageBlobs(dir)
	now := time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC) // 09:00 in Geneva: Andorra's slot starts now
	clock := func() time.Time { return now }
	st := programme.NewStore(rdb, blobs, "t:", ss, clock)
	approved := map[string]float64{"HR": 25 * 60}
	st.Approved = func(_ context.Context, _, cc string) (float64, error) { return approved[cc], nil }
	at := func(hhmm string) time.Time {
		tm, _ := time.ParseInLocation("2006-01-02 15:04", "2026-12-10 "+hhmm, presession.Geneva)
		return tm
	}
	for _, tc := range []struct {
		name, cc string
		slot     *presession.Slot
		code     string
		want     string
	}{
		{"started slot cannot move", "AD", &presession.Slot{Start: at("11:00"), Minutes: 30}, presession.ECONFLICT, "has started"},
		{"started slot cannot go", "AD", nil, presession.ECONFLICT, "has started"},
		{"not in the past", "BG", &presession.Slot{Start: at("08:00"), Minutes: 30}, presession.ECONFLICT, "in the past"},
		{"overlap", "BG", &presession.Slot{Start: at("09:45"), Minutes: 30}, presession.EINVALID, "overlap"},
		{"too short for the approved", "HR", &presession.Slot{Start: at("10:00"), Minutes: 20}, presession.EINVALID, "25:00"},
		{"bad length", "BG", &presession.Slot{Start: at("12:00"), Minutes: 0}, presession.EINVALID, "not 0"},
		{"unknown country", "FR", &presession.Slot{Start: at("12:00"), Minutes: 10}, presession.ENOTFOUND, "not under review"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.SetSlot(ctx, "upr47", tc.cc, tc.slot, presession.ActorService)
			if presession.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %s containing %q", err, tc.code, tc.want)
			}
		})
	}
	// Croatia is delayed by half an hour; Bulgaria gets a slot.
	if _, err := st.SetSlot(ctx, "upr47", "hr", &presession.Slot{Start: at("10:00"), Minutes: 30, QuestionsURL: "https://meet.example.org/hr"}, presession.ActorMember("m1")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetSlot(ctx, "upr47", "BG", &presession.Slot{Start: at("10:30"), Minutes: 15}, presession.ActorMember("m1")); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, s *programme.Store) {
		t.Helper()
		list, changes, err := s.Programme(ctx, "upr47")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range list {
			got = append(got, e.Country.Code+"@"+e.Slot.Start.In(presession.Geneva).Format("15:04"))
		}
		if strings.Join(got, " ") != "AD@09:00 HR@10:00 BG@10:30" || changes.UpdatedBy != presession.ActorMember("m1") {
			t.Fatalf("programme %v, changed by %s", got, changes.UpdatedBy)
		}
		if slot, err := s.Slot(ctx, "upr47", "hr"); err != nil || slot.QuestionsURL != "https://meet.example.org/hr" {
			t.Fatalf("Croatia's slot %+v, %v", slot, err)
		}
	}
	check(t, programme.NewStore(rdb, blobs, "t:", ss, clock)) // another node
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	again := programme.NewStore(rdb, blobs, "t:", ss, clock)
	if n, err := again.Reindex(ctx); err != nil || n != 1 {
		t.Fatalf("reindex: %d, %v", n, err)
	}
	check(t, again)
}
