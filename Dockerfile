# syntax=docker/dockerfile:1
#
# presession: one image for every role (all | serve | worker | invite |
# viewer-link | reindex | version). Build with BuildKit (the default builder
# since Docker 23), stamping the version, commit and build date that
# `presession version`, the first log line and /healthz report (the context
# has no .git, so they come in as build arguments; without them the image
# says "devel"):
#
#   make image    # docker build $(scripts/version.sh --build-args) -t presession:local .
#
# Not built on the development machines (no Docker engine there); the
# structure is checked by deploy/compose_test.go.

# --- build --------------------------------------------------------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not re-download them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# The version stamps (scripts/version.sh), declared here so that a new
# commit only rebuilds from this step on.
ARG VERSION=""
ARG COMMIT=""
ARG BUILT=""
# CGO off: a static binary (the embedded Redis is pure Go), so the runtime
# stage needs no Go toolchain or libc match.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w \
        -X github.com/uprinfo/presession/internal/buildinfo.version=${VERSION} \
        -X github.com/uprinfo/presession/internal/buildinfo.commit=${COMMIT} \
        -X github.com/uprinfo/presession/internal/buildinfo.built=${BUILT}" \
      -o /out/presession ./cmd/presession

# --- runtime ------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# ffmpeg/ffprobe: the transcoder (the service's one outside requirement).
# ca-certificates: TLS to AWS S3 or any S3_USE_SSL=true endpoint.
# curl: for HEALTHCHECK. slim has neither curl nor wget, and the binary has
#   no health subcommand. curl is ~0.5 MB and libcurl's dependencies
#   (gnutls, librtmp, ssh, ...) are mostly pulled by ffmpeg already; wget
#   would add ~3.5 MB.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ffmpeg ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid so volume ownership is predictable across hosts and
# Kubernetes' runAsNonRoot can check it.
RUN groupadd --system --gid 10001 presession \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin presession \
 && mkdir -p /data \
 && chown 10001:10001 /data

COPY --from=build /out/presession /usr/local/bin/presession
# The licence and the notices of everything linked into the binary travel
# with it.
COPY --from=build /src/LICENSE /src/THIRD_PARTY_NOTICES /usr/share/doc/presession/

ARG VERSION=""
ARG COMMIT=""
ARG BUILT=""
LABEL org.opencontainers.image.title="presession" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${BUILT}"

# /data: embedded storage (when S3_ENDPOINT is unset), generated secrets
# (when PRESESSION_SECRET / PRESESSION_STAFF_TOKEN are unset) and per-task
# transcode work files (always; size it for a few uploads).
ENV PRESESSION_DATA_DIR=/data \
    PRESESSION_ADDR=:8080
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8080

# Liveness of every role (a `worker` serves /healthz, /readyz and /metrics
# only). Shell form so the port follows PRESESSION_ADDR (":8080" -> 8080).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${PRESESSION_ADDR##*:}/healthz" || exit 1

ENTRYPOINT ["presession"]
CMD ["all"]
