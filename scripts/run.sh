#!/usr/bin/env bash
# The run command (`make run`): starts presession on the embedded default
# (in-process Redis, storage under ./data), installing ffmpeg first when it
# is missing. Extra arguments go to presession (e.g. `make run ARGS=serve`).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
	sudo=()
	[ "$(id -u)" -ne 0 ] && sudo=(sudo)
	echo "==> apt-get install ffmpeg (presession runs ffmpeg and ffprobe)" >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
fi
mkdir -p bin
# Stamped with the version, commit and build date (`presession version`).
go build -ldflags "$(scripts/version.sh --ldflags)" -o bin/presession ./cmd/presession
exec bin/presession "$@"
