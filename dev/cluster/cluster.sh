#!/usr/bin/env bash
# ferry's local Kubernetes control plane: real etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok (simulated nodes and pod lifecycle), all on 127.0.0.1.
#
#   dev/cluster/cluster.sh up [--nodes N]   start (or reuse) the cluster; prints the kubeconfig path
#   dev/cluster/cluster.sh down             stop exactly the processes `up` started
#   dev/cluster/cluster.sh status           show components, nodes, and the kubeconfig path
#   dev/cluster/cluster.sh kubeconfig       print the kubeconfig path (exit 1 when not running)
#   dev/cluster/cluster.sh bin-dir          print where install.sh put the pinned tools (kustomize, helm…)
#   dev/cluster/cluster.sh stop-apiserver   stop kube-apiserver only (fault tests, on a private
#   dev/cluster/cluster.sh start-apiserver  cluster: FERRY_CLUSTER_DIR=...) / start it again
#
# State (certs, kubeconfig, etcd data, logs, pid files) lives in ${FERRY_CLUSTER_DIR:-~/.cache/ferry/cluster}.
# Binaries come from dev/cluster/install.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
bin_dir="${FERRY_K8S_CACHE:-$HOME/.cache/ferry/k8s}/$KUBE_VERSION/bin"
state="${FERRY_CLUSTER_DIR:-$HOME/.cache/ferry/cluster}"
kubeconfig="$state/kubeconfig"
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { echo "[cluster $(date +%H:%M:%S)] $*" >&2; }
die() { echo "cluster.sh: $*" >&2; exit 1; }

pid_alive() { [[ -f "$state/pids/$1" ]] && kill -0 "$(cat "$state/pids/$1")" 2>/dev/null; }

running() {
  for c in "${components[@]}"; do pid_alive "$c" || return 1; done
  [[ -f "$kubeconfig" ]] && kubectl --kubeconfig "$kubeconfig" --request-timeout=5s get --raw /readyz >/dev/null 2>&1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_for() { # description, timeout seconds, command...
  local what="$1" timeout="$2"; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) > deadline )); then
      die "timed out after ${timeout}s waiting for $what (logs in $state/logs)"
    fi
    sleep 0.3
  done
}

