#!/usr/bin/env bash
# Fetches the upstream files the tests read but the repository never commits
# (Linode's OpenAPI descriptions and the Helm charts), for machines that have
# no ../shared beside the checkout and no PLATFORM_SHARED_DIR.
# Usage: hack/fetch-shared.sh [destination]   (default: the user cache)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

# Already present? Then there is nothing to do.
if [ -n "${PLATFORM_SHARED_DIR:-}" ] && [ -f "$PLATFORM_SHARED_DIR/linode-api/openapi.yaml" ]; then
  echo "shared files: $PLATFORM_SHARED_DIR"; exit 0
fi
if [ -f "$here/../shared/linode-api/openapi.yaml" ] && [ -f "$here/../shared/charts/index.yaml" ]; then
  echo "shared files: $(cd "$here/../shared" && pwd)"; exit 0
fi

dest=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/platform/shared}
if [ -f "$dest/linode-api/openapi.yaml" ] && [ -f "$dest/charts/index.yaml" ]; then
  echo "shared files: $dest"; exit 0
fi
mkdir -p "$dest/linode-api" "$dest/charts"
fetch() { # url file
  echo "fetch $1"
  curl -fsSL --retry 3 -o "$2.part" "$1" && mv "$2.part" "$2"
}
# linode/linode-api-docs at the commits recorded in shared/linode-api/README.md.
fetch https://raw.githubusercontent.com/linode/linode-api-docs/40e7c7d2/openapi.yaml "$dest/linode-api/openapi.yaml"
fetch https://raw.githubusercontent.com/linode/linode-api-docs/dde9f34a/openapi.yaml "$dest/linode-api/openapi-4.176.yaml"
# The upstream chart releases, as listed in shared/charts/README.md.
while read -r url; do
  fetch "$url" "$dest/charts/$(basename "$url")"
done <<'URLS'
https://github.com/kubernetes/ingress-nginx/releases/download/helm-chart-4.15.1/ingress-nginx-4.15.1.tgz
https://charts.jetstack.io/charts/cert-manager-v1.21.1.tgz
https://github.com/prometheus-community/helm-charts/releases/download/kube-prometheus-stack-88.5.3/kube-prometheus-stack-88.5.3.tgz
https://github.com/grafana-community/helm-charts/releases/download/loki-18.11.0/loki-18.11.0.tgz
https://github.com/open-telemetry/opentelemetry-helm-charts/releases/download/opentelemetry-collector-0.170.0/opentelemetry-collector-0.170.0.tgz
https://github.com/bitnami-labs/sealed-secrets/releases/download/helm-v2.18.5/sealed-secrets-2.18.5.tgz
https://github.com/argoproj/argo-helm/releases/download/argo-cd-10.1.1/argo-cd-10.1.1.tgz
URLS
(cd "$here" && go run ./hack/chartindex "$dest/charts")
echo "shared files: $dest"
