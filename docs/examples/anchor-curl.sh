#!/usr/bin/env bash
# Anchors files on a notary chain over HTTP/JSON with nothing but bash, curl,
# openssl and xxd, then fetches a receipt for each and looks its digest up
# (docs/integration.md explains every step). The agency signs its own
# transaction: the gateway never holds an agency's key.
#
# usage: anchor-curl.sh URL IDENTITY_DIR OUT_DIR FILE...
#   URL           the gateway's HTTP/JSON address, e.g. https://127.0.0.1:9443
#   IDENTITY_DIR  the agency's identity directory: identity.json (chain id,
#                 agency id, ed25519 key), tls.crt and tls.key (its client
#                 certificate) and ca.crt (the consortium CA)
#   OUT_DIR       where FILE.receipt.json is written for each FILE
# The files are anchored as bare SHA-256 digests (no salt), in one
# transaction: at most the gateway's max_digests_per_request files.
set -euo pipefail

[ $# -ge 4 ] || { echo "usage: $0 URL IDENTITY_DIR OUT_DIR FILE..." >&2; exit 2; }
url=$1 id=$2 out=$3
shift 3
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# field NAME: a string field of identity.json.
field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$id/identity.json"; }
chain_id=$(field chain_id)
agency=$(field id)
pub_hex=$(field public_key)
seed_hex=$(field private_key)

# call ROUTE JSON: POST JSON to ROUTE with the agency's client certificate;
# prints the answer, fails on an error answer (printing it).
call() {
  local code
  code=$(curl -sS --cert "$id/tls.crt" --key "$id/tls.key" --cacert "$id/ca.crt" \
    -H 'Content-Type: application/json' --data-binary "$2" \
    -o "$work/answer" -w '%{http_code}' "$url$1")
  if [ "$code" != 200 ]; then
    echo "$1: HTTP $code: $(cat "$work/answer")" >&2
    return 1
  fi
  cat "$work/answer"
}
# value NAME: the value of the first NAME member of the JSON on stdin (a
# number or a string; int64 values are JSON strings).
value() { tr -d ' \n' | sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -n 1; }

# Protobuf encoding, in hex: varint N; a length-delimited field (number,
# hex bytes); a varint field (number, value).
varint() {
  local n=$1 hex=""
  while [ "$n" -ge 128 ]; do hex+=$(printf '%02x' $(( (n & 127) | 128 ))); n=$(( n >> 7 )); done
  printf '%s%02x' "$hex" "$n"
}
bytes_field() { printf '%s%s%s' "$(varint $(( ($1 << 3) | 2 )))" "$(varint $(( ${#2} / 2 )))" "$2"; }
varint_field() { printf '%s%s' "$(varint $(( $1 << 3 )))" "$(varint "$2")"; }
hex() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
b64() { xxd -r -p | openssl base64 -A; }

# Digests of the files.
digests=""
for f in "$@"; do
  digests+=$(openssl dgst -sha256 -binary "$f" | xxd -p | tr -d '\n')
done

# Unordered transaction: a random nonce and a validity of half the chain's
# window; a chain without unordered transactions (window 0) gets an ordered
# one, at the account's next sequence.
height=$(call /v1/get-status '{}' | value latest_height)
window=$(call /v1/get-params '{}' | value max_unordered_window)
window=${window:-0}
body=$(bytes_field 1 "$(hex "$chain_id")")
if [ "$window" -gt 0 ]; then
  body+=$(bytes_field 3 "$(openssl rand -hex 16)")
  body+=$(varint_field 4 $(( height + window / 2 )))
  echo "unordered transaction, valid until height $(( height + window / 2 ))"
else
  pub_b64=$(printf '%s' "$pub_hex" | b64)
  seq=$(call /v1/get-account "{\"pub_key\":\"$pub_b64\"}" | value next_sequence)
  if [ "${seq:-0}" -gt 0 ]; then body+=$(varint_field 2 "$seq"); fi
  echo "ordered transaction, sequence ${seq:-0}"
fi
anchor=$(bytes_field 1 "$(hex "$agency")")$(varint_field 2 1)$(bytes_field 3 "$digests")
body+=$(bytes_field 10 "$anchor")

# Sign bytes: "notary/tx/v1" || uvarint(len(chain_id)) || chain_id || body,
# signed with ed25519 (openssl wants the seed as a PKCS#8 key).
printf '%s%s%s%s' "$(hex notary/tx/v1)" "$(varint ${#chain_id})" "$(hex "$chain_id")" "$body" | xxd -r -p > "$work/signbytes"
printf '302e020100300506032b657004220420%s' "$seed_hex" | xxd -r -p > "$work/key.der"
openssl pkeyutl -sign -inkey "$work/key.der" -keyform DER -rawin -in "$work/signbytes" -out "$work/sig"
sig_hex=$(xxd -p "$work/sig" | tr -d '\n')
tx=$(bytes_field 1 "$body")$(bytes_field 2 "$pub_hex")$(bytes_field 3 "$sig_hex")

answer=$(call /v1/submit "{\"tx\":\"$(printf '%s' "$tx" | b64)\",\"request_id\":\"curl\"}")
echo "anchored $# files at height $(printf '%s' "$answer" | value height)"

# A receipt for each file: the gateway's receipt binds the anchored digest;
# the document's digest is added (for a bare digest, the same value).
i=0
for f in "$@"; do
  d=${digests:$((i * 64)):64}
  i=$((i + 1))
  d64=$(printf '%s' "$d" | b64)
  call /v1/get-receipt "{\"hash_algorithm\":\"HASH_ALGORITHM_SHA2_256\",\"digest\":\"$d64\"}" \
    | sed "s/\"anchored_digest\"/\"document_digest\":\"$d\",\"anchored_digest\"/" > "$out/$(basename "$f").receipt.json"
  found=$(call /v1/lookup-digest "{\"hash_algorithm\":\"HASH_ALGORITHM_SHA2_256\",\"digest\":\"$d64\"}" | value height)
  echo "$f: $d, receipt $out/$(basename "$f").receipt.json, found at height $found"
done
