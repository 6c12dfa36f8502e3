package redisbulk_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession/internal/redisbulk"
	"github.com/uprinfo/presession/internal/testenv"
)

// TestPipelinedThenDeleteMatching: Pipelined writes every record, over
// several pipelines; DeleteMatching removes every key of its pattern, more
// than one batch of them, and no other key, also when the literal part of
// the pattern holds glob metacharacters.
func TestPipelinedThenDeleteMatching(t *testing.T) {
	ctx := context.Background()
	rdb := redis.NewClient(testenv.RedisDB(t))
	defer rdb.Close()
	for _, tc := range []struct{ prefix, other string }{
		{"t:", "u:"},
		{"a*[b]?\\:", "ax[b]y\\:"}, // the other prefix matches the unquoted pattern
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			const n = 2*redisbulk.Batch + 7
			if err := redisbulk.Pipelined(ctx, rdb, n, func(p redis.Pipeliner, i int) error {
				p.Set(ctx, fmt.Sprintf("%sk%d", tc.prefix, i), i, 0)
				p.Set(ctx, fmt.Sprintf("%sk%d", tc.other, i), i, 0)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if got := rdb.DBSize(ctx).Val(); got != 2*n {
				t.Fatalf("after Pipelined: %d keys, want %d", got, 2*n)
			}
			if err := redisbulk.DeleteMatching(ctx, rdb, redisbulk.GlobEscape(tc.prefix)+"*"); err != nil {
				t.Fatal(err)
			}
			if got := rdb.DBSize(ctx).Val(); got != n {
				t.Fatalf("after DeleteMatching: %d keys, want the other prefix's %d", got, n)
			}
			if rdb.Exists(ctx, tc.other+"k0").Val() != 1 {
				t.Fatalf("%sk0 was deleted", tc.other)
			}
			rdb.FlushDB(ctx)
		})
	}
}

// TestPipelinedStops: the first error of write is returned.
func TestPipelinedStops(t *testing.T) {
	rdb := redis.NewClient(testenv.RedisDB(t))
	defer rdb.Close()
	want := fmt.Errorf("record 3 is bad")
	err := redisbulk.Pipelined(context.Background(), rdb, 5, func(p redis.Pipeliner, i int) error {
		if i == 3 {
			return want
		}
		return nil
	})
	if err != want {
		t.Fatalf("Pipelined: %v, want %v", err, want)
	}
}
