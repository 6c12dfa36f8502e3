#!/usr/bin/env bash
# The test command (`make test`, which .ci/run calls): installs what is
# missing, checks THIRD_PARTY_NOTICES (scripts/notices.sh --check), starts a
# throwaway redis-server, versitygw and mailpit on free loopback ports, runs go vet
# and the race-enabled test suite against them, and stops what it started,
# also on failure.
#
#   scripts/test.sh            notices check, go vet ./... && go test -race -count=1 ./...
#   scripts/test.sh --bench    the benchmarks instead, with the same services
#
# Developer overrides (environment):
#   PKG='./storage/...'        packages to test (default ./...)
#   TEST_ARGS='-run Foo -v'    extra go test arguments
#   PRESESSION_CACHE=DIR       where versitygw, mailpit and go-licenses are installed (default ~/.cache/presession)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD

mode=test
case "${1:-}" in
--bench) mode=bench ;;
"") ;;
*)
	echo "usage: $0 [--bench]" >&2
	exit 2
	;;
esac

PKG=${PKG:-./...}
TEST_ARGS=${TEST_ARGS:-}
VERSITYGW_VERSION=v1.8.0
MAILPIT_VERSION=v1.33.1
cache=${PRESESSION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/presession}

log() { printf '==> %s\n' "$*" >&2; }

# --- install what is missing ------------------------------------------------

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi

apt_updated=
apt_install() { # apt_install PACKAGE...
	if [ -z "$apt_updated" ]; then
		log "apt-get update"
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		apt_updated=1
	fi
	log "apt-get install $*"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need_pkgs=()
need() { # need BINARY PACKAGE
	command -v "$1" >/dev/null 2>&1 || need_pkgs+=("$2")
}
need ffmpeg ffmpeg
need ffprobe ffmpeg
need redis-server redis-server
need redis-cli redis-tools
need chromium chromium
need node nodejs
need npm npm
need docker-compose docker-compose
need curl curl
if [ "$mode" = bench ]; then
	need nginx nginx # BenchmarkPremiere's baseline: the same bytes served from disk
fi
# The programme's calendar files are read back with Debian's Python icalendar.
/usr/bin/python3 -c 'import icalendar' >/dev/null 2>&1 || need_pkgs+=(python3-icalendar)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	# shellcheck disable=SC2207
	need_pkgs=($(printf '%s\n' "${need_pkgs[@]}" | sort -u))
	apt_install "${need_pkgs[@]}"
fi

versitygw=$cache/bin/versitygw
if [ ! -x "$versitygw" ]; then
	log "go install versitygw@$VERSITYGW_VERSION into $cache/bin (a few minutes, once)"
	mkdir -p "$cache/bin"
	GOBIN=$cache/bin GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
fi

mailpit=$cache/bin/mailpit
if [ ! -x "$mailpit" ]; then
	log "go install mailpit@$MAILPIT_VERSION into $cache/bin (a few minutes, once)"
	mkdir -p "$cache/bin"
	GOBIN=$cache/bin GOFLAGS=-buildvcs=false go install "github.com/axllent/mailpit@$MAILPIT_VERSION"
fi

if [ ! -d e2e/node_modules ] || [ e2e/package-lock.json -nt e2e/node_modules ]; then
	log "npm ci in e2e/"
	(cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	touch e2e/node_modules
fi

# --- licences ------------------------------------------------------------------

# Every dependency's licence allowed and its notice in THIRD_PARTY_NOTICES
# (installs the pinned go-licenses into $cache/bin once).
if [ "$mode" = test ]; then
	log "scripts/notices.sh --check"
	PRESESSION_CACHE=$cache scripts/notices.sh --check
fi

# --- start the services --------------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/presession-test.XXXXXX")
pids=()
cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for() { # wait_for WHAT PID COMMAND...
	local what=$1 pid=$2
	shift 2
	for _ in $(seq 1 200); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "$what exited at start; its log:" >&2
			cat "$tmp/$what.log" >&2 || true
			return 1
		fi
		sleep 0.05
	done
	echo "$what did not answer within 10 s; its log:" >&2
	cat "$tmp/$what.log" >&2 || true
	return 1
}

start_redis() {
	redis_port=$(free_port)
	mkdir -p "$tmp/redis"
	redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
		--databases 1024 --dir "$tmp/redis" --daemonize no >"$tmp/redis.log" 2>&1 &
	pids+=($!)
	wait_for redis $! redis-cli -h 127.0.0.1 -p "$redis_port" ping
}

start_s3() {
	s3_port=$(free_port)
	s3_access=presession-test
	s3_secret=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
	mkdir -p "$tmp/s3"
	"$versitygw" --port "127.0.0.1:$s3_port" --access "$s3_access" --secret "$s3_secret" \
		posix "$tmp/s3" >"$tmp/versitygw.log" 2>&1 &
	pids+=($!)
	wait_for versitygw $! curl -s -o /dev/null "http://127.0.0.1:$s3_port/"
}

start_mailpit() {
	smtp_port=$(free_port)
	mailpit_port=$(free_port)
	"$mailpit" --listen "127.0.0.1:$mailpit_port" --smtp "127.0.0.1:$smtp_port" --smtp-disable-rdns \
		--max 0 --database "$tmp/mailpit.db" --quiet >"$tmp/mailpit.log" 2>&1 &
	pids+=($!)
	wait_for mailpit $! curl -sf -o /dev/null "http://127.0.0.1:$mailpit_port/api/v1/messages"
}

# A port picked free can be taken before the server binds it: retry.
for attempt in 1 2 3; do start_redis && break || [ "$attempt" -lt 3 ]; done
for attempt in 1 2 3; do start_s3 && break || [ "$attempt" -lt 3 ]; done
for attempt in 1 2 3; do start_mailpit && break || [ "$attempt" -lt 3 ]; done
log "redis on 127.0.0.1:$redis_port, versitygw on 127.0.0.1:$s3_port, mailpit SMTP on 127.0.0.1:$smtp_port (API :$mailpit_port)"

export PRESESSION_TEST_REQUIRE=1
export PRESESSION_TEST_REDIS_ADDR=127.0.0.1:$redis_port
export PRESESSION_TEST_S3_ENDPOINT=127.0.0.1:$s3_port
export PRESESSION_TEST_S3_ACCESS_KEY=$s3_access
export PRESESSION_TEST_S3_SECRET_KEY=$s3_secret
export PRESESSION_TEST_NODE_MODULES=$root/e2e
export PRESESSION_TEST_SMTP_ADDR=127.0.0.1:$smtp_port
export PRESESSION_TEST_MAILPIT_API=http://127.0.0.1:$mailpit_port
export PRESESSION_TEST_MAILPIT_BIN=$mailpit

# --- run -------------------------------------------------------------------------

# shellcheck disable=SC2086 # TEST_ARGS and PKG are word lists
if [ "$mode" = bench ]; then
	log "go test -run '^\$' -bench . -benchtime 1x $PKG"
	go test -run '^$' -bench . -benchtime 1x $TEST_ARGS $PKG
else
	log "go vet $PKG"
	go vet $PKG
	log "go test -race -count=1 -timeout 25m $TEST_ARGS $PKG"
	go test -race -count=1 -timeout 25m $TEST_ARGS $PKG
fi
