#!/usr/bin/env bash
# THIRD_PARTY_NOTICES: the licence and notice files of every module linked
# into the presession binary, read from the module graph by go-licenses.
#
#   scripts/notices.sh           regenerate THIRD_PARTY_NOTICES
#   scripts/notices.sh --check   fail when THIRD_PARTY_NOTICES is not what
#                                this script writes (a dependency added,
#                                removed or upgraded without its notice), or
#                                when a dependency's licence is outside the
#                                allow-list; `make test` runs this
#
# Installs go-licenses (pinned below) into the cache when it is missing.
# Needs no network beyond the Go module proxy: modules are downloaded
# first, then go-licenses runs with GOPROXY=off and an unreachable HTTP
# proxy, so its licence URL look-ups (unused here) fail at once.
#
# Environment: PRESESSION_CACHE=DIR  where go-licenses is installed
#              (default ~/.cache/presession, as for scripts/test.sh)
set -euo pipefail

cd "$(dirname "$0")/.."

# go-licenses v1.6.0 is its last v1 release; it builds with Go 1.26. (v2.0.1
# classifies the Apache-2.0 header that go-jmespath ships as its LICENSE as
# Unknown.)
GO_LICENSES_VERSION=v1.6.0
ALLOWED="Apache-2.0 BSD-2-Clause BSD-3-Clause ISC MIT MPL-2.0"
# Libraries accepted by name under a licence outside the allow-list, each
# reviewed: library=licence. Both come inside miniredis (the embedded Redis):
# fpconv, Redis's float formatting ported from C, under the Boost Software
# License 1.0 (permissive; it asks for its text only with source copies);
# gopher-json, under the Unlicense (a public-domain dedication).
EXCEPTIONS="github.com/alicebob/miniredis/v2/fpconv=BSL-1.0 github.com/alicebob/miniredis/v2/gopher-json=Unlicense"
# The images are linux; the module graph is the same for amd64 and arm64.
TARGET_OS=linux
TARGET_ARCH=amd64
MAIN=./cmd/presession
OUT=THIRD_PARTY_NOTICES
# npm packages whose code the binary serves to browsers, each as
# name|version|licence|licence file in this tree (the package's own, copied
# with its code): hls.js plays the live premieres where a browser has no
# HLS of its own that can (playlist/assets/hls.min.js, checked against
# e2e/'s copy of the same release by playlist's TestVendoredHlsJS);
# tus-js-client speaks tus for the upload page
# (upload/static/vendor/tus-js-client/, written by scripts/vendor.sh from
# the tarball e2e/package-lock.json names, checked by upload's
# TestVendoredTus).
BUNDLED="hls.js|1.7.4|Apache-2.0|playlist/assets/hls.js.LICENSE tus-js-client|4.3.1|MIT|upload/static/vendor/tus-js-client/LICENSE"

mode=write
case "${1:-}" in
--check) mode=check ;;
"") ;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

cache=${PRESESSION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/presession}
log() { printf '==> %s\n' "$*" >&2; }

golicenses=$cache/bin/go-licenses
if ! go version -m "$golicenses" 2>/dev/null | grep -q "mod[[:space:]]*github.com/google/go-licenses[[:space:]]*$GO_LICENSES_VERSION"; then
	log "go install go-licenses@$GO_LICENSES_VERSION into $cache/bin (once)"
	mkdir -p "$cache/bin"
	GOBIN=$cache/bin GOFLAGS=-buildvcs=false go install "github.com/google/go-licenses@$GO_LICENSES_VERSION"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/presession-notices.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

export GOOS=$TARGET_OS GOARCH=$TARGET_ARCH
# The modules the binary links, from the proxy if they are not cached yet.
go list -deps "$MAIN" >/dev/null

# One line per library (a package tree under one licence file):
# name|module version|licence|licence file.
printf '%s\n' '{{range .}}{{.Name}}|{{.Version}}|{{.LicenseName}}|{{.LicensePath}}' '{{end}}' >"$tmp/list.tpl"
if ! env GOPROXY=off HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= no_proxy= \
	"$golicenses" report --template "$tmp/list.tpl" --ignore github.com/uprinfo/presession "$MAIN" \
	>"$tmp/list.raw" 2>"$tmp/go-licenses.log"; then
	cat "$tmp/go-licenses.log" >&2
	echo "go-licenses report failed" >&2
	exit 1
fi
grep -v '^$' "$tmp/list.raw" | LC_ALL=C sort -t'|' -k1,1 >"$tmp/list"

# Every licence in the allow-list, every library with a licence file.
bad=0
while IFS='|' read -r name version licence path; do
	if [ -z "$path" ]; then
		echo "$name $version: no licence file found" >&2
		bad=1
	elif [[ " $ALLOWED " != *" $licence "* && " $EXCEPTIONS " != *" $name=$licence "* ]]; then
		echo "$name $version: licence $licence is not in the allow-list ($ALLOWED)" >&2
		bad=1
	fi
