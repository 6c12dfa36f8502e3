#!/usr/bin/env bash
# The browser code bundled into the pages: tus-js-client's own browser
# build, at the version e2e/package-lock.json pins (the same copy the
# end-to-end tests use as a Node client), copied with its licence into
# upload/static/vendor/tus-js-client/, which the binary embeds.
#
#   scripts/vendor.sh    fetch the package tarball through npm, check it
#                        against the integrity the lock file names, and
#                        write dist/tus.min.js and LICENSE from it
#
# To upgrade: change the version in e2e/package.json, `npm install` in
# e2e/ (which rewrites the lock), run this script, then scripts/notices.sh,
# and commit all of it. upload's TestVendoredTus fails while the embedded
# file is not the one the lock names.
set -euo pipefail

cd "$(dirname "$0")/.."

PKG=tus-js-client
OUT=upload/static/vendor/$PKG
FILES="dist/tus.min.js LICENSE"

log() { printf '==> %s\n' "$*" >&2; }

read -r version integrity < <(node -e '
  const lock = require("./e2e/package-lock.json");
  const p = lock.packages["node_modules/" + process.argv[1]];
  if (!p) { console.error("no " + process.argv[1] + " in e2e/package-lock.json"); process.exit(1); }
  console.log(p.version + " " + p.integrity);
' "$PKG")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/presession-vendor.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

log "npm pack $PKG@$version"
(cd "$tmp" && npm pack "$PKG@$version" --silent >/dev/null)
tgz=$tmp/$PKG-$version.tgz
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$integrity" ]; then
	echo "$PKG@$version: tarball integrity $got, but e2e/package-lock.json names $integrity" >&2
	exit 1
fi

mkdir -p "$tmp/x" "$OUT"
tar -xzf "$tgz" -C "$tmp/x"
for f in $FILES; do
	cp "$tmp/x/package/$f" "$OUT/$(basename "$f")"
done
log "wrote $OUT ($PKG $version, $integrity)"
