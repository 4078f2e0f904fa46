#!/usr/bin/env bash
# Builds the local control plane used by ferry's tests and demo from Go modules, once:
#   kube-apiserver, kube-controller-manager, kube-scheduler  (k8s.io/kubernetes @ KUBE_VERSION)
#   etcd                                                      (go.etcd.io/etcd/server/v3 @ ETCD_VERSION)
#   kwok                                                      (sigs.k8s.io/kwok @ KWOK_VERSION)
#   toxiproxy-server, toxiproxy-cli (fault injection in tests) (github.com/Shopify/toxiproxy/v2 @ TOXIPROXY_VERSION)
#   kustomize, helm (the renderers ferry runs)                 (sigs.k8s.io/kustomize/kustomize/v5 @ KUSTOMIZE_VERSION,
#                                                               helm.sh/helm/v4 @ HELM_VERSION)
#   gitea (the forge tests push to, dev/forge/gitea.sh)        (code.gitea.io/gitea @ GITEA_VERSION)
# into ${FERRY_K8S_CACHE:-~/.cache/ferry/k8s}/<KUBE_VERSION>/bin (Gitea's runtime files in
# bin/gitea-data, so running it needs no Go module cache). A stamp file records the pins;
# when it matches and every binary is present, the script exits at once.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${FERRY_K8S_CACHE:-$HOME/.cache/ferry/k8s}"
bin_dir="$cache_root/$KUBE_VERSION/bin"
stamp="$bin_dir/.stamp"
want_stamp="kube=$KUBE_VERSION staging=$KUBE_STAGING_VERSION etcd=$ETCD_VERSION kwok=$KWOK_VERSION toxiproxy=$TOXIPROXY_VERSION kustomize=$KUSTOMIZE_VERSION helm=$HELM_VERSION gitea=$GITEA_VERSION"
# What a Gitea built without the bindata tag reads from disk at run time (its STATIC_ROOT_PATH).
gitea_data=(options templates)
components=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok toxiproxy-server toxiproxy-cli kustomize helm gitea)

all_present() {
  for c in "${components[@]}"; do [[ -x "$bin_dir/$c" ]] || return 1; done
  for d in "${gitea_data[@]}"; do [[ -d "$bin_dir/gitea-data/$d" ]] || return 1; done
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]
}

if all_present; then
  echo "ferry control plane: binaries present in $bin_dir ($want_stamp)"
  exit 0
fi

command -v go >/dev/null || { echo "install.sh: Go is required (https://go.dev) but 'go' is not on PATH" >&2; exit 1; }
mkdir -p "$bin_dir"
rm -f "$stamp"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local
start_all=$(date +%s)

fail() { # component, log file
  echo "install.sh: building $1 failed; Go said:" >&2
  tail -n 40 "$2" >&2
  exit 1
}

step() { echo "[$(date +%H:%M:%S)] $*"; }

# ---- kubernetes components ------------------------------------------------------------
build_kube() {
  local mod="$work/kube"
  mkdir -p "$mod"
  step "resolving k8s.io/kubernetes $KUBE_VERSION and its staging modules"
  local kube_mod
  kube_mod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')" \
    || { echo "install.sh: could not download k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }
  {
    echo "module ferry.dev/local-control-plane"
    echo
    # Same language version and GODEBUG defaults as the release itself is built with.
    grep -E '^(go|godebug) ' "$kube_mod"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    # k8s.io/kubernetes replaces its staging modules with ./staging/... which only works inside
    # its own repository; pin each one to the version published with this release instead.
    grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$kube_mod" \
      | awk -v v="$KUBE_STAGING_VERSION" '{print "replace " $1 " => " $1 " " v}'
  } >"$mod/go.mod"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    if [[ -x "$bin_dir/$c" && -f "$bin_dir/.$c.version" && "$(cat "$bin_dir/.$c.version")" == "$KUBE_VERSION" ]]; then
      step "$c $KUBE_VERSION already built"; continue
    fi
    step "building $c $KUBE_VERSION"
    local t0=$(date +%s)
    local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
    local ld="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    (cd "$mod" && go build -trimpath -ldflags "$ld" -o "$bin_dir/$c.tmp" "k8s.io/kubernetes/cmd/$c") \
      >"$work/$c.log" 2>&1 || fail "$c" "$work/$c.log"
    mv "$bin_dir/$c.tmp" "$bin_dir/$c"
    echo "$KUBE_VERSION" >"$bin_dir/.$c.version"
    step "built $c in $(( $(date +%s) - t0 ))s"
  done
}

