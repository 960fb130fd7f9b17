#!/usr/bin/env bash
# Regenerates the Go code of proto/notary/v1 (messages, gRPC stubs, the
# HTTP/JSON gateway) and its OpenAPI document with pinned tools.
#   scripts/protogen.sh          regenerate in place
#   scripts/protogen.sh --check  fail if the committed generated files are stale
# Tools are installed once into $NOTARY_TOOLS (default: ~/.cache/notary-tools/<versions>).
set -euo pipefail

BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12   # keep equal to google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
GRPC_GATEWAY_VERSION=v2.34.0     # keep equal to grpc-gateway/v2 in go.mod

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${NOTARY_TOOLS:-$HOME/.cache/notary-tools/buf-$BUF_VERSION-go-$PROTOC_GEN_GO_VERSION-grpc-$PROTOC_GEN_GO_GRPC_VERSION-gw-$GRPC_GATEWAY_VERSION}
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
install protoc-gen-grpc-gateway github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$GRPC_GATEWAY_VERSION
install protoc-gen-openapiv2 github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$GRPC_GATEWAY_VERSION
export PATH="$tools:$PATH"

runtime=$(cd "$root" && go list -m -f '{{.Version}}' google.golang.org/protobuf)
if [ "$runtime" != "$PROTOC_GEN_GO_VERSION" ]; then
  echo "protoc-gen-go $PROTOC_GEN_GO_VERSION differs from the protobuf runtime $runtime in go.mod" >&2
  exit 1
fi
gateway=$(cd "$root" && go list -m -f '{{.Version}}' github.com/grpc-ecosystem/grpc-gateway/v2)
if [ "$gateway" != "$GRPC_GATEWAY_VERSION" ]; then
  echo "grpc-gateway plugins $GRPC_GATEWAY_VERSION differ from the runtime $gateway in go.mod" >&2
  exit 1
fi

cd "$root/proto"
buf lint
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  buf generate --output "$out"
  status=0
  for f in $(cd "$out" && find . -name '*.go' -o -name '*.swagger.json' | sort); do
    if ! cmp -s "$out/$f" "$f"; then echo "stale: proto/${f#./}" >&2; status=1; fi
  done
  for f in $(find . -name '*.pb.go' -o -name '*.pb.gw.go' -o -name '*.swagger.json' | sort); do
    [ -f "$out/$f" ] || { echo "orphan: proto/${f#./}" >&2; status=1; }
  done
  [ $status = 0 ] && echo "generated code and OpenAPI document are up to date"
  exit $status
fi
buf generate
echo "regenerated proto/notary/v1"
