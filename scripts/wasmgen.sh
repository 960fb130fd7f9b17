#!/usr/bin/env bash
# Builds the web verifier's core, cmd/verifier/wasm, for GOOS=js GOARCH=wasm
# into app/web/static/verifier.wasm.gz (gzip -9, no name or time stamp), and
# copies the wasm_exec.js of the same Go beside it (the two must match).
#   scripts/wasmgen.sh          regenerate in place
#   scripts/wasmgen.sh --check  fail if the committed files are stale
# The build is reproducible (-trimpath, no build id, no DWARF) for one Go
# version; --check compares the uncompressed wasm, so the gzip in use does
# not matter. Extra build flags come from GOFLAGS as for any go build.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
static="$root/app/web/static"
cd "$root"

goroot=$(go env GOROOT)
execjs="$goroot/lib/wasm/wasm_exec.js"
[ -f "$execjs" ] || execjs="$goroot/misc/wasm/wasm_exec.js"
[ -f "$execjs" ] || { echo "no wasm_exec.js under $goroot" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
GOOS=js GOARCH=wasm go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' \
  -o "$out/verifier.wasm" ./cmd/verifier/wasm

if [ "${1:-}" = "--check" ]; then
  status=0
  if ! gzip -dc "$static/verifier.wasm.gz" 2>/dev/null | cmp -s - "$out/verifier.wasm"; then
    echo "stale: app/web/static/verifier.wasm.gz (run scripts/wasmgen.sh)" >&2
    status=1
  fi
  if ! cmp -s "$execjs" "$static/wasm_exec.js"; then
    echo "stale: app/web/static/wasm_exec.js (run scripts/wasmgen.sh)" >&2
    status=1
  fi
  [ $status = 0 ] && echo "web verifier core is up to date"
  exit $status
fi

gzip -9n < "$out/verifier.wasm" > "$out/verifier.wasm.gz"
mv -f "$out/verifier.wasm.gz" "$static/verifier.wasm.gz"
cp "$execjs" "$static/wasm_exec.js"
printf 'wrote app/web/static/verifier.wasm.gz: %d bytes (%d uncompressed), %s\n' \
  "$(wc -c < "$static/verifier.wasm.gz")" "$(wc -c < "$out/verifier.wasm")" "$(go env GOVERSION)"
