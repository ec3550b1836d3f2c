#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from the Go modules pinned in go.mod
# and caches them outside the work tree, keyed by a hash of go.mod and go.sum,
# so a second run (or a second checkout) reuses them.
#
# Prints the directory holding the binaries on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
key="$(cat "$here/go.mod" "$here/go.sum" "$here"/*.go "$here/build.sh" | sha256sum | cut -c1-16)"
cache_root="${FLIGHTDECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flightdeck}"
version="$(sed -n 's/^\tk8s.io\/kubernetes \(v[^ ]*\).*/\1/p' "$here/go.mod")"
out="$cache_root/kube-$version-$key"
tools=(kube-apiserver kubectl)

if [[ -f "$out/.complete" ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$out.tmp"
cd "$here"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
# Stamp the release into the binaries, as the official build does, so that
# /version and `kubectl version` report it instead of v0.0.0-master.
minor="${version#v1.}"; minor="${minor%%.*}"
pkg=k8s.io/component-base/version
stamp="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
for tool in "${tools[@]}"; do
  echo "building $tool (cold builds take several minutes)…" >&2
  go build -trimpath -ldflags="$stamp" -o "$out.tmp/$tool" "k8s.io/kubernetes/cmd/$tool"
done
echo "building etcd…" >&2
go build -trimpath -ldflags='-s -w' -o "$out.tmp/etcd" .
rm -rf "$out"
mv "$out.tmp" "$out"
touch "$out/.complete"
echo "$out"
