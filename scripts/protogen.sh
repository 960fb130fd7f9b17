#!/usr/bin/env bash
# Regenerates the Go code of proto/notary/v1 with pinned tools.
#   scripts/protogen.sh          regenerate in place
#   scripts/protogen.sh --check  fail if the committed generated code is stale
# Tools are installed once into $NOTARY_TOOLS (default: ~/.cache/notary-tools/<versions>).
set -euo pipefail

BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12   # keep equal to google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${NOTARY_TOOLS:-$HOME/.cache/notary-tools/buf-$BUF_VERSION-go-$PROTOC_GEN_GO_VERSION-grpc-$PROTOC_GEN_GO_GRPC_VERSION}
mkdir -p "$tools"
install() { # binary, package@version
  if [ ! -x "$tools/$1" ]; then
    echo "installing $2" >&2
    # Built aside and renamed into place: a run beside this one never
    # sees, nor runs, a half-written binary.
    local tmp
    tmp=$(mktemp -d "$tools/.install.XXXXXX")
    GOBIN="$tmp" GOFLAGS=-mod=mod go install "$2"
    mv -f "$tmp/$1" "$tools/$1"
    rm -rf "$tmp"
  fi
}
install buf github.com/bufbuild/buf/cmd/buf@$BUF_VERSION
install protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION
install protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION
export PATH="$tools:$PATH"

runtime=$(cd "$root" && go list -m -f '{{.Version}}' google.golang.org/protobuf)
if [ "$runtime" != "$PROTOC_GEN_GO_VERSION" ]; then
  echo "protoc-gen-go $PROTOC_GEN_GO_VERSION differs from the protobuf runtime $runtime in go.mod" >&2
  exit 1
fi

cd "$root/proto"
buf lint
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  buf generate --output "$out"
  status=0
  for f in $(cd "$out" && find . -name '*.go' | sort); do
    if ! cmp -s "$out/$f" "$f"; then echo "stale: proto/${f#./}" >&2; status=1; fi
  done
  for f in $(find . -name '*.pb.go' | sort); do
    [ -f "$out/$f" ] || { echo "orphan: proto/${f#./}" >&2; status=1; }
  done
  [ $status = 0 ] && echo "generated code is up to date"
  exit $status
fi
buf generate
echo "regenerated proto/notary/v1"
