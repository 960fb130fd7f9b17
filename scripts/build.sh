#!/usr/bin/env bash
# Builds notaryd, notaryctl and verifier into ./bin (or OUT), with the
# release and commit stamped into package app/version:
#
#   scripts/build.sh            release from `git describe --tags --always --dirty`
#   RELEASE=v0.2.0 scripts/build.sh
#   OUT=dist/linux-arm64 GOOS=linux GOARCH=arm64 scripts/build.sh
#
# Outside a git checkout the release is "devel" and the commit "unknown".
# The commit is `git rev-parse HEAD`, with "-dirty" when the work tree has
# uncommitted changes. The binaries print both with `version`.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${OUT:-bin}
release=${RELEASE:-}
commit=unknown
if git rev-parse --git-dir >/dev/null 2>&1; then
  release=${release:-$(git describe --tags --always --dirty)}
  commit=$(git rev-parse HEAD)
  if ! git diff --quiet HEAD --; then
    commit=$commit-dirty
  fi
fi
release=${release:-devel}

pkg=github.com/gobtechlab/notary/app/version
ldflags="-X $pkg.Release=$release -X $pkg.Commit=$commit"
mkdir -p "$out"
for cmd in notaryd notaryctl verifier; do
  go build -trimpath -ldflags "$ldflags" -o "$out/$cmd" "./cmd/$cmd"
done
echo "built $release ($commit) into $out: notaryd notaryctl verifier"