gen_certs() {
  local pki="$state/pki"
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=ferry-local-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null
    # kube-apiserver serving cert: loopback plus the in-cluster names of the kubernetes Service.
    cat >apiserver.ext <<EXT
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
EXT
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    # Client certs: the admin (system:masters) and each component under its own identity so
    # RBAC sees the same users a real cluster has.
    # file|CN|O
    for who in "admin|admin|system:masters" \
               "kube-controller-manager|system:kube-controller-manager|" \
               "kube-scheduler|system:kube-scheduler|" \
               "kwok|kwok|system:masters"; do
      local file cn org subj
      IFS='|' read -r file cn org <<<"$who"
      subj="/CN=$cn"; [[ -n "$org" ]] && subj="/O=$org/CN=$cn"
      echo "extendedKeyUsage=clientAuth" >client.ext
      openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$file.key" -out "$file.csr" 2>/dev/null
      openssl x509 -req -in "$file.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile client.ext -out "$file.crt" 2>/dev/null
    done
    # Service-account token signing key pair.
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.csr ./*.ext ca.srl
  )
}

write_kubeconfig() { # file, user-cert-basename, server
  local file="$1" who="$2" server="$3"
  cat >"$file" <<KC
apiVersion: v1
kind: Config
clusters:
- name: ferry-local
  cluster:
    server: $server
    certificate-authority: $state/pki/ca.crt
users:
- name: $who
  user:
    client-certificate: $state/pki/$who.crt
    client-key: $state/pki/$who.key
contexts:
- name: ferry-local
  context:
    cluster: ferry-local
    user: $who
current-context: ferry-local
KC
}

start() { # name, args...
  local name="$1"; shift
  "$bin_dir/$name" "$@" >"$state/logs/$name.log" 2>&1 &
  echo $! >"$state/pids/$name"
}

create_nodes() {
  local n="$1" i name
  {
    for (( i = 0; i < n; i++ )); do
      if (( i == 0 )); then name="kwok-control-plane"; else name="kwok-worker-$i"; fi
      cat <<NODE
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
NODE
      # One worker carries the label the examples' node-exporter selects.
      if (( i == 1 )); then echo "    type: platform-tools"; fi
      if (( i == 0 )); then
        cat <<NODE
    node-role.kubernetes.io/control-plane: ""
spec:
  taints:
  - key: node-role.kubernetes.io/control-plane
    effect: NoSchedule
NODE
      fi
      echo "---"
    done
  } | kubectl --kubeconfig "$kubeconfig" apply -f - >/dev/null
}

# The hostPath provisioner of kube-controller-manager (--enable-hostpath-provisioner) backs
# this default StorageClass, so StatefulSet volumeClaimTemplates get bound PVs without a CSI
# driver. The PVs are API objects only: no pod ever mounts anything on this machine.
storage_class() {
  kubectl --kubeconfig "$kubeconfig" apply -f - >/dev/null <<SC
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
SC
}

cmd_up() {
  local nodes=3
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --nodes) nodes="$2"; shift 2 ;;
      *) die "unknown flag for up: $1" ;;
    esac
  done
  if running; then
    log "already running (kubeconfig: $kubeconfig)"
    echo "$kubeconfig"
    return
  fi
  for c in "${components[@]}"; do
    [[ -x "$bin_dir/$c" ]] || die "$c is not built; run: bash dev/cluster/install.sh"
  done
  cmd_down >/dev/null 2>&1 || true
  local t0; t0=$(date +%s)
  rm -rf "$state"; mkdir -p "$state/logs" "$state/pids" "$state/etcd"
  log "generating certificates"
  gen_certs

  local etcd_port etcd_peer api_port kcm_port sched_port kwok_port
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port)
  kcm_port=$(free_port); sched_port=$(free_port); kwok_port=$(free_port)
  local server="https://127.0.0.1:$api_port"
  write_kubeconfig "$kubeconfig" admin "$server"
  write_kubeconfig "$state/controller-manager.kubeconfig" kube-controller-manager "$server"
  write_kubeconfig "$state/scheduler.kubeconfig" kube-scheduler "$server"
  write_kubeconfig "$state/kwok.kubeconfig" kwok "$server"

  log "starting etcd on 127.0.0.1:$etcd_port"
  start etcd --name ferry --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "ferry=http://127.0.0.1:$etcd_peer" --listen-metrics-urls "" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn
  wait_for "etcd" 30 curl -sf "http://127.0.0.1:$etcd_port/health"

  log "starting kube-apiserver on $server"
  local pki="$state/pki"
  local api_args=(
    --etcd-servers "http://127.0.0.1:$etcd_port"
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port"
    --endpoint-reconciler-type none
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key"
    --client-ca-file "$pki/ca.crt"
    --service-account-issuer https://kubernetes.default.svc.cluster.local
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key"
    --service-cluster-ip-range 10.96.0.0/16
    --authorization-mode RBAC
    --allow-privileged=true
    --profiling=false
    --v=1
  )
  # Kept so stop-apiserver / start-apiserver can restart it exactly as it was.
  printf '%q ' "${api_args[@]}" >"$state/kube-apiserver.args"
  start kube-apiserver "${api_args[@]}"
  wait_for "kube-apiserver /readyz" 60 kubectl --kubeconfig "$kubeconfig" --request-timeout=2s get --raw /readyz

  log "starting kube-controller-manager, kube-scheduler, kwok"
  start kube-controller-manager \
    --kubeconfig "$state/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$state/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --use-service-account-credentials=true \
    --enable-hostpath-provisioner=true \
    --leader-elect=false \
    --concurrent-daemonset-syncs 5 --concurrent-statefulset-syncs 5 --concurrent-job-syncs 5 \
    --profiling=false --v=1
  start kube-scheduler \
    --kubeconfig "$state/scheduler.kubeconfig" \
    --authentication-kubeconfig "$state/scheduler.kubeconfig" \
    --authorization-kubeconfig "$state/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched_port" \
    --leader-elect=false --profiling=false --v=1
  start kwok \
    --kubeconfig "$state/kwok.kubeconfig" \
    --config "$here/kwok-stages.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-ip 127.0.0.1 --cidr 10.244.0.0/16 \
    --node-lease-duration-seconds 40 \
    --server-address "127.0.0.1:$kwok_port"

  wait_for "the default ServiceAccount" 60 kubectl --kubeconfig "$kubeconfig" -n default get serviceaccount default
  storage_class
  log "creating $nodes kwok nodes"
  create_nodes "$nodes"
  wait_for "$nodes Ready nodes" 60 bash -c \
    "[[ \$(kubectl --kubeconfig '$kubeconfig' get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}' | grep -c True) -ge $nodes ]]"
  # Nodes start tainted not-ready; the node lifecycle controller lifts that once it sees Ready.
  wait_for "the not-ready taints to be lifted" 60 bash -c \
    "! kubectl --kubeconfig '$kubeconfig' get nodes -o jsonpath='{.items[*].spec.taints[*].key}' | grep -q node.kubernetes.io/not-ready"
  log "ready in $(( $(date +%s) - t0 ))s: $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION, $nodes nodes"
  echo "$kubeconfig"
}

stop_component() { # name; returns 1 when it was not running
  local pid
  pid_alive "$1" || { rm -f "$state/pids/$1"; return 1; }
  pid="$(cat "$state/pids/$1")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$state/pids/$1"
}

cmd_down() {
  local stopped=0 c
  for c in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    if stop_component "$c"; then stopped=$((stopped + 1)); fi
  done
  log "stopped $stopped component(s)"
}

cmd_stop_apiserver() {
  [[ -f "$state/kube-apiserver.args" ]] || die "no cluster in $state"
  stop_component kube-apiserver || die "kube-apiserver was not running"
  log "stopped kube-apiserver"
}

cmd_start_apiserver() {
  [[ -f "$state/kube-apiserver.args" ]] || die "no cluster in $state"
  pid_alive kube-apiserver && die "kube-apiserver is already running"
  local api_args
  eval "api_args=($(cat "$state/kube-apiserver.args"))"
  start kube-apiserver "${api_args[@]}"
  wait_for "kube-apiserver /readyz" 60 kubectl --kubeconfig "$kubeconfig" --request-timeout=2s get --raw /readyz
  log "started kube-apiserver"
}

cmd_status() {
  local c
  for c in "${components[@]}"; do
    if pid_alive "$c"; then printf '%-24s running (pid %s)\n' "$c" "$(cat "$state/pids/$c")"
    else printf '%-24s stopped\n' "$c"; fi
  done
  if running; then
    echo "kubeconfig: $kubeconfig"
    kubectl --kubeconfig "$kubeconfig" get nodes -o wide
  else
    return 1
  fi
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kubeconfig) running && echo "$kubeconfig" ;;
  bin-dir) echo "$bin_dir" ;;
  stop-apiserver) cmd_stop_apiserver ;;
  start-apiserver) cmd_start_apiserver ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