done <"$tmp/list"
if [ "$bad" -ne 0 ]; then
	echo "Not every dependency of $MAIN is under an allowed licence; see above." >&2
	exit 1
fi

rule() { printf '%s\n' "--------------------------------------------------------------------------------"; }

{
	cat <<EOF
THIRD-PARTY NOTICES FOR PRESESSION

presession itself is licensed under the Apache License, Version 2.0 (see
LICENSE; SPDX-License-Identifier: Apache-2.0). The presession binary, and so
the Docker image, which carries this file in /usr/share/doc/presession/, also
contains the software listed below, each under its own licence, reproduced
here with the notice files it ships.

This file is generated by scripts/notices.sh from the module graph of
$MAIN ($TARGET_OS/$TARGET_ARCH) with github.com/google/go-licenses
$GO_LICENSES_VERSION. Do not edit it by hand: run scripts/notices.sh after
changing go.mod. \`make test\` fails when it is out of date, or when a
dependency's licence is not in the allow-list:

  $ALLOWED

or accepted for that library by name, after review:

$(printf '  %s\n' $EXCEPTIONS)

Not part of the binary, and not listed below:

- ffmpeg and ffprobe. presession runs them as separate programs (it starts
  the ffmpeg and ffprobe found on PATH); it does not link them, and the
  source tree does not contain them. The Docker image installs Debian's
  ffmpeg package, whose licences (LGPL-2.1+ and GPL-2+ as Debian builds
  it) are in /usr/share/doc/ffmpeg/copyright in the image, like those of
  every other Debian package there.
- npm packages other than those listed below. The upload, watch and
  staff pages' scripts and styles are presession's own, except hls.js
  (dist/hls.min.js, served unchanged to the watch page) and tus-js-client
  (dist/tus.min.js, served unchanged to the upload page), which are listed
  with the libraries below. The other packages in e2e/ (playwright-core,
  axe-core, and tus-js-client as a Node client) are test-only clients;
  they are neither shipped nor served.
- Go modules needed only by tests.

Index (licence, library, module version):

EOF
	printf '  %-12s  %s\n' "BSD-3-Clause" "Go standard library and runtime"
	while IFS='|' read -r name version licence _; do
		printf '  %-12s  %s %s\n' "$licence" "$name" "$version"
	done <"$tmp/list"
	for b in $BUNDLED; do
		IFS='|' read -r name version licence _ <<<"$b"
		printf '  %-12s  %s %s (npm, served to browsers)\n' "$licence" "$name" "$version"
	done

	printf '\n'
	rule
	printf 'Go standard library and runtime (the Go toolchain that builds the binary)\n'
	printf 'Licence: BSD-3-Clause (LICENSE)\n'
	rule
	printf '\n'
	cat "$(go env GOROOT)/LICENSE"

	while IFS='|' read -r name version licence path; do
		printf '\n'
		rule
		printf '%s %s\n' "$name" "$version"
		printf 'Licence: %s (%s)\n' "$licence" "${path#*@"$version"/}"
		rule
		printf '\n'
		cat "$path"
		# Apache-2.0 section 4(d): a NOTICE file travels with the work.
		for n in "$(dirname "$path")"/NOTICE "$(dirname "$path")"/NOTICE.txt "$(dirname "$path")"/NOTICE.md; do
			if [ -f "$n" ]; then
				printf '\n%s:\n\n' "$(basename "$n")"
				cat "$n"
			fi
		done
	done <"$tmp/list"

	for b in $BUNDLED; do
		IFS='|' read -r name version licence file <<<"$b"
		printf '\n'
		rule
		printf '%s %s (npm)\n' "$name" "$version"
		printf 'Licence: %s (%s)\n' "$licence" "$file"
		rule
		printf '\n'
		cat "$file"
		if [ "$name" = tus-js-client ]; then
			cat <<EOF

tus-js-client's browser build (tus.min.js) bundles, as browserify packed
them: js-base64 (BSD-3-Clause), url-parse, querystringify and requires-port
(MIT), the buffer polyfill with base64-js and ieee754 (MIT, MIT,
BSD-3-Clause), and regenerator-runtime (MIT); their notices are those of
their npm packages.
EOF
		fi
	done
} >"$tmp/$OUT"

if [ "$mode" = write ]; then
	cp "$tmp/$OUT" "$OUT"
	log "wrote $OUT ($(wc -l <"$tmp/list") libraries)"
	exit 0
fi

if ! cmp -s "$tmp/$OUT" "$OUT"; then
	echo "$OUT is not what scripts/notices.sh writes for the current go.mod:" >&2
	if [ -f "$OUT" ]; then
		diff -u "$OUT" "$tmp/$OUT" | head -60 >&2 || true
	else
		echo "($OUT is missing)" >&2
	fi
	echo "Run scripts/notices.sh and commit $OUT." >&2
	exit 1
fi
log "$OUT lists every dependency of $MAIN; every licence is allowed"
