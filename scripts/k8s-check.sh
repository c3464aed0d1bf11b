#!/usr/bin/env bash
# k8s-check.sh — make test-k8s: build each kustomize overlay and validate
# every object with kubeconform -strict against JSON schemas generated
# offline from the k8s.io/kubernetes module's OpenAPI spec, then run the
# policy test (probes, limits, non-root, pinned tags, PDBs, spread).
#
# Settings (environment):
#   RECMESH_CACHE   tools (schemas go beside it, in ../k8s-schemas)   default ~/.cache/recmesh/bin
#   K8S_VERSION     the API version checked  default v1.32.4
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${RECMESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recmesh/bin}
K8S_VERSION=${K8S_VERSION:-v1.32.4}
SCHEMAS=$(dirname "$CACHE")/k8s-schemas/$K8S_VERSION
say() { printf 'k8s-check: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

mkdir -p "$CACHE"
[ -x "$CACHE/kustomize" ] || { say "installing kustomize v5.8.2 (once)"; GOBIN=$CACHE go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2; }
[ -x "$CACHE/kubeconform" ] || { say "installing kubeconform v0.7.0 (once)"; GOBIN=$CACHE go install github.com/yannh/kubeconform/cmd/kubeconform@v0.7.0; }
if [ ! -s "$SCHEMAS/deployment-apps-v1.json" ]; then
  say "generating schemas from k8s.io/kubernetes@$K8S_VERSION (once)"
  dir=$(GONOSUMDB=k8s.io/kubernetes GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -f "$dir/api/openapi-spec/swagger.json" ] || die "k8s.io/kubernetes@$K8S_VERSION could not be downloaded"
  (cd cmd/recmesh && go run ./internal/k8spolicy/schemagen -swagger "$dir/api/openapi-spec/swagger.json" -out "$SCHEMAS")
fi
for overlay in k8s/overlays/*/; do
  say "kubeconform -strict $overlay"
  "$CACHE/kustomize" build "$overlay" |
    "$CACHE/kubeconform" -strict -summary -schema-location "$SCHEMAS/{{.ResourceKind}}{{.KindSuffix}}.json" -
done
(cd cmd/recmesh && RECMESH_KUSTOMIZE=$CACHE/kustomize RECMESH_REQUIRE_DEPS=1 go test -count=1 ./internal/k8spolicy/)
