#!/usr/bin/env python3
"""Anchor files on a notary chain over HTTP/JSON, fetch their receipts and
look their digests up, with Python's standard library and the openssl
command (Python's standard library has no ed25519; openssl signs, as
docs/integration.md shows). The agency signs its own transactions: the
gateway never holds an agency's key.

usage: notary_http.py URL IDENTITY_DIR OUT_DIR FILE...

The files are anchored as salted commitments (docs/integration.md, "Salted
commitments"), in batches of at most BATCH digests sent together
(POST /v1/submit-batch), as unordered transactions when the chain allows
them. Each FILE.receipt.json written to OUT_DIR is a receipt file that
`verifier verify FILE FILE.receipt.json --trust trust.json` checks offline.
"""

import base64
import hashlib
import hmac
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

BATCH = 1000  # digests per transaction
SHA2_256 = 1  # notary.v1.HashAlgorithm


class NotaryError(Exception):
    """An error answer: HTTP status, gRPC code name and message."""

    def __init__(self, route, http_status, body):
        self.status = body.get("status", "")
        super().__init__(f"{route}: HTTP {http_status} {self.status}: {body.get('message', '')}")


class Client:
    """A client of the gateway's HTTP/JSON routes as one agency."""

    def __init__(self, url, identity_dir):
        with open(os.path.join(identity_dir, "identity.json")) as f:
            self.identity = json.load(f)
        self.url = url.rstrip("/")
        self.ctx = ssl.create_default_context(cafile=os.path.join(identity_dir, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(identity_dir, "tls.crt"), os.path.join(identity_dir, "tls.key"))

    def call(self, route, request):
        req = urllib.request.Request(self.url + route, data=json.dumps(request).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=120) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as e:
            raise NotaryError(route, e.code, json.load(e)) from None

    def sign(self, message):
        """ed25519 signature of message with the identity's key (openssl)."""
        seed = bytes.fromhex(self.identity["private_key"])
        with tempfile.TemporaryDirectory() as d:
            key, msg, sig = (os.path.join(d, n) for n in ("key.der", "msg", "sig"))
            # PKCS#8 wrapping of an ed25519 seed (RFC 8410).
            with open(key, "wb") as f:
                f.write(bytes.fromhex("302e020100300506032b657004220420") + seed)
            with open(msg, "wb") as f:
                f.write(message)
            subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-keyform", "DER",
                            "-rawin", "-in", msg, "-out", sig], check=True)
            with open(sig, "rb") as f:
                return f.read()


# Protobuf encoding of the few fields a transaction needs.
def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_bytes(number, value):
    return varint(number << 3 | 2) + varint(len(value)) + value if value else b""


def field_varint(number, value):
    return varint(number << 3) + varint(value) if value else b""


def salted(salt_key, digest):
    """The salt of a document and the commitment anchored for it."""
    salt = hmac.new(salt_key, b"notary/salt/v1" + digest, hashlib.sha256).digest()
    return salt, hashlib.sha256(b"notary/salted/v1" + salt + digest).digest()


def anchor_tx(client, anchored, validity):
    """The signed bytes of an AnchorBatch of the anchored digests."""
    ident = client.identity
    chain_id = ident["chain_id"].encode()
    body = field_bytes(1, chain_id)
    if validity["window"] > 0:  # unordered: a fresh nonce, valid for half the window
        until = validity["height"] + validity["window"] // 2
        body += field_bytes(3, os.urandom(16))
        body += field_varint(4, until)
        print(f"unordered transaction, valid until height {until}")
    else:  # ordered: the account's next sequence
        body += field_varint(2, validity["sequence"])
        print(f"ordered transaction, sequence {validity['sequence']}")
        validity["sequence"] += 1
    batch = field_bytes(1, ident["id"].encode()) + field_varint(2, SHA2_256) + field_bytes(3, b"".join(anchored))
    body += field_bytes(10, batch)
    sign_bytes = b"notary/tx/v1" + varint(len(chain_id)) + chain_id + body
    pub = bytes.fromhex(ident["public_key"])
    return field_bytes(1, body) + field_bytes(2, pub) + field_bytes(3, client.sign(sign_bytes))


def b64(b):
    return base64.b64encode(b).decode()


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    url, identity_dir, out_dir, files = argv[0], argv[1], argv[2], argv[3:]
    os.makedirs(out_dir, exist_ok=True)
    client = Client(url, identity_dir)
    salt_key = bytes.fromhex(client.identity["salt_key"])

    docs = []
    for path in files:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).digest()
        salt, anchored = salted(salt_key, digest)
        docs.append((path, digest, salt, anchored))

    height = int(client.call("/v1/get-status", {}).get("latest_height", "0"))
    params = client.call("/v1/get-params", {}).get("params", {})
    validity = {"height": height, "window": int(params.get("max_unordered_window", "0")), "sequence": 0}
    if validity["window"] == 0:
        account = client.call("/v1/get-account", {"pub_key": b64(bytes.fromhex(client.identity["public_key"]))})
        validity["sequence"] = int(account.get("account", {}).get("next_sequence", "0"))

    requests = []
    for i in range(0, len(docs), BATCH):
        tx = anchor_tx(client, [d[3] for d in docs[i:i + BATCH]], validity)
        requests.append({"tx": b64(tx), "request_id": f"batch-{i // BATCH}"})
    answers = client.call("/v1/submit-batch", {"requests": requests})["responses"]
    for a in answers:
        if a.get("grpc_code", 0) != 0:
            print(f"{a.get('request_id')}: refused: {a.get('log')}", file=sys.stderr)
            return 1
        print(f"{a.get('request_id')}: committed at height {a.get('height')}")

    for path, digest, salt, anchored in docs:
        receipt = client.call("/v1/get-receipt", {"hash_algorithm": "HASH_ALGORITHM_SHA2_256", "digest": b64(anchored)})
        doc = receipt["document"]
        # The receipt file binds the document: its digest and its salt,
        # in the order of the DocumentBinding fields.
        receipt["document"] = {"hash_algorithm": doc["hash_algorithm"], "document_digest": digest.hex(),
                               "salt": salt.hex(), "anchored_digest": doc["anchored_digest"]}
        name = os.path.join(out_dir, os.path.basename(path) + ".receipt.json")
        with open(name, "w") as f:
            json.dump(receipt, f, separators=(",", ":"), ensure_ascii=False)
        found = client.call("/v1/lookup-digest", {"hash_algorithm": "HASH_ALGORITHM_SHA2_256", "digest": b64(anchored)})
        print(f"{path}: receipt {name}, batch at height {found.get('batch', {}).get('height', '?')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
