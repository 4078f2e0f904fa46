#!/usr/bin/env bash
# A real Gitea forge on 127.0.0.1 for ferry's tests: HTTP and Gitea's built-in SSH server on
# free loopback ports, SQLite, an admin, a user `dev` who can push to the organisation
# `platform`, a repository `platform/cluster`, an SSH key for `dev` and a known_hosts file.
#
#   dev/forge/gitea.sh up       start (or reuse) Gitea; prints the path of its env file
#   dev/forge/gitea.sh down     stop exactly the process `up` started
#   dev/forge/gitea.sh status   show whether it runs, its URL and the env file
#   dev/forge/gitea.sh env      print the env file path (exit 1 when not running)
#
# The env file (KEY=VALUE, mode 0600) names files for every secret; tokens and passwords are
# never printed. State (app.ini, SQLite, repositories, keys, logs, pid file) lives in
# ${FERRY_GITEA_DIR:-~/.cache/ferry/gitea}. The binary comes from dev/cluster/install.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cluster/versions.env
source "$here/../cluster/versions.env"
bin_dir="${FERRY_K8S_CACHE:-$HOME/.cache/ferry/k8s}/$KUBE_VERSION/bin"
gitea="$bin_dir/gitea"
state="${FERRY_GITEA_DIR:-$HOME/.cache/ferry/gitea}"
env_file="$state/gitea.env"
app_ini="$state/app.ini"
admin=ferry-admin user=dev org=platform repo=cluster

log() { echo "[gitea $(date +%H:%M:%S)] $*" >&2; }
die() { echo "gitea.sh: $*" >&2; exit 1; }

pid_alive() { [[ -f "$state/gitea.pid" ]] && kill -0 "$(cat "$state/gitea.pid")" 2>/dev/null; }

env_value() { sed -n "s/^$1=//p" "$env_file" 2>/dev/null; }

