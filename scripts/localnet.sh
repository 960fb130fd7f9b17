#!/usr/bin/env bash
# A consortium network on this machine: one notaryd process per ministry.
# See docs/localnet.md. Run with no arguments for the usage text.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  cat <<'EOF'
usage: scripts/localnet.sh COMMAND [ARGS]

  init    [DIR] [TESTNET FLAGS...]  generate a network in DIR: notaryd testnet
                                    --validators 4 --out DIR, plus any flags
                                    given (e.g. --agencies 5 --base-port 27000)
  start   [DIR]                     build notaryd into DIR/bin (once), run init
                                    if DIR holds no network yet, then start
                                    every node that is not running and wait
                                    until each answers
  stop    [DIR]                     stop the nodes (SIGTERM, SIGKILL after 30 s)
  status  [DIR]                     one line per node: pid, height, peers,
                                    catching up, app hash
  kill    NODE [DIR]                SIGKILL one node (a crash)
  restart NODE [DIR]                stop one node (SIGTERM) and start it again
  logs    NODE [DIR]                follow a node's log (tail -f)
  build   [DIR]                     rebuild DIR/bin/notaryd from this checkout

DIR defaults to $LOCALNET_DIR, else ./localnet. NODE is a ministry id
(hacienda, interior, sanidad, trabajo, ...), the name of its home DIR/NODE.

Each node runs as its own process: `DIR/bin/notaryd start --home DIR/NODE`,
its pid in DIR/NODE/notaryd.pid and its log appended to DIR/NODE/notaryd.log.
stop, kill and restart signal only the pids recorded there, after checking
that each is still that node's notaryd.

Environment: LOCALNET_DIR (default DIR), LOCALNET_VALIDATORS (validators
for init, default 4), LOCALNET_WAIT (seconds start waits for each node, 60).
EOF
}

die() { echo "localnet: $*" >&2; exit 1; }

dir_arg() {
  local d=${1:-${LOCALNET_DIR:-./localnet}}
  mkdir -p "$d"
  (cd "$d" && pwd)
}

bin_of() { echo "$1/bin/notaryd"; }

build() {
  local dir=$1
  mkdir -p "$dir/bin"
  echo "localnet: building notaryd into $dir/bin"
  (cd "$ROOT" && go build -o "$dir/bin/notaryd" ./cmd/notaryd)
}

ensure_bin() { [ -x "$(bin_of "$1")" ] || build "$1"; }

