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
  # Built aside and renamed into place: a run beside this one never sees,
  # nor runs, a half-written binary.
  tmp=$(mktemp -d "$tools/.install.XXXXXX")
  (cd "$tmp" && GOBIN=$tmp GOFLAGS=-mod=mod go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$version")
  mv -f "$tmp/grpcurl" "$grpcurl"
  rm -rf "$tmp"
fi

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/notaryd" ./cmd/notaryd

# listening PORT: something accepts connections on 127.0.0.1:PORT.
listening() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# The dev node gets five ports outside the kernel's ephemeral range, so that
# no outgoing connection holds one; a block where something listens is
# passed over, and a block the node cannot bind (a test beside this one
# holds a port of it) is replaced by another, in a fresh home. The node
# answers within NODE_WAIT seconds (default 300), however busy the machine.
wait_s=${NODE_WAIT:-300}
started=""
for attempt in 1 2 3 4 5; do
  base=$(( 21000 + (RANDOM % 400) * 10 ))
  if listening "$base" || listening $((base + 1)) || listening $((base + 2)) || listening $((base + 3)) || listening $((base + 4)); then
    continue
  fi
  home=$work/home$attempt
  "$work/notaryd" dev --home "$home" --p2p-port "$base" --rpc-port $((base + 1)) \
    --gateway-port $((base + 2)) --metrics-port $((base + 3)) --http-port $((base + 4)) > "$work/node.log" 2>&1 &
  pid=$!
  addr=127.0.0.1:$((base + 2))
  ca=$home/tls/ca.crt
  agency=$home/identities/dev-agency
  deadline=$((SECONDS + wait_s))
  while [ $SECONDS -lt $deadline ]; do
    if [ -f "$ca" ] && "$grpcurl" -cacert "$ca" -max-time 5 "$addr" list > /dev/null 2>&1; then
      started=1
      break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  [ -z "$started" ] || break
  if kill -0 "$pid" 2>/dev/null; then
    echo "the dev node does not answer after $wait_s s:"; tail -20 "$work/node.log"; exit 1
  fi
  wait "$pid" 2>/dev/null || true
  pid=""
  if ! grep -q 'address already in use' "$work/node.log"; then
    echo "the dev node exited:"; cat "$work/node.log"; exit 1
  fi
  echo "ports $base-$((base + 4)) taken; another block"
done
if [ -z "$started" ]; then echo "no free block of ports for the dev node"; exit 1; fi

fail() { echo "FAIL: $*"; echo "--- node log (tail)"; tail -20 "$work/node.log"; exit 1; }

echo "services through reflection (no client certificate):"
services=$("$grpcurl" -cacert "$ca" "$addr" list) || fail "list"
echo "$services" | sed 's/^/  /'
for s in notary.v1.Gateway grpc.health.v1.Health grpc.reflection.v1.ServerReflection; do
  grep -qx "$s" <<< "$services" || fail "service $s not listed"
done

methods=$("$grpcurl" -cacert "$ca" "$addr" list notary.v1.Gateway) || fail "list methods"
for m in Submit SubmitStream LookupDigest GetReceipt GetStatus GetAccessHistory; do
  grep -qx "notary.v1.Gateway.$m" <<< "$methods" || fail "method $m not listed"
done
echo "  notary.v1.Gateway: $(echo "$methods" | wc -l) methods"

health=$("$grpcurl" -cacert "$ca" "$addr" grpc.health.v1.Health/Check) || fail "health"
grep -q '"SERVING"' <<< "$health" || fail "health: $health"
echo "health: SERVING"

status=$("$grpcurl" -cacert "$ca" -cert "$agency/tls.crt" -key "$agency/tls.key" \
  "$addr" notary.v1.Gateway/GetStatus) || fail "GetStatus"
grep -q '"notary-dev"' <<< "$status" || fail "GetStatus does not name the chain: $status"
echo "GetStatus (with the dev agency's certificate): chain notary-dev, $(echo "$status" | grep -m1 -o '"latestHeight": "[0-9]*"')"

# A write without a client certificate is refused before anything is touched.
set +e
out=$("$grpcurl" -cacert "$ca" -d '{"tx":"AAAA"}' "$addr" notary.v1.Gateway/Submit 2>&1)
set -e
echo "$out" | grep -Eq 'Code: (PermissionDenied|InvalidArgument)' || fail "unauthenticated Submit: $out"
echo "Submit without a certificate: $(echo "$out" | grep -m1 -o 'Code: [A-Za-z]*')"
echo "ok"
