#!/usr/bin/env bash
# Builds SeaweedFS's `weed` command, the S3-compatible object store that tests
# and the local cluster use (never a mock), from the Go module pinned in
# go.mod (a `tool` line), and caches it outside the work tree, keyed by a hash
# of go.mod, go.sum and this script, so a second run (or a second checkout)
# reuses it.
#
# Prints the directory holding the binary (`weed`) on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
key="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)"
cache_root="${FLIGHTDECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flightdeck}"
out="$cache_root/seaweedfs-$key"

if [[ -f "$out/.complete" ]]; then
  echo "$out"
  exit 0
fi

# One build at a time: concurrent first builds (several test files, setup and
# a test) would each compile the whole module again, which on two cores
# multiplied a ten-minute build. The others wait here and then find it done.
mkdir -p "$cache_root"
exec 9>"$out.lock"
flock 9
if [[ -f "$out/.complete" ]]; then
  echo "$out"
  exit 0
fi

# Go lives in /usr/local/go on this kind of machine; a non-login shell may not have it on PATH.
[[ -d /usr/local/go/bin ]] && export PATH="/usr/local/go/bin:$PATH"
# A per-process temporary directory: two concurrent first builds (two test
# files) must not write into the same place.
tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
cd "$here"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
echo "building the object store, SeaweedFS's weed (a cold build takes several minutes)…" >&2
go build -trimpath -ldflags='-s -w' -o "$tmp/weed" github.com/seaweedfs/seaweedfs/weed
touch "$tmp/.complete"
# An atomic rename: `mv -T` refuses to move into a directory another build
# has just put in place, and then that one is used.
mv -T "$tmp" "$out" 2>/dev/null || [[ -f "$out/.complete" ]]
echo "$out"