# ---- etcd -----------------------------------------------------------------------------
build_etcd() {
  if [[ -x "$bin_dir/etcd" && -f "$bin_dir/.etcd.version" && "$(cat "$bin_dir/.etcd.version")" == "$ETCD_VERSION" ]]; then
    step "etcd $ETCD_VERSION already built"; return
  fi
  local mod="$work/etcd"
  mkdir -p "$mod"
  step "building etcd $ETCD_VERSION"
  local t0=$(date +%s)
  cat >"$mod/go.mod" <<GOMOD
module ferry.dev/local-etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

// etcd's server module replaces its siblings with ../ paths; pin them to the same release.
replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
GOMOD
  (cd "$mod" && go build -trimpath -ldflags "-s -w" -o "$bin_dir/etcd.tmp" go.etcd.io/etcd/server/v3) \
    >"$work/etcd.log" 2>&1 || fail etcd "$work/etcd.log"
  mv "$bin_dir/etcd.tmp" "$bin_dir/etcd"
  echo "$ETCD_VERSION" >"$bin_dir/.etcd.version"
  step "built etcd in $(( $(date +%s) - t0 ))s"
}

# ---- kwok -----------------------------------------------------------------------------
build_kwok() {
  if [[ -x "$bin_dir/kwok" && -f "$bin_dir/.kwok.version" && "$(cat "$bin_dir/.kwok.version")" == "$KWOK_VERSION" ]]; then
    step "kwok $KWOK_VERSION already built"; return
  fi
  step "building kwok $KWOK_VERSION"
  local t0=$(date +%s)
  (cd "$work" && GOBIN="$work/gobin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION") \
    >"$work/kwok.log" 2>&1 || fail kwok "$work/kwok.log"
  mv "$work/gobin/kwok" "$bin_dir/kwok"
  echo "$KWOK_VERSION" >"$bin_dir/.kwok.version"
  step "built kwok in $(( $(date +%s) - t0 ))s"
}

# ---- toxiproxy ------------------------------------------------------------------------
# A TCP proxy with switchable faults (latency, timeouts, resets, bandwidth) that
# tests/faults.rs puts between ferry and kube-apiserver / a git daemon. Small: ~1 min cold.
build_toxiproxy() {
  if [[ -x "$bin_dir/toxiproxy-server" && -x "$bin_dir/toxiproxy-cli" && -f "$bin_dir/.toxiproxy.version" \
        && "$(cat "$bin_dir/.toxiproxy.version")" == "$TOXIPROXY_VERSION" ]]; then
    step "toxiproxy $TOXIPROXY_VERSION already built"; return
  fi
  step "building toxiproxy $TOXIPROXY_VERSION"
  local t0=$(date +%s) mod=github.com/Shopify/toxiproxy/v2
  # The same version stamp upstream's release build sets (GET /version answers it).
  (cd "$work" && GOBIN="$work/gobin" go install -trimpath -ldflags "-s -w -X $mod.Version=${TOXIPROXY_VERSION#v}" \
      "$mod/cmd/server@$TOXIPROXY_VERSION" "$mod/cmd/cli@$TOXIPROXY_VERSION") \
    >"$work/toxiproxy.log" 2>&1 || fail toxiproxy "$work/toxiproxy.log"
  mv "$work/gobin/server" "$bin_dir/toxiproxy-server"
  mv "$work/gobin/cli" "$bin_dir/toxiproxy-cli"
  echo "$TOXIPROXY_VERSION" >"$bin_dir/.toxiproxy.version"
  step "built toxiproxy in $(( $(date +%s) - t0 ))s"
}

# ---- renderers ------------------------------------------------------------------------
# kustomize stamps its version from the module's build info; helm from -X like its Makefile.
build_kustomize() {
  if [[ -x "$bin_dir/kustomize" && -f "$bin_dir/.kustomize.version" && "$(cat "$bin_dir/.kustomize.version")" == "$KUSTOMIZE_VERSION" ]]; then
    step "kustomize $KUSTOMIZE_VERSION already built"; return
  fi
  step "building kustomize $KUSTOMIZE_VERSION"
  local t0=$(date +%s)
  (cd "$work" && GOBIN="$work/gobin" go install -trimpath -ldflags "-s -w" \
      "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION") \
    >"$work/kustomize.log" 2>&1 || fail kustomize "$work/kustomize.log"
  mv "$work/gobin/kustomize" "$bin_dir/kustomize"
  echo "$KUSTOMIZE_VERSION" >"$bin_dir/.kustomize.version"
  step "built kustomize in $(( $(date +%s) - t0 ))s"
}

