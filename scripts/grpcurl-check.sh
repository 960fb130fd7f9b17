#!/usr/bin/env bash
# grpcurl against a dev node: the gateway lists its services through server
# reflection, answers the health service, and grpcurl calls GetStatus; a
# write without a client certificate is refused with PermissionDenied. Uses
# the dev chain's own CA and the dev agency's client certificate, exactly as
# an integrator would. grpcurl is installed from the module proxy (pinned)
# into a cache directory, outside this module.
#
# usage: scripts/grpcurl-check.sh
#   GRPCURL_VERSION  (default v1.9.3)
#   NOTARY_TOOLS     tool cache (default ~/.cache/notary-tools)
set -euo pipefail
cd "$(dirname "$0")/.."

version=${GRPCURL_VERSION:-v1.9.3}
tools=${NOTARY_TOOLS:-$HOME/.cache/notary-tools}/grpcurl-$version
grpcurl=$tools/grpcurl
if [ ! -x "$grpcurl" ]; then
  echo "installing grpcurl $version into $tools"
  mkdir -p "$tools"
  (cd "$(mktemp -d)" && GOBIN=$tools GOFLAGS=-mod=mod go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$version")
fi

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Free ports outside the ephemeral range, so that nothing else holds them.
base=$(( 21000 + (RANDOM % 400) * 10 ))
gw=$((base + 2))
go build -o "$work/notaryd" ./cmd/notaryd
"$work/notaryd" dev --home "$work/home" --p2p-port "$base" --rpc-port $((base + 1)) \
  --gateway-port "$gw" --metrics-port $((base + 3)) > "$work/node.log" 2>&1 &
pid=$!

addr=127.0.0.1:$gw
ca=$work/home/tls/ca.crt
agency=$work/home/identities/dev-agency
for _ in $(seq 1 120); do
  if [ -f "$ca" ] && "$grpcurl" -cacert "$ca" -max-time 2 "$addr" list > /dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "the dev node exited:"; cat "$work/node.log"; exit 1; fi
  sleep 0.5
done

fail() { echo "FAIL: $*"; echo "--- node log (tail)"; tail -20 "$work/node.log"; exit 1; }

echo "services through reflection (no client certificate):"
services=$("$grpcurl" -cacert "$ca" "$addr" list) || fail "list"
echo "$services" | sed 's/^/  /'
for s in notary.v1.Gateway grpc.health.v1.Health grpc.reflection.v1.ServerReflection; do
  echo "$services" | grep -qx "$s" || fail "service $s not listed"
done

methods=$("$grpcurl" -cacert "$ca" "$addr" list notary.v1.Gateway) || fail "list methods"
for m in Submit SubmitStream LookupDigest GetReceipt GetStatus GetAccessHistory; do
  echo "$methods" | grep -qx "notary.v1.Gateway.$m" || fail "method $m not listed"
done
echo "  notary.v1.Gateway: $(echo "$methods" | wc -l) methods"

health=$("$grpcurl" -cacert "$ca" "$addr" grpc.health.v1.Health/Check) || fail "health"
echo "$health" | grep -q '"SERVING"' || fail "health: $health"
echo "health: SERVING"

status=$("$grpcurl" -cacert "$ca" -cert "$agency/tls.crt" -key "$agency/tls.key" \
  "$addr" notary.v1.Gateway/GetStatus) || fail "GetStatus"
echo "$status" | grep -q '"notary-dev"' || fail "GetStatus does not name the chain: $status"
echo "GetStatus (with the dev agency's certificate): chain notary-dev, $(echo "$status" | grep -m1 -o '"latestHeight": "[0-9]*"')"

# A write without a client certificate is refused before anything is touched.
set +e
out=$("$grpcurl" -cacert "$ca" -d '{"tx":"AAAA"}' "$addr" notary.v1.Gateway/Submit 2>&1)
set -e
echo "$out" | grep -Eq 'Code: (PermissionDenied|InvalidArgument)' || fail "unauthenticated Submit: $out"
echo "Submit without a certificate: $(echo "$out" | grep -m1 -o 'Code: [A-Za-z]*')"
echo "ok"