# Running, complete (the env file is written last) and serving the pinned version.
running() {
  pid_alive && [[ -f "$env_file" ]] || return 1
  curl -sf --noproxy '*' --max-time 5 "$(env_value GITEA_URL)api/v1/version" | grep -q "\"${GITEA_VERSION#v}\""
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_for() { # description, timeout seconds, command...
  local what="$1" timeout="$2"; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    pid_alive || die "gitea exited while waiting for $what (logs in $state/log)"
    (( $(date +%s) <= deadline )) || die "timed out after ${timeout}s waiting for $what (logs in $state/log)"
    sleep 0.2
  done
}

g() { "$gitea" --config "$app_ini" --work-path "$state" "$@"; }

# One REST call. The credentials go to curl as a config file on a pipe (never in its argv);
# the JSON body on stdin. Prints the response body; a failure dies with the status and body
# (error bodies carry no secrets).
api() { # credentials ("user = a:b" or "header = ..."), method, path, [json body]
  local creds="$1" method="$2" path="$3" body="${4:-}" out
  if ! out="$(printf '%s' "$body" | curl -sS --noproxy '*' --max-time 30 --fail-with-body -X "$method" \
        -K <(printf '%s\n' "$creds") -H 'Content-Type: application/json' -H 'Accept: application/json' \
        ${body:+--data-binary @-} "$url/api/v1$path")"; then
    die "$method /api/v1$path failed: $out"
  fi
  printf '%s' "$out"
}

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

secret_file() { # name, value: a 0600 file in $state/secrets, its path printed
  (umask 077; printf '%s\n' "$2" >"$state/secrets/$1")
  echo "$state/secrets/$1"
}

write_app_ini() { # http port, ssh port
  local http_port="$1" ssh_port="$2" secret_key internal_token as_root=""
  if (( EUID == 0 )); then
    # Gitea refuses root unless told; CI containers run everything as root, and this forge is
    # disposable and listens on loopback only.
    as_root="I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true"
  fi
  secret_key="$("$gitea" generate secret SECRET_KEY)"
  internal_token="$("$gitea" generate secret INTERNAL_TOKEN)"
  (umask 077; cat >"$app_ini" <<INI
APP_NAME = ferry test forge
RUN_MODE = prod
WORK_PATH = $state
$as_root

[server]
PROTOCOL = http
DOMAIN = 127.0.0.1
HTTP_ADDR = 127.0.0.1
HTTP_PORT = $http_port
ROOT_URL = http://127.0.0.1:$http_port/
APP_DATA_PATH = $state/data
; Built without bindata: options/ and templates/ come from install.sh's copy.
STATIC_ROOT_PATH = $bin_dir/gitea-data
OFFLINE_MODE = true
LFS_START_SERVER = false
DISABLE_SSH = false
START_SSH_SERVER = true
SSH_DOMAIN = 127.0.0.1
SSH_LISTEN_HOST = 127.0.0.1
SSH_PORT = $ssh_port
SSH_LISTEN_PORT = $ssh_port
BUILTIN_SSH_SERVER_USER = git
SSH_USER = git
; One ed25519 host key made by up (no RSA keys generated at start), so known_hosts is one line.
SSH_SERVER_HOST_KEYS = $state/data/ssh/gitea.ed25519

[database]
DB_TYPE = sqlite3
PATH = $state/data/gitea.db
SQLITE_JOURNAL_MODE = WAL

[security]
INSTALL_LOCK = true
SECRET_KEY = $secret_key
INTERNAL_TOKEN = $internal_token
; Outgoing requests (webhook deliveries) to 127.0.0.1 only: the tests' receivers, ferry serve.
ALLOWED_HOST_LIST = loopback

[repository]
ROOT = $state/data/repositories
DEFAULT_BRANCH = main
DEFAULT_PRIVATE = private

[repository.signing]
SIGNING_KEY = none

[service]
DISABLE_REGISTRATION = true
REGISTER_EMAIL_CONFIRM = false
ENABLE_NOTIFY_MAIL = false
DEFAULT_KEEP_EMAIL_PRIVATE = true

[mailer]
ENABLED = false

[webhook]
DELIVER_TIMEOUT = 5

[queue]
; In-memory channels: a level (LevelDB) queue polls an idle queue with backoff up to 2 s, so
; a push's webhook could wait seconds; a channel hands it over at once (100 ms batch debounce).
TYPE = channel

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[session]
PROVIDER = memory

[oauth2]
ENABLED = false

[actions]
ENABLED = false

[packages]
ENABLED = false

[mirror]
ENABLED = false

[api]
ENABLE_SWAGGER = false

[cron.update_checker]
ENABLED = false

[log]
MODE = file
LEVEL = Info
ROOT_PATH = $state/log
INI
  )
}

cmd_up() {
  if running; then
    log "already running at $(env_value GITEA_URL) (env: $env_file)"
    echo "$env_file"
    return
  fi
  [[ -x "$gitea" ]] || die "gitea is not built; run: bash dev/cluster/install.sh"
  for tool in curl python3 openssl ssh-keygen ssh-keyscan git; do
    command -v "$tool" >/dev/null || die "$tool is required but not on PATH"
  done
  cmd_down >/dev/null 2>&1 || true
  local t0; t0=$(date +%s%N)
  rm -rf "$state"
  umask 077 # keys, secrets, the database and repositories: this user only
  mkdir -p "$state/data/ssh" "$state/log" "$state/secrets" "$state/keys"
  chmod 700 "$state"

  local http_port ssh_port
  http_port=$(free_port); ssh_port=$(free_port)
  while [[ "$ssh_port" == "$http_port" ]]; do ssh_port=$(free_port); done
  url="http://127.0.0.1:$http_port"
  ssh-keygen -q -t ed25519 -N '' -C "ferry-gitea-host" -f "$state/data/ssh/gitea.ed25519"
  write_app_ini "$http_port" "$ssh_port"

  log "migrating the database"
  g migrate >"$state/log/setup.log" 2>&1 || die "gitea migrate failed (see $state/log/setup.log)"
  local admin_pw user_pw
  admin_pw="$(openssl rand -hex 20)"; user_pw="$(openssl rand -hex 20)"
  secret_file admin-password "$admin_pw" >/dev/null
  # --password is in this command's argv for its second of life (no --password-file exists).
  g admin user create --admin --username "$admin" --email "$admin@ferry.test" \
      --password "$admin_pw" --must-change-password=false >>"$state/log/setup.log" 2>&1 \
    || die "creating the admin failed (see $state/log/setup.log)"

  log "starting gitea web on $url (ssh on 127.0.0.1:$ssh_port)"
  GITEA_WORK_DIR="$state" "$gitea" web --config "$app_ini" --work-path "$state" \
    </dev/null >"$state/log/stdout.log" 2>&1 &
  echo $! >"$state/gitea.pid"
  wait_for "GET /api/v1/version" 60 curl -sf --noproxy '*' "$url/api/v1/version"

  log "creating tokens, $user, $org/$repo and the SSH key"
  local admin_basic="user = \"$admin:$admin_pw\"" admin_token user_token
  admin_token="$(api "$admin_basic" POST "/users/$admin/tokens" \
    '{"name":"ferry-tests","scopes":["write:admin","write:organization","write:repository","write:user","write:issue","write:misc"]}' \
    | json_field sha1)"
  local as_admin="header = \"Authorization: token $admin_token\""
  api "$as_admin" POST /admin/users \
    "{\"username\":\"$user\",\"email\":\"$user@ferry.test\",\"password\":\"$user_pw\",\"must_change_password\":false}" >/dev/null
  user_token="$(api "user = \"$user:$user_pw\"" POST "/users/$user/tokens" \
    '{"name":"ferry-tests","scopes":["write:repository","write:user","read:organization","write:issue"]}' \
    | json_field sha1)"
  api "$as_admin" POST /orgs "{\"username\":\"$org\",\"visibility\":\"public\"}" >/dev/null
  # A team with write access to every repository of the organisation, present and future,
  # so the tests' per-test repositories are pushable by dev without one more call each.
  local team_id
  team_id="$(api "$as_admin" POST "/orgs/$org/teams" \
    '{"name":"deployers","permission":"write","includes_all_repositories":true,"can_create_org_repo":false,"units":["repo.code","repo.issues","repo.pulls","repo.releases"],"units_map":{"repo.code":"write","repo.issues":"write","repo.pulls":"write","repo.releases":"write"}}' \
    | json_field id)"
  api "$as_admin" PUT "/teams/$team_id/members/$user" >/dev/null
  api "$as_admin" POST "/orgs/$org/repos" "{\"name\":\"$repo\",\"private\":true,\"default_branch\":\"main\"}" >/dev/null
  ssh-keygen -q -t ed25519 -N '' -C "$user@ferry-tests" -f "$state/keys/$user"
  api "$as_admin" POST "/admin/users/$user/keys" \
    "{\"title\":\"ferry-tests\",\"key\":\"$(cat "$state/keys/$user.pub")\",\"read_only\":false}" >/dev/null

  # known_hosts as a client sees it, checked against the key up generated.
  local known_hosts="$state/known_hosts" blob
  ssh-keyscan -T 5 -t ed25519 -p "$ssh_port" 127.0.0.1 2>/dev/null >"$known_hosts"
  blob="$(awk '{print $2}' "$state/data/ssh/gitea.ed25519.pub")"
  grep -q "^\[127.0.0.1\]:$ssh_port ssh-ed25519 $blob" "$known_hosts" \
    || die "ssh-keyscan did not return gitea's host key (got: $(cat "$known_hosts"))"

  (umask 077; cat >"$env_file.tmp" <<ENV
GITEA_URL=$url/
GITEA_SSH_PORT=$ssh_port
GITEA_ADMIN_USER=$admin
GITEA_ADMIN_TOKEN_FILE=$(secret_file admin-token "$admin_token")
GITEA_ADMIN_PASSWORD_FILE=$state/secrets/admin-password
GITEA_USER=$user
GITEA_USER_PASSWORD_FILE=$(secret_file user-password "$user_pw")
GITEA_USER_TOKEN_FILE=$(secret_file user-token "$user_token")
GITEA_SSH_KEY=$state/keys/$user
GITEA_KNOWN_HOSTS=$known_hosts
GITEA_ORG=$org
GITEA_REPO=$repo
ENV
  )
  mv "$env_file.tmp" "$env_file"
  log "ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms: gitea ${GITEA_VERSION} at $url/"
  echo "$env_file"
}

cmd_down() {
  local pid
  if ! pid_alive; then
    rm -f "$state/gitea.pid"
    log "not running"
    return
  fi
  pid="$(cat "$state/gitea.pid")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$state/gitea.pid"
  log "stopped gitea (pid $pid)"
}

cmd_status() {
  if running; then
    echo "gitea ${GITEA_VERSION} running (pid $(cat "$state/gitea.pid")) at $(env_value GITEA_URL), ssh port $(env_value GITEA_SSH_PORT)"
    echo "env: $env_file"
  else
    echo "gitea stopped"
    return 1
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) running && echo "$env_file" ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
