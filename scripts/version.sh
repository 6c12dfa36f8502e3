#!/usr/bin/env bash
# The build's stamps, for `presession version`, its first log line and
# /healthz: the version (`git describe`: the release tag, with the commits
# since and -dirty for uncommitted changes; the short commit while no tag
# exists), the full commit and the build date (UTC; SOURCE_DATE_EPOCH, when
# set, fixes it for reproducible builds). Outside a git checkout the
# version is "devel" and the commit "unknown".
#
#   scripts/version.sh               version, commit and built, one "key value" a line
#   scripts/version.sh --ldflags     the go build -ldflags that stamp them (scripts/run.sh)
#   scripts/version.sh --build-args  the docker build --build-arg flags (make image)
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=github.com/uprinfo/presession/internal/buildinfo

version=devel
commit=unknown
if git rev-parse --git-dir >/dev/null 2>&1; then
	version=$(git describe --tags --match 'v[0-9]*' --always --dirty)
	commit=$(git rev-parse HEAD)
fi
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	built=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null ||
		date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
	built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi

case "${1:-}" in
"") printf 'version %s\ncommit %s\nbuilt %s\n' "$version" "$commit" "$built" ;;
--ldflags) printf -- '-X %s.version=%s -X %s.commit=%s -X %s.built=%s\n' \
	"$pkg" "$version" "$pkg" "$commit" "$pkg" "$built" ;;
--build-args) printf -- '--build-arg VERSION=%s --build-arg COMMIT=%s --build-arg BUILT=%s\n' \
	"$version" "$commit" "$built" ;;
*)
	echo "usage: $0 [--ldflags | --build-args]" >&2
	exit 2
	;;
esac
