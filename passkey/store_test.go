package passkey

import (
	"context"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
)

// TestChallengesAnswerOnce: a challenge is taken once; Redis holds neither
// the challenge nor a pending sign-in's id, only their hashes.
func TestChallengesAnswerOnce(t *testing.T) {
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	s := &store{rdb: rdb, prefix: "t:"}
	ctx := context.Background()
	const challenge = "c2VjcmV0LWNoYWxsZW5nZS1mb3ItdGVzdHM"
	if err := s.putCeremony(ctx, ceremony{Kind: ceremonyRegister, Member: "m1", Session: webauthn.SessionData{Challenge: challenge}}); err != nil {
		t.Fatal(err)
	}
	pid, err := s.putPending(ctx, pending{Member: "m1", Generation: 3})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "t:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, challenge) || strings.Contains(k, pid) {
			t.Errorf("key %s holds a value a browser presents", k)
		}
		if ttl := rdb.TTL(ctx, k).Val(); ttl <= 0 || ttl > ChallengeTTL {
			t.Errorf("key %s lives %s", k, ttl)
		}
	}
	for i, want := range []string{"", presession.EGONE, presession.EGONE} {
		c, err := s.takeCeremony(ctx, challenge)
		if code := presession.ErrorCode(err); want == "" && err != nil || want != "" && code != want {
			t.Fatalf("take %d: %v, want %q", i, err, want)
		}
		if want == "" && (c.Member != "m1" || c.Kind != ceremonyRegister) {
			t.Errorf("take %d: %+v", i, c)
		}
	}
	for i, take := range []bool{false, true, false} {
		p, err := s.getPending(ctx, hashKey(pid), take)
		switch {
		case i < 2 && (err != nil || p.Member != "m1" || p.Generation != 3):
			t.Errorf("pending %d: %+v %v", i, p, err)
		case i == 2 && presession.ErrorCode(err) != presession.EGONE:
			t.Errorf("pending after taking it: %v, want EGONE", err)
		}
	}
}

func TestPasskeyName(t *testing.T) {
	for _, tc := range []struct {
		in, want, code string
	}{
		{"  Work laptop ", "Work laptop", ""},
		{"Téléphone", "Téléphone", ""},
		{"", "", presession.EINVALID},
		{"   ", "", presession.EINVALID},
		{"two\nlines", "", presession.EINVALID},
		{strings.Repeat("é", maxNameRunes), strings.Repeat("é", maxNameRunes), ""},
		{strings.Repeat("a", maxNameRunes+1), "", presession.EINVALID},
	} {
		got, err := passkeyName(tc.in)
		if got != tc.want || presession.ErrorCode(err) != tc.code && !(tc.code == "" && err == nil) {
			t.Errorf("passkeyName(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.code)
		}
	}
}
