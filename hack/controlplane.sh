#!/usr/bin/env bash
# Builds the binaries of a local Kubernetes control plane for integration
# tests and the embedded default (internal/controlplane): kube-apiserver,
# kube-controller-manager, kube-scheduler, etcd and kwok, all from the Go
# module proxy.
#
# Each component goes into a cache directory outside the checkout, keyed by
# component, version and Go version:
#
#   ${PLATFORM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/platform}/controlplane/<component>-<version>-<goversion>/<binary>
#
# A component whose binary is already there, built with the same recipe
# (flags, recorded in .recipe beside it), is skipped, so the script is
# idempotent and cheap to run before every test run. Components are built one
# after another: a cold kube-apiserver build alone takes about 13 minutes on 2
# cores. A binary appears in the cache only once it is complete (built to a
# temporary name, then renamed), and a lock serialises concurrent runs.
#
# Versions come from tools/k8s/go.mod (k8s.io/kubernetes), tools/etcd/go.mod
# (go.etcd.io/etcd/server/v3) and KWOK_VERSION below; the harness's constants
# are checked against them by its tests.
set -euo pipefail

KWOK_VERSION=v0.8.0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${PLATFORM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/platform}/controlplane
goversion=$(go env GOVERSION)
k8s_version=$(go -C "$root/tools/k8s" list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(go -C "$root/tools/etcd" list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
buildflags=(-trimpath "-ldflags=-s -w")

# The Kubernetes binaries report the version that these variables hold (the
# release tooling sets them; plain go build leaves v0.0.0-master), and clients
# such as Helm check it against a chart's kubeVersion.
k8s_minor=${k8s_version#v*.}
k8s_minor=${k8s_minor%%.*}
k8s_ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
	k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done

mkdir -p "$cache"
exec 9>"$cache/.lock"
if ! flock -n 9; then
	echo "controlplane: another build holds $cache/.lock; waiting" >&2
	flock 9
fi

log() { printf 'controlplane: %s\n' "$*" >&2; }

# fmt_secs prints a duration in seconds as "Xm Ys".
fmt_secs() { printf '%dm %02ds' $(($1 / 60)) $(($1 % 60)); }

# build COMPONENT VERSION BINARY RECIPE COMMAND... runs COMMAND with $out set
# to a temporary path that COMMAND must write the binary to, unless the binary
# is already cached with the same RECIPE (a description of how it is built);
# then moves it into place and records RECIPE.
build() {
	local component=$1 version=$2 binary=$3 recipe=$4
	shift 4
	local dir="$cache/$component-$version-$goversion"
	if [[ -x "$dir/$binary" && "$(cat "$dir/.recipe" 2>/dev/null)" == "$recipe" ]]; then
		log "$component $version ($goversion): cached at $dir/$binary"
		return 0
	fi
	mkdir -p "$dir"
	out="$dir/.$binary.tmp.$$"
	log "$component $version ($goversion): building"
	local start=$SECONDS
	if ! "$@"; then
		rm -f "$out"
		log "$component $version: build failed after $(fmt_secs $((SECONDS - start)))"
		return 1
	fi
	mv -f "$out" "$dir/$binary"
	printf '%s\n' "$recipe" >"$dir/.recipe"
	log "$component $version: built in $(fmt_secs $((SECONDS - start))) -> $dir/$binary"
}

k8s_build() { go -C "$root/tools/k8s" build -trimpath "-ldflags=$k8s_ldflags" -o "$out" "k8s.io/kubernetes/cmd/$1"; }
etcd_build() { go -C "$root/tools/etcd" build "${buildflags[@]}" -o "$out" .; }

# kwok_build installs kwok into a scratch GOBIN (go install cannot name its
# output) and copies beside it the Stage YAMLs that kwok needs to act as a
# kubelet; they ship inside the kwok module itself.
kwok_build() {
	local gobin rc=0
	gobin=$(mktemp -d)
	kwok_install "$gobin" || rc=$?
	rm -rf "$gobin"
	return $rc
}

kwok_install() {
	local gobin=$1
	(cd "$gobin" && GOBIN="$gobin" GOFLAGS= go install "${buildflags[@]}" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION") || return 1
	local mod
	mod=$(cd "$gobin" && GOFLAGS= go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -d "$mod" ]] || { log "kwok: module directory not found"; return 1; }
	local stages
	stages="$(dirname "$out")/stages"
	rm -rf "$stages" && mkdir -p "$stages"
	local f
	for f in node/fast/node-initialize.yaml \
		node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
		pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
		cp "$mod/kustomize/stage/$f" "$stages/" || return 1
	done
	chmod -R u+w "$stages"
	mv "$gobin/kwok" "$out"
}

total=$SECONDS
k8s_recipe="go build -trimpath -ldflags=$k8s_ldflags"
other_recipe="go build ${buildflags[*]}"
build kube-apiserver "$k8s_version" kube-apiserver "$k8s_recipe" k8s_build kube-apiserver
build kube-controller-manager "$k8s_version" kube-controller-manager "$k8s_recipe" k8s_build kube-controller-manager
build kube-scheduler "$k8s_version" kube-scheduler "$k8s_recipe" k8s_build kube-scheduler
build etcd "$etcd_version" etcd "$other_recipe" etcd_build
build kwok "$KWOK_VERSION" kwok "$other_recipe; stages: fast node, heartbeat-with-lease, fast pod" kwok_build
log "all components ready in $cache ($(fmt_secs $((SECONDS - total))))"
