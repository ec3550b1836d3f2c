#!/usr/bin/env bash
# Builds helm from the Go module pinned in go.mod and caches it outside the
# work tree, keyed by a hash of go.mod, go.sum and this script, so a second run
# (or a second checkout) reuses it. Beside it goes the Prometheus Operator's
# ServiceMonitor CRD, from that project's Go module (pinned below), which the
# chart's optional ServiceMonitor is checked against in the tests.
#
# Prints the directory holding the binary on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
key="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)"
cache_root="${FLIGHTDECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flightdeck}"
version="$(sed -n 's/^\thelm.sh\/helm\/v3 \(v[^ ]*\).*/\1/p' "$here/go.mod")"
out="$cache_root/helm-$version-$key"
prometheus_operator=github.com/prometheus-operator/prometheus-operator@v0.85.0
servicemonitor_crd=example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml

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
# Stamp the release as helm's Makefile does: `helm version` reports it, and the
# Kubernetes version that `helm template` and `helm lint` assume without a
# cluster (.Capabilities.KubeVersion) follows the client-go helm is built
# with (client-go v0.N → Kubernetes 1.N) instead of the source default, 1.20.
client_go="$(sed -n 's/^\tk8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$here/go.mod")"
stamp="-s -w -X helm.sh/helm/v3/internal/version.version=$version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  stamp+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$client_go"
done
echo "building helm $version (a cold build takes a minute or two)…" >&2
go build -trimpath -ldflags="$stamp" -o "$tmp/helm" helm.sh/helm/v3/cmd/helm
echo "fetching the ServiceMonitor CRD ($prometheus_operator)…" >&2
# Outside any module and without GOFLAGS: only the module's files are wanted, go.mod stays as it is.
module_dir="$(cd / && GOFLAGS= go mod download -json "$prometheus_operator" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
cp "$module_dir/$servicemonitor_crd" "$tmp/"
touch "$tmp/.complete"
# An atomic rename: `mv -T` refuses to move into a directory another build
# has just put in place, and then that one is used.
mv -T "$tmp" "$out" 2>/dev/null || [[ -f "$out/.complete" ]]
echo "$out"
