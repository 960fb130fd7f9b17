#!/usr/bin/env bash
# Side-by-side benchmark of the notary chain, CometBFT's kvstore, Tessera's
# POSIX log and the machine's hashing limits (docs/performance.md).
#   scripts/bench.sh --quick              # under a minute once binaries are cached
#   scripts/bench.sh --json bench.json    # the full run (about 15 minutes)
#   scripts/bench.sh --net wan --validators 7   # validators on netlab hosts,
#                                               # WAN latency (as root)
# Flags are those of go run ./scripts/bench (see --help). Runs at low CPU
# priority (nice) so that a shared machine stays usable.
set -euo pipefail
cd "$(dirname "$0")/.."
exec nice -n 10 go run ./scripts/bench "$@"
