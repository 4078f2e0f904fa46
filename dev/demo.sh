#!/usr/bin/env bash
# ferry's main job, end to end on this machine: builds (once) and starts the local control
# plane, builds ferry, then plans and syncs the three apps of examples-repo/ (plain YAML, a
# Kustomize overlay, a Helm chart; as committed in this git repository) onto it and shows the
# result the way a user would see it with kubectl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash dev/cluster/install.sh
KUBECONFIG="$(bash dev/cluster/cluster.sh up)"
export KUBECONFIG
cargo build --locked --bin ferry
ferry=target/debug/ferry

# examples-repo/ferry.yaml holds three apps: plain YAML, a Kustomize overlay, a Helm chart.
config=examples-repo/ferry.yaml
# The renderers: the pinned builds install.sh made, unless the caller names others.
tools="$(bash dev/cluster/cluster.sh bin-dir)"
export FERRY_KUSTOMIZE_BIN="${FERRY_KUSTOMIZE_BIN:-$tools/kustomize}"
export FERRY_HELM_BIN="${FERRY_HELM_BIN:-$tools/helm}"

for app in examples-repo log-shipper cache; do
  echo
  echo "\$ ferry plan -f $config --app $app"
  set +e
  "$ferry" plan -f "$config" --app "$app"
  code=$?
  set -e
  if (( code > 1 )); then exit "$code"; fi

  echo
  echo "\$ ferry sync -f $config --app $app"
  "$ferry" sync -f "$config" --app "$app"
done

echo
echo "\$ kubectl get daemonsets,statefulsets,jobs -A -l app.kubernetes.io/managed-by=ferry"
sleep 3
kubectl get daemonsets,statefulsets,jobs -A -l app.kubernetes.io/managed-by=ferry
echo
echo "\$ kubectl rollout history daemonset/fluentd -n logging"
kubectl rollout history daemonset/fluentd -n logging
echo
echo "The local control plane keeps running (KUBECONFIG=$KUBECONFIG)."
echo "Stop it with: bash dev/cluster/cluster.sh down"
echo "See it in the web UI: $ferry serve -f $config, then open http://127.0.0.1:8080/"
