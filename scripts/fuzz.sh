#!/usr/bin/env bash
# Runs every native Go fuzz target of the module for a while and reports the
# executions of each. Seed corpora (f.Add and testdata/fuzz) also run as
# plain tests in `go test ./...`; a crasher found here is written by Go to the
# package's testdata/fuzz/<Target>/ and must be committed as a regression case.
#
#   scripts/fuzz.sh [SECONDS]     default 10 seconds per target
#
# New interesting inputs are minimized for at most FUZZ_MINIMIZE (default
# 200x, i.e. 200 executions; go test's own default is 60 s, which lets a
# target with large inputs, such as receipts, spend a short run minimizing
# instead of fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
status=0
printf '%-60s %12s %10s\n' "target" "execs" "execs/s"
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    if ! out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "${secs}s" -fuzzminimizetime "${FUZZ_MINIMIZE:-200x}" "$pkg" 2>&1); then
      # Go's fuzzer can report "context deadline exceeded" when -fuzztime
      # ends while it is still minimizing a new input; that is not a finding.
      # A real one always writes its failing input to testdata/fuzz.
      if echo "$out" | grep -q 'Failing input written' || ! echo "$out" | grep -q 'context deadline exceeded'; then
        status=1
        echo "$out" | tail -20
      fi
    fi
    # A target whose corpus takes longer than the run to replay (its
    # baseline coverage) reports no executions: 0, not a failure.
    line=$(echo "$out" | grep -E 'execs: [0-9]+' | tail -1 || true)
    execs=$(echo "$line" | sed -E 's/.*execs: ([0-9]+).*/\1/')
    rate=$(( ${execs:-0} / secs ))
    printf '%-60s %12s %10s\n' "${pkg#github.com/gobtechlab/notary/}.${target}" "${execs:-?}" "${rate:-?}"
  done
done
exit $status
