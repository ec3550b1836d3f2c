#!/usr/bin/env bash
# Builds the Kubernetes binaries (kube-apiserver, kubectl, and for the local
# cluster kube-controller-manager, kube-scheduler, kubelet, kube-proxy) from
# the Go modules pinned in go.mod, etcd, CoreDNS with the plugins the local
# cluster uses (its own module in coredns/, because its dependency graph
# differs from Kubernetes') and the pause program of the sandbox image.
# Caches them outside the work tree, keyed by a hash of the inputs, so a
# second run (or a second checkout) reuses them.
#
# Prints the directory holding the binaries on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
key="$(cat "$here/go.mod" "$here/go.sum" "$here"/*.go "$here/build.sh" \
  "$here/coredns/go.mod" "$here/coredns/go.sum" "$here"/coredns/*.go "$here"/pause/*.go | sha256sum | cut -c1-16)"
cache_root="${FLIGHTDECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flightdeck}"
version="$(sed -n 's/^\tk8s.io\/kubernetes \(v[^ ]*\).*/\1/p' "$here/go.mod")"
out="$cache_root/kube-$version-$key"
tools=(kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy)

if [[ -f "$out/.complete" ]]; then
  echo "$out"
  exit 0
fi

# Two checkouts or test runs may ask for the same build at once: the second
# waits for the first instead of writing into the same temporary directory.
mkdir -p "$cache_root"
exec 9>"$out.lock"
flock 9
if [[ -f "$out/.complete" ]]; then
  echo "$out"
  exit 0
fi

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cd "$here"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
# Stamp the release into the binaries, as the official build does, so that
# /version, `kubectl version` and the nodes' kubelet version report it
# instead of v0.0.0-master.
minor="${version#v1.}"; minor="${minor%%.*}"
pkg=k8s.io/component-base/version
stamp="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
echo "building ${tools[*]} (a cold build takes many minutes)…" >&2
# One go build for all six: they share most packages, and go links them in parallel.
go build -trimpath -ldflags="$stamp" -o "$out.tmp/" "${tools[@]/#/k8s.io/kubernetes/cmd/}"
echo "building etcd…" >&2
go build -trimpath -ldflags='-s -w' -o "$out.tmp/etcd" .
echo "building pause…" >&2
go build -trimpath -ldflags='-s -w' -o "$out.tmp/pause" ./pause
echo "building coredns…" >&2
(cd coredns && go build -trimpath -ldflags='-s -w' -o "$out.tmp/coredns" .)
rm -rf "$out"
mv "$out.tmp" "$out"
touch "$out/.complete"
rm -f "$out.lock"
echo "$out"
