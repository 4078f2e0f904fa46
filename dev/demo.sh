#!/usr/bin/env bash
# ferry's main job, end to end on this machine: builds (once) and starts the local control
# plane, builds ferry, then plans and syncs examples-repo/ (as committed in this git
# repository) onto it and shows the result the way a user would see it with kubectl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash dev/cluster/install.sh
KUBECONFIG="$(bash dev/cluster/cluster.sh up)"
export KUBECONFIG
cargo build --locked --bin ferry
ferry=target/debug/ferry

echo
echo "\$ ferry plan --repo . --path examples-repo --app examples-repo --prune"
set +e
"$ferry" plan --repo . --path examples-repo --app examples-repo --prune
code=$?
set -e
if (( code > 1 )); then exit "$code"; fi

echo
echo "\$ ferry sync --repo . --path examples-repo --app examples-repo --prune"
"$ferry" sync --repo . --path examples-repo --app examples-repo --prune

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
