// Package worker runs the service's background work on Asynq: it probes
// each uploaded statement, transcodes it once into its streamable media,
// and rebuilds the per-country playlists when staff change them.
//
// Queues: short tasks (probe, playlist rebuild) run on the "short" queue,
// served by their own Asynq server, so they never wait behind a long
// transcode on the "transcode" queue, whose concurrency is
// WORKER_CONCURRENCY.
//
// Every task is idempotent. Task IDs derive from the statement (or the
// country), so a repeated enqueue while a task is pending is a no-op, and
// handlers check the statement's state before acting, so a task that runs
// twice, or dies half-way and runs again, leaves correct results: outputs
// go to keys that are a pure function of the statement id and rendition,
// and the manifest is written last.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession/media"
)

// Task types.
const (
	TypeProbe     = "statement:probe"
	TypeTranscode = "statement:transcode"
	TypePlaylist  = "playlist:rebuild"
)

// Queues.
const (
	QueueShort     = "short"
	QueueTranscode = "transcode"
)

// StatementPayload names the statement a task works on.
type StatementPayload struct {
	ID string `json:"id"`
	// Duration (seconds) of the probed source, set on transcode tasks so
	// their timeout can follow it.
	Duration float64 `json:"duration,omitempty"`
	// Probe is what the probe task found and validated, set on transcode
	// tasks so the transcode plans from it instead of probing the source
	// again. A transcode task queued before it travelled here has none;
	// the transcode then probes the source itself.
	Probe *media.Info `json:"probe,omitempty"`
}

// PlaylistPayload names the playlist to rebuild and the change version
// that asked for it.
type PlaylistPayload struct {
	Session string `json:"session"`
	Country string `json:"country"`
	Version int64  `json:"version"`
}

// NewProbeTask returns the task that starts processing a statement.
func NewProbeTask(id string) *asynq.Task {
	b, _ := json.Marshal(StatementPayload{ID: id})
	return asynq.NewTask(TypeProbe, b, asynq.Queue(QueueShort), asynq.TaskID("probe:"+id),
		asynq.MaxRetry(8), asynq.Timeout(5*time.Minute))
}

// NewTranscodeTask returns the transcode task of a statement whose source
// probed as info; its timeout is proportional to the media duration.
func NewTranscodeTask(id string, info *media.Info) *asynq.Task {
	b, _ := json.Marshal(StatementPayload{ID: id, Duration: info.Duration, Probe: info})
	return asynq.NewTask(TypeTranscode, b, asynq.Queue(QueueTranscode), asynq.TaskID("transcode:"+id),
		asynq.MaxRetry(4), asynq.Timeout(TranscodeTimeout(info.Duration)))
}

// TranscodeTimeout allows 10 minutes plus 8× the duration: the ladder
// encodes at about 1× realtime on two cores.
func TranscodeTimeout(duration float64) time.Duration {
	return 10*time.Minute + time.Duration(8*duration*float64(time.Second))
}

// NewPlaylistTask returns the rebuild task of a country's playlist for
// change version v.
func NewPlaylistTask(session, country string, v int64) *asynq.Task {
	country = strings.ToUpper(country)
	b, _ := json.Marshal(PlaylistPayload{Session: session, Country: country, Version: v})
	return asynq.NewTask(TypePlaylist, b, asynq.Queue(QueueShort),
		asynq.TaskID(fmt.Sprintf("playlist:%s:%s:%d", session, country, v)),
		asynq.MaxRetry(20), asynq.Timeout(2*time.Minute))
}

// Client enqueues tasks. It is what the upload endpoint and the catalog's
// change hook call.
type Client struct {
	q      *asynq.Client
	rdb    redis.UniversalClient
	prefix string
}

// NewClient returns a client on the Redis of opt. rdb is used for the
// playlist change versions (keys under prefix).
func NewClient(opt asynq.RedisConnOpt, rdb redis.UniversalClient, prefix string) *Client {
	return &Client{q: asynq.NewClient(opt), rdb: rdb, prefix: prefix}
}

// Close closes the Asynq client.
func (c *Client) Close() error { return c.q.Close() }

func (c *Client) enqueue(ctx context.Context, t *asynq.Task) error {
	_, err := c.q.EnqueueContext(ctx, t)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil // the same work is already queued or running
	}
	if err != nil {
		return fmt.Errorf("worker: enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// EnqueueProcess queues the processing of an uploaded statement. Calling
// it again while the statement's task is pending or running is a no-op.
func (c *Client) EnqueueProcess(ctx context.Context, statementID string) error {
	return c.enqueue(ctx, NewProbeTask(statementID))
}

// EnqueuePlaylist records that a country's playlist changed and queues a
// rebuild. Each change gets a version; a rebuild covers every version up
// to the one it read before reading the catalog, so bursts of changes cost
// one rebuild and later tasks of the burst finish at once.
func (c *Client) EnqueuePlaylist(ctx context.Context, session, country string) error {
	v, err := c.rdb.Incr(ctx, c.versionKey(session, country)).Result()
	if err != nil {
		return fmt.Errorf("worker: playlist version: %w", err)
	}
	return c.enqueue(ctx, NewPlaylistTask(session, country, v))
}

func (c *Client) versionKey(session, country string) string {
	return c.prefix + "playlist:ver:" + session + ":" + strings.ToUpper(country)
}
