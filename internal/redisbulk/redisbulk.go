// Package redisbulk does the bulk Redis work of a reindex, for every
// package that rebuilds its keys from storage: deleting every key of a
// pattern and writing many records in pipelines of bounded size.
package redisbulk

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Batch is how many records one pipeline of Pipelined writes: few round
// trips, no pipeline too large.
const Batch = 200

// Pipelined runs write for each of n records, Batch of them per pipeline.
func Pipelined(ctx context.Context, rdb redis.UniversalClient, n int, write func(p redis.Pipeliner, i int) error) error {
	for lo := 0; lo < n; lo += Batch {
		if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := lo; i < min(lo+Batch, n); i++ {
				if err := write(p, i); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// DeleteMatching removes every key matching the SCAN pattern (quote the
// literal parts with GlobEscape), unlinking 500 at a time.
func DeleteMatching(ctx context.Context, rdb redis.UniversalClient, pattern string) error {
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	var keys []string
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		err := rdb.Unlink(ctx, keys...).Err()
		keys = keys[:0]
		return err
	}
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) >= 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}

// GlobEscape quotes the glob metacharacters of a Redis SCAN pattern.
func GlobEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