# nodes DIR: the node names of DIR (every subdirectory with a genesis).
nodes() {
  local dir=$1 g
  for g in "$dir"/*/config/genesis.json; do
    [ -e "$g" ] || continue
    basename "$(dirname "$(dirname "$g")")"
  done
}

home_of() {
  local dir=$1 node=$2
  [ -f "$dir/$node/config/genesis.json" ] || die "no node $node in $dir (nodes: $(nodes "$dir" | tr '\n' ' '))"
  echo "$dir/$node"
}

# pid_of HOME: the recorded pid if that process is alive and is notaryd
# running this home; nothing otherwise.
pid_of() {
  local home=$1 pid
  [ -f "$home/notaryd.pid" ] || return 0
  pid=$(cat "$home/notaryd.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  if [ -r "/proc/$pid/cmdline" ]; then
    grep -qF -- "notaryd start --home $home " <<< "$(tr '\0' ' ' <"/proc/$pid/cmdline")" || return 0
  fi
  echo "$pid"
}

json_field() { sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -n1; }

wait_rpc() {
  local dir=$1 node=$2 limit=${LOCALNET_WAIT:-60} i
  for ((i = 0; i < limit * 5; i++)); do
    if "$(bin_of "$dir")" status --home "$dir/$node" --timeout 1s >/dev/null 2>&1; then return 0; fi
    [ -n "$(pid_of "$dir/$node")" ] || die "$node exited; see $dir/$node/notaryd.log"
    sleep 0.2
  done
  die "$node does not answer after ${limit}s; see $dir/$node/notaryd.log"
}

start_node() {
  local dir=$1 node=$2 home pid
  home=$(home_of "$dir" "$node")
  pid=$(pid_of "$home")
  if [ -n "$pid" ]; then echo "localnet: $node already running (pid $pid)"; return 0; fi
  nohup "$(bin_of "$dir")" start --home "$home" >>"$home/notaryd.log" 2>&1 </dev/null &
  echo $! >"$home/notaryd.pid"
  echo "localnet: started $node (pid $!, log $home/notaryd.log)"
}

stop_node() {
  local dir=$1 node=$2 sig=${3:-TERM} home pid i
  home=$(home_of "$dir" "$node")
  pid=$(pid_of "$home")
  if [ -z "$pid" ]; then rm -f "$home/notaryd.pid"; echo "localnet: $node is not running"; return 0; fi
  kill -s "$sig" "$pid"
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "localnet: $node (pid $pid) still running after 30 s; sending SIGKILL"
    kill -s KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$home/notaryd.pid"
  echo "localnet: $node stopped (SIG$sig, pid $pid)"
}

status_node() {
  local dir=$1 node=$2 home pid out
  home=$(home_of "$dir" "$node")
  pid=$(pid_of "$home")
  if [ -z "$pid" ]; then printf '%-12s stopped\n' "$node"; return 0; fi
  if ! out=$("$(bin_of "$dir")" status --home "$home" --output json --timeout 3s 2>&1); then
    printf '%-12s pid %-7s not answering (%s)\n' "$node" "$pid" "$(echo "$out" | tail -n1)"
    return 0
  fi
  printf '%-12s pid %-7s height %-7s peers %-2s catching_up %-5s power %-3s app_hash %s\n' "$node" "$pid" \
    "$(echo "$out" | json_field height)" "$(echo "$out" | grep -c '"id":')" \
    "$(echo "$out" | json_field catching_up)" "$(echo "$out" | json_field voting_power)" \
    "$(echo "$out" | json_field app_hash)"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  init)
    dir=$(dir_arg "${1:-}")
    [ $# -gt 0 ] && shift
    ensure_bin "$dir"
    "$(bin_of "$dir")" testnet --validators "${LOCALNET_VALIDATORS:-4}" --out "$dir" "$@"
    ;;
  start)
    dir=$(dir_arg "${1:-}")
    ensure_bin "$dir"
    if [ -z "$(nodes "$dir")" ]; then
      "$(bin_of "$dir")" testnet --validators "${LOCALNET_VALIDATORS:-4}" --out "$dir"
    fi
    for n in $(nodes "$dir"); do start_node "$dir" "$n"; done
    for n in $(nodes "$dir"); do wait_rpc "$dir" "$n"; done
    for n in $(nodes "$dir"); do status_node "$dir" "$n"; done
    echo "localnet: running in $dir (trust bundle $dir/trust.json, agencies in $dir/identities)"
    ;;
  stop)
    dir=$(dir_arg "${1:-}")
    for n in $(nodes "$dir"); do stop_node "$dir" "$n" TERM; done
    ;;
  status)
    dir=$(dir_arg "${1:-}")
    [ -n "$(nodes "$dir")" ] || die "no network in $dir (run: scripts/localnet.sh init $dir)"
    ensure_bin "$dir"
    for n in $(nodes "$dir"); do status_node "$dir" "$n"; done
    ;;
  kill)
    [ $# -ge 1 ] || die "kill needs a NODE (usage: scripts/localnet.sh kill NODE [DIR])"
    node=$1
    dir=$(dir_arg "${2:-}")
    stop_node "$dir" "$node" KILL
    ;;
  restart)
    [ $# -ge 1 ] || die "restart needs a NODE (usage: scripts/localnet.sh restart NODE [DIR])"
    node=$1
    dir=$(dir_arg "${2:-}")
    ensure_bin "$dir"
    stop_node "$dir" "$node" TERM
    start_node "$dir" "$node"
    wait_rpc "$dir" "$node"
    status_node "$dir" "$node"
    ;;
  logs)
    [ $# -ge 1 ] || die "logs needs a NODE (usage: scripts/localnet.sh logs NODE [DIR])"
    node=$1
    dir=$(dir_arg "${2:-}")
    exec tail -n 50 -f "$(home_of "$dir" "$node")/notaryd.log"
    ;;
  build)
    build "$(dir_arg "${1:-}")"
    ;;
  -h | --help | help | "")
    usage
    [ -n "$cmd" ]
    ;;
  *)
    usage >&2
    die "unknown command $cmd"
    ;;
esac
