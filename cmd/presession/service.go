package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// roles says which parts of the service a process runs.
type roles struct{ http, workers bool }

// runService starts the configured roles and blocks until ctx is done,
// then shuts them down gracefully.
func runService(ctx context.Context, cfg config.Config, log *slog.Logger, stderr io.Writer, r roles) error {
	if err := cfg.LoadSecrets(); err != nil {
		return configError{err}
	}
	sessions, err := loadSessions(cfg)
	if err != nil {
		return err
	}
	if cfg.Embedded() || cfg.EmbeddedStorage() {
		log.Info("running on the embedded default: "+embeddedWhat(cfg)+"; set REDIS_URL and S3_ENDPOINT (see README) to use real Redis and S3",
			"data_dir", cfg.DataDir)
	} else {
		log.Info("running on Redis and S3", "redis", cfg.Redis.Addr, "s3", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket)
	}
	if cfg.GeneratedStaffToken {
		fmt.Fprintf(stderr, "\n  Staff token (shown once; also saved in %s/staff-token):\n  %s\n\n", cfg.DataDir, cfg.StaffToken.Reveal())
	}

	redisOpts := cfg.Redis
	if cfg.Embedded() {
		m, err := startEmbeddedRedis()
		if err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		defer m.Close()
		redisOpts = &redis.Options{Addr: m.Addr()}
	}
	rdb := redis.NewClient(redisOpts)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("REDIS_URL: cannot reach Redis at %s: %w", redisOpts.Addr, err)
	}

	signer := token.NewSigner([]byte(cfg.Secret.Reveal()))
	bundle, err := i18n.Load()
	if err != nil {
		return err
	}
	auth := &web.Auth{Signer: signer, StaffToken: cfg.StaffToken.Reveal()}
	site, err := web.NewSite(sessions, bundle, auth, log)
	if err != nil {
		return err
	}

	errc := make(chan error, 2)
	var srv *http.Server
	if r.http {
		mux := http.NewServeMux()
		home, err := site.Home()
		if err != nil {
			return err
		}
		mux.Handle("GET /{$}", home)
		mux.Handle("GET /static/", web.Static())
		healthz, readyz := site.Health([]web.Check{
			{Name: "redis", Fn: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
			web.BinaryCheck("ffmpeg"), web.BinaryCheck("ffprobe"),
		})
		mux.Handle("GET /healthz", healthz)
		mux.Handle("GET /readyz", readyz)
		mux.Handle("/", home) // everything unknown: a 404 in the site's shape

		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return configError{fmt.Errorf("PRESESSION_ADDR: cannot listen on %s: %v", cfg.Addr, err)}
		}
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		log.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if srv != nil {
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("http shutdown", "err", err)
		}
	}
	return nil
}

func embeddedWhat(cfg config.Config) string {
	switch {
	case cfg.Embedded() && cfg.EmbeddedStorage():
		return "in-process Redis and storage in " + cfg.StorageDir()
	case cfg.Embedded():
		return "in-process Redis"
	default:
		return "storage in " + cfg.StorageDir()
	}
}

func runReindex(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	return errors.New("reindex rebuilds the catalog in Redis from the statement manifests in storage; it is wired in with the catalog (issue 5)")
}
