#!/usr/bin/env bash
# Builds transparency-dev's omniwitness (github.com/transparency-dev/witness)
# from the Go module proxy in a scratch module, then runs the interop test of
# app/witness against it: this module's witness client asks omniwitness for
# cosignatures on checkpoints of a real RFC 6962 log signed by several
# validator keys, and verifies them (docs/adr/0028-witnesses.md).
#
#   scripts/witness-interop.sh
#
#   OMNIWITNESS_VERSION  module version to build (default: the pseudo-version
#                        of main this test was written against)
#   NOTARY_TOOLS         tool cache (default ~/.cache/notary-tools)
#
# omniwitness needs its own dependency set (Go 1.25 or later), so it is built
# aside and never enters this module's go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${OMNIWITNESS_VERSION:-v0.0.0-20260720115447-2e1c6971d19e}
tools=${NOTARY_TOOLS:-$HOME/.cache/notary-tools}/omniwitness-$version-$(go env GOVERSION)
bin=$tools/omniwitness
if [ ! -x "$bin" ]; then
  echo "building omniwitness $version into $tools" >&2
  mkdir -p "$tools"
  tmp=$(mktemp -d "$tools/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (
    cd "$tmp"
    go mod init notary-witness-interop >/dev/null 2>&1
    go get "github.com/transparency-dev/witness/cmd/omniwitness@$version"
    go build -o "$tmp/omniwitness" github.com/transparency-dev/witness/cmd/omniwitness
  )
  mv -f "$tmp/omniwitness" "$bin"
fi
NOTARY_OMNIWITNESS=$bin exec go test -count=1 -run 'TestInteropOmniwitness' -v ./app/witness/
