#!/usr/bin/env bash
# The long end-to-end run over real processes: TestConsortiumLong in testnet/
# (build tag e2e). Four validators, each its own notaryd process on
# 127.0.0.1, under a steady anchoring load from four agencies, through 20
# SIGKILL restarts, a SIGTERM restart of each validator, a 10 s SIGSTOP, one
# and then two validators down, a 5th validator voted in and another voted
# out by governance, and a full node joining late; then every node is
# compared. Takes about 5 to 10 minutes on 2 cores.
#
# usage: scripts/e2e.sh [go test flags...]
#   E2E_RUN      test to run (default TestConsortiumLong; TestConsortiumShort
#                is the short run that `go test ./...` also runs;
#                TestPartitionsLong puts each validator in a network namespace
#                of its own, 25 ms apart, and cuts, splits, flaps and slows
#                their links under load: about 5 minutes, as root, else on
#                127.0.0.1 through the same proxies; TestStateSyncJoinLong
#                anchors 5,000,000 digests on four validators and has a full
#                node join by state sync, for a quiet machine)
#   NOTARY_E2E_KEEP  where node logs are kept if the run fails (default: a new
#                directory under $TMPDIR, printed in the test output)
#
# At the end it prints the run's closing note: kills survived, restarts,
# blocks committed, anchorings acknowledged and found on every node, and the
# time to recover after each kill (p50/p99).
set -euo pipefail
cd "$(dirname "$0")/.."

summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
export NOTARY_E2E_SUMMARY=$summary

status=0
go test -tags e2e -count=1 -timeout 60m -v -run "^${E2E_RUN:-TestConsortiumLong}\$" ./testnet/ "$@" || status=$?

echo
if [ -s "$summary" ]; then
  echo "== closing note"
  cat "$summary"
elif [ "$status" -eq 0 ]; then
  echo "== passed; this test writes no closing note (its figures are in the output above)"
else
  echo "== no closing note: the run failed before its end (status $status); see the output above for the kept logs"
fi
exit "$status"
