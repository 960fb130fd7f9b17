#!/usr/bin/env bash
# Runs golangci-lint, pinned, with the module's .golangci.yml:
#   scripts/lint.sh [ARGS...]     default: run ./...
# The linter is built once with the Go in use (golangci-lint must be built
# with a Go at least as new as the code it checks) into a tool cache:
#   GOLANGCI_LINT_VERSION  (default v2.15.0)
#   NOTARY_TOOLS           tool cache (default ~/.cache/notary-tools)
set -euo pipefail
cd "$(dirname "$0")/.."

version=${GOLANGCI_LINT_VERSION:-v2.15.0}
tools=${NOTARY_TOOLS:-$HOME/.cache/notary-tools}/golangci-lint-$version-$(go env GOVERSION)
lint=$tools/golangci-lint
if [ ! -x "$lint" ]; then
  echo "installing golangci-lint $version into $tools" >&2
  mkdir -p "$tools"
  # Built aside and renamed into place: a run beside this one never sees,
  # nor runs, a half-written binary.
  tmp=$(mktemp -d "$tools/.install.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && GOBIN=$tmp GOFLAGS=-mod=mod go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version")
  mv -f "$tmp/golangci-lint" "$lint"
fi
if [ $# -eq 0 ]; then set -- run ./...; fi
exec "$lint" "$@"
