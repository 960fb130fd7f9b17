#!/usr/bin/env bash
# Runs every native Go fuzz target of the module for a while and reports the
# executions of each. Seed corpora (f.Add and testdata/fuzz) also run as
# plain tests in `go test ./...`; a crasher found here is written by Go to the
# package's testdata/fuzz/<Target>/ and must be committed as a regression case.
#
#   scripts/fuzz.sh [SECONDS [PACKAGE...]]
#
# SECONDS of fuzzing per target, default 10; packages default to ./... .
#
# The seconds count from the end of the target's baseline, not from its
# start. Before a worker process fuzzes, it runs the target's setup (for
# FuzzGatewayRequests, a whole node) and the coordinator replays the seed
# corpus and the cached corpus through it; go test's -fuzztime counts that
# time too, so a short -fuzztime on a busy machine ends before any input is
# fuzzed. Here each package's instrumented test binary (go test -c -fuzz) is
# run directly, and SECONDS after Go reports "now fuzzing" the coordinator
# is interrupted (SIGINT), which stops its workers and ends the run as
# -fuzztime would.
#
# A target fails if it reports no executions, if it is not fuzzing
# FUZZ_SETUP_MAX seconds (default 600) after it started, or if a worker
# dies. A worker that dies in the target's setup shows in Go's output only
# as "fuzzing process terminated without fuzzing: EOF": Go discards the
# workers' output. Their stderr (a panic, a fatal error) is kept and shown,
# and the target then runs as a plain test, which reports why its setup
# failed.
#
#   FUZZ_MINIMIZE   how long a new interesting input is minimized, default
#                   200x (200 executions; go test's own default is 60 s,
#                   which lets a short run minimize instead of fuzzing)
#   FUZZ_PARALLEL   worker processes, default GOMAXPROCS (go test's default)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
shift $(( $# > 0 ? 1 : 0 ))
setup_max=${FUZZ_SETUP_MAX:-600}
minimize=${FUZZ_MINIMIZE:-200x}
parallel=${FUZZ_PARALLEL:-}
cache=$(go env GOCACHE)/fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fuzz PKG DIR BIN TARGET: fuzzes one target; prints its executions and the
# seconds it took to start fuzzing on stdout, the reason on stderr, and
# returns 1 if it failed.
fuzz() {
  local pkg=$1 dir=$2 bin=$3 target=$4
  local log=$work/$target.log wlog=$work/$target.workers.log
  # Go starts a worker as os.Args[0] with -test.fuzzworker: the binary runs
  # under the name of a wrapper that keeps the worker's stderr.
  local wrap=$work/$target.wrap
  printf '#!/bin/sh\nexec "%s" "$@" 2>>"%s"\n' "$bin" "$wlog" > "$wrap"
  chmod +x "$wrap"
  : > "$wlog"
  (
    cd "$dir"
    exec -a "$wrap" "$bin" -test.run '^$' -test.fuzz "^${target}\$" \
      -test.fuzztime "$((setup_max + secs))s" -test.fuzzminimizetime "$minimize" \
      -test.fuzzcachedir "$cache/$pkg" ${parallel:+-test.parallel "$parallel"}
  ) > "$log" 2>&1 &
  local pid=$! start=$SECONDS fuzzing=""
  while kill -0 "$pid" 2>/dev/null; do
    if [ -z "$fuzzing" ] && grep -qE 'now fuzzing|execs: [0-9]+' "$log"; then
      fuzzing=$SECONDS
    fi
    if [ -n "$fuzzing" ] && [ $((SECONDS - fuzzing)) -ge "$secs" ]; then
      kill -INT "$pid" 2>/dev/null || true
      break
    fi
    if [ -z "$fuzzing" ] && [ $((SECONDS - start)) -ge "$setup_max" ]; then
      break # Go ends the run itself: no executions
    fi
    sleep 0.2
  done
  local rc=0
  wait "$pid" || rc=$?
  local execs
  execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  echo "${execs:-0} $((${fuzzing:-$SECONDS} - start))"
  local why=""
  if [ $rc -ne 0 ]; then
    # Go's fuzzer can report "context deadline exceeded" (or "canceled")
    # when the run ends while it is still minimizing a new input; that is
    # not a finding. A real one always writes its failing input to
    # testdata/fuzz.
    if grep -q 'Failing input written' "$log" || ! grep -qE 'context (deadline exceeded|canceled)' "$log"; then
      why="failed (exit $rc)"
    fi
  fi
  if [ -z "$why" ] && [ "${execs:-0}" -eq 0 ]; then
    why="no executions (not fuzzing after $((SECONDS - start)) s)"
  fi
  if [ -n "$why" ]; then
    {
      echo "--- ${pkg}.${target}: $why"
      tail -20 "$log"
      if [ -s "$wlog" ]; then echo "--- worker stderr"; tail -40 "$wlog"; fi
      if grep -q 'terminated without fuzzing' "$log"; then
        # A worker died in the target's setup; Go discarded what the setup
        # reported. The same setup and the seed corpus, run as a test:
        echo "--- ${target} as a test"
        (cd "$dir" && "$bin" -test.run "^${target}\$" 2>&1 | tail -40) || true
      fi
    } >&2
    return 1
  fi
}

status=0
printf '%-60s %12s %10s %8s\n' "target" "execs" "execs/s" "start s"
for pkg in $(go list "${@:-./...}"); do
  targets=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
  [ -n "$targets" ] || continue
  dir=$(go list -f '{{.Dir}}' "$pkg")
  bin=$work/$(basename "$pkg").test
  # Built with -fuzz, the binary carries the coverage instrumentation that
  # guides fuzzing; any target of the package may be named.
  go test -c -fuzz "^$(echo "$targets" | head -1)\$" -o "$bin" "$pkg"
  for target in $targets; do
    if out=$(fuzz "$pkg" "$dir" "$bin" "$target"); then :; else status=1; fi
    read -r execs setup <<< "$out"
    printf '%-60s %12s %10s %8s\n' "${pkg#github.com/gobtechlab/notary/}.${target}" \
      "$execs" $((execs / secs)) "$setup"
  done
done
exit $status
