package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/metrics"
	"github.com/uprinfo/presession/token"
)

// playlistLockTTL bounds how long a crashed rebuild blocks the next one.
const playlistLockTTL = time.Minute

var unlockScript = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`)

// handlePlaylist rebuilds a country's playlist once per burst of changes:
// under a per-country lock it skips when a rebuild that started after this
// task's change has already been written, otherwise it reads the current
// change version, rebuilds from the catalog, and records that version as
// built.
func (w *Worker) handlePlaylist(ctx context.Context, t *asynq.Task) error {
	result, err := w.playlist(ctx, t)
	if result == "" {
		result = metrics.PlaylistError
	}
	w.metrics.PlaylistRebuilt(result)
	return err
}

func (w *Worker) playlist(ctx context.Context, t *asynq.Task) (metrics.PlaylistResult, error) {
	var p PlaylistPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return "", fmt.Errorf("playlist task payload: %v: %w", err, asynq.SkipRetry)
	}
	log := w.log.With("task", t.Type(), "session", p.Session, "country", p.Country, "version", p.Version)
	if w.rebuild == nil {
		return "", errors.New("this worker has no playlist rebuilder")
	}
	lock := w.cfg.KeyPrefix + "playlist:lock:" + p.Session + ":" + p.Country
	owner := token.NewID()
	ok, err := w.rdb.SetNX(ctx, lock, owner, playlistLockTTL).Result()
	if err != nil {
		return "", fmt.Errorf("playlist lock: %w", err)
	}
	if !ok {
		return metrics.PlaylistBusy, errBusy
	}
	defer unlockScript.Run(context.WithoutCancel(ctx), w.rdb, []string{lock}, owner)

	builtKey := w.cfg.KeyPrefix + "playlist:built:" + p.Session + ":" + p.Country
	built, err := w.rdb.Get(ctx, builtKey).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("playlist built version: %w", err)
	}
	if built >= p.Version && p.Version > 0 {
		log.Debug("playlist already rebuilt past this change", "built", built)
		return metrics.PlaylistSkipped, nil
	}
	current, err := w.rdb.Get(ctx, w.client.versionKey(p.Session, p.Country)).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("playlist version: %w", err)
	}
	start := time.Now()
	b, err := w.rebuildVersion(ctx, p.Session, p.Country)
	if err != nil {
		if presession.ErrorCode(err) == presession.ENOTFOUND { // the session or country is no longer configured
			return "", fmt.Errorf("rebuild playlist %s/%s: %w: %w", p.Session, p.Country, err, asynq.SkipRetry)
		}
		return "", fmt.Errorf("rebuild playlist %s/%s: %w", p.Session, p.Country, err)
	}
	if err := w.rdb.Set(ctx, builtKey, current, 0).Err(); err != nil {
		return "", fmt.Errorf("playlist built version: %w", err)
	}
	log.Info("playlist rebuilt", "built", current, "took", time.Since(start).Round(time.Millisecond))
	w.tellPlaylist(ctx, log, p, current, b)
	return metrics.PlaylistRebuilt, nil
}

// built is what a rebuild left stored.
type built struct {
	version    string // "" when the rebuilder does not say
	statements int
	changed    bool // this rebuild wrote it
}

// rebuildVersion rebuilds, with what it built when the rebuilder says it.
func (w *Worker) rebuildVersion(ctx context.Context, session, country string) (built, error) {
	if vr, ok := w.rebuild.(VersionedRebuilder); ok {
		var b built
		var err error
		b.version, b.statements, b.changed, err = vr.RebuildVersion(ctx, session, country)
		return b, err
	}
	return built{}, w.rebuild.Rebuild(ctx, session, country)
}

// tellPlaylist tells playlist.updated for a rebuild that stored b (change
// version n). The version last told is kept per country, so a build is
// told once: when this rebuild wrote it, or when a rebuild wrote it but
// stopped before telling (the stored build then already has the version,
// but the one told differs). With no version told yet, a build that was
// already stored (the first rebuild after a start on an empty Redis), and
// a first build that plays nothing (every country's at the first start),
// are recorded as told without telling. Occurrence IDs name the country,
// n and the build, so they differ between builds.
func (w *Worker) tellPlaylist(ctx context.Context, log *slog.Logger, p PlaylistPayload, n int64, b built) {
	version := b.version
	if w.cfg.Occurred == nil || version == "" {
		return
	}
	key := w.cfg.KeyPrefix + "playlist:told:" + p.Session + ":" + p.Country
	told, err := w.rdb.Get(ctx, key).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		log.Warn("playlist told version", "err", err)
		return
	}
	if told != version && (told != "" || b.changed && b.statements > 0) {
		w.cfg.Occurred(ctx, presession.Occurrence{
			ID:   fmt.Sprintf("playlist_%s_%s_%d_%s", p.Session, p.Country, n, version[:min(len(version), 16)]),
			Type: presession.PlaylistUpdated, At: time.Now().UTC().Truncate(time.Second),
			Session: p.Session, Country: p.Country, Version: version})
	}
	if told != version {
		if err := w.rdb.Set(ctx, key, version, 0).Err(); err != nil {
			log.Warn("playlist told version", "err", err)
		}
	}
}
