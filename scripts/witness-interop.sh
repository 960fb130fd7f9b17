#!/usr/bin/env bash
# Builds transparency-dev's omniwitness and witness client
# (github.com/transparency-dev/witness) from the Go module proxy in a scratch
# module, then runs the interop tests of app/witness with them: this
# module's client asks omniwitness for cosignatures on checkpoints of a real
# RFC 6962 log signed by several validator keys, and transparency-dev's
# client asks this module's witness (docs/adr/0028-witnesses.md).
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
root=$PWD

version=${OMNIWITNESS_VERSION:-v0.0.0-20260720115447-2e1c6971d19e}
tools=${NOTARY_TOOLS:-$HOME/.cache/notary-tools}/omniwitness-$version-$(go env GOVERSION)
bin=$tools/omniwitness
client=$tools/witness-client
if [ ! -x "$bin" ] || [ ! -x "$client" ]; then
  echo "building omniwitness $version into $tools" >&2
  mkdir -p "$tools"
  tmp=$(mktemp -d "$tools/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (
    cd "$tmp"
    go mod init notary-witness-interop >/dev/null 2>&1
    go get "github.com/transparency-dev/witness/cmd/omniwitness@$version"
    go build -o "$tmp/omniwitness" github.com/transparency-dev/witness/cmd/omniwitness
    mkdir client
    grep -v '^//go:build ignore' "$root/scripts/witness-interop/client.go" > client/main.go
    go build -o "$tmp/witness-client" ./client
  )
  mv -f "$tmp/witness-client" "$client"
  mv -f "$tmp/omniwitness" "$bin"
fi
NOTARY_OMNIWITNESS=$bin NOTARY_WITNESS_CLIENT=$client \
  exec go test -count=1 -run 'TestInterop' -v ./app/witness/