build_helm() {
  if [[ -x "$bin_dir/helm" && -f "$bin_dir/.helm.version" && "$(cat "$bin_dir/.helm.version")" == "$HELM_VERSION" ]]; then
    step "helm $HELM_VERSION already built"; return
  fi
  step "building helm $HELM_VERSION"
  local t0=$(date +%s) v=helm.sh/helm/v4/internal/version
  (cd "$work" && GOBIN="$work/gobin" go install -trimpath \
      -ldflags "-s -w -X $v.version=$HELM_VERSION -X $v.gitTreeState=clean" \
      "helm.sh/helm/v4/cmd/helm@$HELM_VERSION") \
    >"$work/helm.log" 2>&1 || fail helm "$work/helm.log"
  mv "$work/gobin/helm" "$bin_dir/helm"
  echo "$HELM_VERSION" >"$bin_dir/.helm.version"
  step "built helm in $(( $(date +%s) - t0 ))s"
}

# ---- gitea ----------------------------------------------------------------------------
# The forge the tests push to and take webhooks and commit statuses from (dev/forge/gitea.sh).
# Gitea's module is published as code.gitea.io/gitea but its go.mod says `module gitea.dev`
# and has replace lines, so `go install` cannot build it: a wrapper module requires gitea.dev,
# points it at code.gitea.io/gitea and repeats gitea's own replace lines. CGO off: SQLite is
# the pure-Go driver. No bindata tag: Gitea reads options/ and templates/ from disk, copied
# here from the module so a run needs no Go module cache.
build_gitea() {
  local data_ok=1 d
  for d in "${gitea_data[@]}"; do [[ -d "$bin_dir/gitea-data/$d" ]] || data_ok=0; done
  if [[ -x "$bin_dir/gitea" && -f "$bin_dir/.gitea.version" && "$(cat "$bin_dir/.gitea.version")" == "$GITEA_VERSION" ]] \
      && (( data_ok )); then
    step "gitea $GITEA_VERSION already built"; return
  fi
  local mod="$work/gitea"
  mkdir -p "$mod"
  step "building gitea $GITEA_VERSION"
  local t0=$(date +%s) info gitea_mod gitea_dir
  info="$(go mod download -json "code.gitea.io/gitea@$GITEA_VERSION")" \
    || { echo "install.sh: could not download code.gitea.io/gitea@$GITEA_VERSION" >&2; exit 1; }
  gitea_mod="$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$info")"
  gitea_dir="$(sed -n 's/.*"Dir": "\(.*\)".*/\1/p' <<<"$info")"
  {
    echo "module ferry.dev/local-gitea"
    echo
    grep -E '^(go|godebug) ' "$gitea_mod"
    echo
    echo "require gitea.dev $GITEA_VERSION"
    echo
    echo "replace gitea.dev => code.gitea.io/gitea $GITEA_VERSION"
    # Gitea's own pins (single-line or in a block), comments stripped.
    awk '/^replace[ \t]*\($/ {block = 1; next}
         block && /^\)/      {block = 0; next}
         block               {sub(/[ \t]*\/\/.*/, ""); if (NF) print "replace " $0; next}
         /^replace /         {sub(/[ \t]*\/\/.*/, ""); print}' "$gitea_mod"
  } >"$mod/go.mod"
  (cd "$mod" && go build -trimpath -ldflags "-s -w -X main.Version=${GITEA_VERSION#v}" \
      -o "$bin_dir/gitea.tmp" gitea.dev) \
    >"$work/gitea.log" 2>&1 || fail gitea "$work/gitea.log"
  rm -rf "$bin_dir/gitea-data"
  mkdir -p "$bin_dir/gitea-data"
  for d in "${gitea_data[@]}"; do cp -R "$gitea_dir/$d" "$bin_dir/gitea-data/$d"; done
  chmod -R u+w "$bin_dir/gitea-data" # the module cache is read-only
  mv "$bin_dir/gitea.tmp" "$bin_dir/gitea"
  echo "$GITEA_VERSION" >"$bin_dir/.gitea.version"
  step "built gitea in $(( $(date +%s) - t0 ))s"
}

build_etcd
build_kwok
build_toxiproxy
build_kustomize
build_helm
build_gitea
build_kube

echo "$want_stamp" >"$stamp"
step "control plane ready in $bin_dir after $(( $(date +%s) - start_all ))s:"
ls -la "$bin_dir" | awk 'NR>1 && $1 !~ /^d/ && $9 !~ /^\./ {printf "  %-26s %6.1f MiB\n", $9, $5/1048576}'
