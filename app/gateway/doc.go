// Package gateway serves notary.v1.Gateway, the gRPC service every node runs
// for agencies, ministries, citizens and anyone who verifies (proto/notary/v1/
// gateway.proto). cmd/notaryd runs it beside CometBFT through Factory.
//
// # HTTP/JSON
//
// With gateway.http_listen_address the same service is also served as
// HTTP/JSON routes, POST /v1/<method in kebab case> (http.go;
// docs/adr/0022-http-json-gateway.md): grpc-gateway's generated reverse
// proxy calls the service in process through the same unary interceptors,
// with the caller's verified client certificate and pooled connection, so
// authorisation, rate limits, metrics and error mapping are the gRPC ones.
// Error answers are notary.v1.HttpError bodies naming the gRPC code.
// SubmitBatch is the HTTP equivalent of SubmitStream.
//
// # Reads and writes
//
// Reads are public, except a citizen's records (below). Every read answers
// from one committed state version (an
// abci.StateView), so that the ICS23 proofs it returns verify against the app
// hash of the height it names: LookupDigest reads the digest index, then the
// batch record, the issuing agency and the revocation (or its absence) from
// the same view, and computes the RFC 6962 path from the digests of the
// AnchorBatch transaction in CometBFT's block store.
//
// Writes (Submit, SubmitStream, SubmitBatch) carry a signed notary.v1.Tx. The gateway
// decodes and checks it, authorises it (below), hands it to the node's
// mempool (CheckTx) and waits until it is committed. One subscription to
// CometBFT's NewBlock events serves every waiter: each committed transaction
// is dispatched to its waiters by hash, a cancelled subscription is renewed and
// the blocks it missed are read back from the block and state stores. A
// transaction refused by CheckTx is answered at once; one not committed within
// gateway.submit_timeout is answered with DeadlineExceeded (it may still be
// committed later: resubmitting the same bytes returns its result).
// Resubmitting identical bytes is idempotent: recently committed transactions
// are remembered, and when the ledger answers that a transaction's sequence
// is used, the gateway looks for the committed transaction through the
// records it made (lookup.go) and answers its committed result, so the
// answer does not depend on the node's memory or on a restart. A transaction
// that failed in its block changed nothing, not even its sequence: identical
// bytes are judged again. SubmitStream keeps up to gateway.max_in_flight transactions of
// one stream in flight; it checks them in the order received (so that
// consecutive sequence numbers work) and answers each with its request_id, in
// commit order. Per-transaction errors go into the response's code and
// grpc_code; the stream itself ends only on a transport error.
//
// # Identity: mutual TLS
//
// With TLS configured (the default: tls/node.crt, tls/node.key, tls/ca.crt of
// the home) the gateway asks for, but does not require, a client certificate
// (tls.VerifyClientCertIfGiven), verified against the consortium CA: a
// certificate from another CA or an expired one fails the handshake. Reads
// need no certificate (an agency's reads of a citizen's records excepted,
// below). A write is refused with PermissionDenied before
// anything reaches the mempool unless the verified certificate's participant
// (URI SAN notary:<role>/<id>) is the on-chain owner of the transaction's
// signing key (an agency for AnchorBatch, Revoke, RecordExchange and
// EnrollCitizen, which must also hold the message's permission and be
// active; a ministry for Propose and Vote) and the message names that
// participant. A citizen's GrantConsent and WithdrawConsent are authorised
// by the citizen's signature alone and need no certificate; the chain
// refuses them from a key no accredited agency enrolled (PermissionDenied)
// unless its citizen enrolment is open. Without TLS (an empty tls_cert, allowed on
// loopback addresses only) every write except the citizen's is refused.
//
// Any call that presents a client certificate, read or write, HTTP or
// gRPC, and each message of a stream, is also checked against the
// committed state (members.go, cached per committed height): the named
// participant must be listed and active, and if its record lists
// tls_keys, the certificate's key (ledger.TLSKeyHash of its
// SubjectPublicKeyInfo) must be one of them. Otherwise the call is refused
// with PermissionDenied naming why ("agency X was removed at height H",
// "key not registered"), from the block that removed it.
//
// # A citizen's records: signed reads
//
// ListConsents and GetAccessHistory answer only the subject: the request
// must carry a read_auth (notary.v1.ReadAuth), the subject's ed25519
// signature of the chain id, the method, the request and a time within
// MaxReadSkew of the node's clock (ledger.ReadSignBytes; docs/DESIGN.md,
// section 9). GetConsent answers the consent's subject and the agency it is
// given to (its client certificate); CheckCoverage the requesting and the
// providing agency of the exchange and its subject. A request with no
// credential is refused with Unauthenticated, as is an invalid or stale
// read_auth; valid credentials of someone else with PermissionDenied.
// QueryState refuses the keys under the prefixes of citizens' records
// (ledger.SubjectPrefixes).
//
// # Limits
//
// gateway.max_recv_msg_bytes and max_send_msg_bytes bound messages
// (ResourceExhausted); max_digests_per_request bounds the digests of one
// AnchorBatch or Revoke (InvalidArgument); max_concurrent_streams bounds the
// streams of one connection (HTTP/2: further streams wait at the client);
// keepalive_min_time is enforced (a client pinging more often is
// disconnected). Every refusal names the setting it enforces.
//
// Connections (conns.go). Every connection starts unauthenticated, within
// max_connections_per_address (per IPv4 address or IPv6 /64; over it the
// connection is closed at once) and max_unauthenticated_connections (when
// full, the oldest unauthenticated connection is closed to admit the new
// one: a flood of connections churns itself and never keeps a new client
// out). The TLS handshake, and then the HTTP/2 preface, must each complete
// within tls_handshake_timeout. A connection whose verified client
// certificate names an agency or ministry that the latest committed state
// lists as active is promoted to the authenticated pool, max_connections,
// which only such connections (and those that carried a request signed by a
// registered citizen) use: no caller without a certificate can take the
// capacity of the consortium's members. An unauthenticated connection with
// no request in progress for unauthenticated_idle_timeout is closed;
// idle_timeout closes idle authenticated ones.
//
// Rates (limits.go). rate_per_second and rate_burst are a token bucket per
// caller (ResourceExhausted naming the limit, the caller and when to retry;
// every unary call and every message of a stream takes a token): a listed
// member has its own bucket, in a table that no other traffic touches;
// every other caller shares the bucket of its address (IPv4, IPv6 /64), in
// a table of rate_table_size buckets where a new address evicts the least
// recently used one, so that nobody is refused because the table is full.
//
// citizen_tx_rate_per_second and citizen_tx_burst are one token bucket for
// all the citizens' transactions the node relays (ResourceExhausted):
// whatever the per-address limit lets through from many addresses without
// a certificate meets it.
//
// # Errors
//
// errors.go is the one place where ledger error codes become gRPC status
// codes (CodeForLedger). Bad input never yields Internal: a request that does
// not decode is answered InvalidArgument by the interceptors (codec.go), after
// it was counted in the metrics and rate limited like any other call. Error
// messages quote at most 64 bytes of an input, with its length, and no
// message is longer than 1 KiB. An error that is
// not a registered ledger error is logged and answered as Internal "internal
// error"; a panic in a handler is recovered, logged with its stack and
// answered the same way. A duplicate anchoring is AlreadyExists with the
// SubmitResponse (its result names the existing locator) and the original
// batch record in the status details.
//
// # Ecosystem
//
// The server registers gRPC server reflection (grpcurl can list and call
// every method) and the standard health service (grpc.health.v1, "" and
// "notary.v1.Gateway"). Prometheus metrics are registered on
// prometheus.DefaultRegisterer, which CometBFT serves on its metrics
// endpoint: notary_gateway_requests_total{method,code},
// notary_gateway_request_duration_seconds{method},
// notary_gateway_submissions_total{code}, notary_gateway_submit_commit_seconds,
// notary_gateway_batch_digests, notary_gateway_inflight_submissions,
// notary_gateway_refused_total{reason}, notary_gateway_checktx_total,
// notary_gateway_connections{pool},
// notary_gateway_connections_closed_total{reason} and
// notary_gateway_rate_table_evictions_total.
//
// # Receipts
//
// GetReceipt and GetCheckpoint are answered by a ReceiptBuilder given in
// Options (the receipt package provides one); without it they return
// Unimplemented.
package gateway
