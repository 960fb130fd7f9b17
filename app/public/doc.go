// Package public serves a node's public HTTP endpoint (app.toml [public]):
// read-only, without a client certificate, for verifiers and for the web
// verifier's page.
//
//	GET /v1/status/{hash_algorithm}/{anchored_digest}
//	GET /v1/status/code/{code_key}
//	GET /v1/code/{code_key}[?version=2]
//	GET /healthz
//	GET /  and below: the web verifier's files (serve_web, Options.Web)
//
// The status route answers the live status of an anchored digest
// (notary.v1.LiveStatus, canonical JSON): its revocation record, or the
// absence of one, at the newest state whose signing header and commit the
// node holds, proven as a receipt's status part, with the validator chain
// from the trust bundle (receipt.Builder.LiveStatus). It is keyed by the
// anchored digest only: a salted commitment that only the document's
// holders can compute; nothing lists documents or batches. A document
// registered under a verification code is found by its code key only
// (GET /v1/status/code/{code_key}, receipt.Builder.LiveStatusByCode; the
// answer's code_key is set): the chain indexes it under its key, not its
// digest. The answer is a
// pure read of committed state: it never waits for a block, takes no lock
// that consensus takes, and a request is bounded in time and in number
// (MaxInFlight), so serving it never delays the chain.
//
// The code route answers the receipt (notary.v1.Receipt, canonical JSON) of
// the document registered under a verification code, asked by the code's
// key (32 lowercase hex characters; docs/receipt.md, "Verification codes"):
// the web verifier and `verifier code` compute the key where the code is
// typed, so the code never reaches a node. The receipt's binding is the
// algorithm, the anchored digest and the key (no salt, no document digest),
// its status at the newest state the node can prove, as a status answer's
// (receipt.Builder.CodeReceipt); it is built as the status route's answer,
// with the same bounds. Every key under which no document is registered
// gets the same 404, whatever keys exist: an answer says nothing about
// other codes, and guessing is bounded by the rate limit (THREAT_MODEL.md).
//
// With ?version=2 (CodeVersionParam) the code route answers the document's
// receipt v2 instead (receipt.Builder.ReceiptV2ByCode; docs/receipt.md,
// "Receipt v2"), for verifiers whose trust bundle accepts receipts v2 only:
// proven up to the latest valid checkpoint of the evidence log, as
// Options.Checkpoints serves it (a node's checkpoint.Witnesses adds the
// witnesses' cosignatures it holds). It is 503 no_checkpoint_yet with
// Retry-After (RetryV2Seconds) while no such checkpoint covers the
// document's batch, and 501 no_evidence_log from a node or chain without
// the evidence log; its ETag names its content, and it has no
// Last-Modified. Bounds, rate limit, 404 and 400 are the code route's, and
// it is counted under the code route.
//
// Answers: 200 with Cache-Control "public, max-age=2", an ETag naming the
// status height (If-None-Match gives 304) and Last-Modified the time of
// the header that signs it; errors are JSON {"error": <one sentence>,
// "code": <snake_case>}: 400 for a bad algorithm, digest or code key (the
// sentence says what a key is), 404 when the digest is not anchored or no
// document has the code key, 429 with Retry-After when the client address is
// over its rate, 503 with Retry-After while the node is catching up, has no
// signed state at the anchoring height yet, or is busy. A halted chain is
// answered with its newest signed status: its height and Last-Modified say
// how old it is, and a verifier asking several nodes sees it is stale.
//
// Each client address (an IPv4 address, an IPv6 /64) has a token bucket
// (rate_per_second, burst) in a table of RateTableSize addresses, the least
// recently used one replaced by a new one (app/internal/ratelimit). The
// server bounds how long a client may take to send its headers and its
// request, how long an answer may take, idle connections, and the size of
// the headers (Timeouts, MaxHeaderBytes). CORS: a request whose Origin is
// listed in cors_origins ("*" for any) gets Access-Control-Allow-Origin;
// preflight requests (OPTIONS) are answered, and refused with 403 for
// other origins. Requests are counted by route and status code in
// notary_public_requests_total, on the registry CometBFT's metrics endpoint
// serves.
package public
