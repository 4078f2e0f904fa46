#!/usr/bin/env bash
# Runs ferry's whole test suite against the local control plane:
#   1. builds the control plane from Go modules once (cached in ~/.cache/ferry/k8s),
#   2. installs Debian's chromium and chromedriver for the browser tests when missing (as root),
#   3. starts the control plane and the test forge (Gitea, dev/forge/gitea.sh) on 127.0.0.1 (or reuses them),
#   4. runs `cargo test` with FERRY_TEST_KUBECONFIG pointing at it.
# The Go build and the cargo build never run at the same time. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash dev/cluster/install.sh
# The web UI tests drive a real browser: Debian's chromium and chromedriver.
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]] && [[ -z "${FERRY_TEST_CHROMEDRIVER:-}" ]]; then
  if (( EUID == 0 )) && command -v apt-get >/dev/null; then
    echo "test: installing chromium and chromium-driver for the browser tests" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
      || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
  else
    echo "test: the browser tests need chromium and chromedriver: sudo apt-get install chromium chromium-driver" >&2
    exit 1
  fi
fi
kubeconfig="$(bash dev/cluster/cluster.sh up)"
export FERRY_TEST_KUBECONFIG="$kubeconfig"
# The real forge the forge tests push to (tests/forge_gitea*.rs): Gitea on 127.0.0.1.
FERRY_TEST_GITEA_ENV="$(bash dev/forge/gitea.sh up)"
export FERRY_TEST_GITEA_ENV
# Most end-to-end tests wait on controllers, not CPU: run several at once.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-6}"
cargo test --locked --no-fail-fast "$@"
