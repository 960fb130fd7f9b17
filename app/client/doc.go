// Package client is the agency client library: it talks to a node's gRPC
// gateway (notary.v1.Gateway) over mutual TLS with an identity's client
// certificate, hashes documents locally, anchors their digests in batches
// and fetches lookups and receipts. cmd/notaryctl is built on it.
//
//	id, _ := identity.Load(dir)
//	c, _ := client.Dial("127.0.0.1:9090", id)
//	defer c.Close(context.Background())
//	a, err := c.AnchorFile(ctx, "certificado.pdf")  // a.Height, a.Time, a.BatchID()
//
// # Documents, digests and commitments
//
// A document never leaves the agency. HashFile reads a file once, streaming,
// with SHA-256 (default) or SHA3-256. By default the value anchored on chain
// is not the document digest d but a salted commitment
//
//	salt      = HMAC-SHA256(identity salt_key, "notary/salt/v1" || d)
//	commitment = H("notary/salted/v1" || salt || d)       (ledger.SaltedDigest)
//
// so that a guessable document (a certificate of a known person on a known
// date) cannot be found on chain by hashing candidates, while the same
// document always gives the same commitment: anchoring it again is
// recognised as a duplicate and answered with the original record. The salt
// goes into the receipt's document binding. WithBareDigests anchors d itself.
//
// # Verification codes
//
// A document may instead be anchored under a verification code printed on
// it (docs/receipt.md, "Verification codes"): AnchorCoded (and
// AnchorFileCoded, CodedDocument) takes the code's salt and key (package
// cmd/verifier/verify/vcode derives them) and anchors the document's coded
// entry, the key and the code tag ledger.CodedEntry, in a coded
// AnchorBatch. Coded documents go in batches of their own,
// plain ones in others, cut from the same queue in the order given. A code
// goes on one document: a code registered, or being anchored, for another
// document fails with ErrCodeUsed (the same document under the same code
// again is its original record, as any duplicate). LookupCode finds a
// document by its code's key; Receipt and Document.Binding carry the key
// and the code's salt.
//
// # Batching and the submit pipeline
//
// Anchor, AnchorAsync and AnchorAll may be called from many goroutines;
// callers asking for the same value while it is pending share one entry.
// The pipeline collects their values into AnchorBatch transactions of up to
// MaxBatch digests (capped by the chain's max_digests_per_batch and
// max_tx_bytes), closing a batch when it is full or BatchWindow after its
// first value (Flush and Close close it at once; AnchorAll flushes). A value
// whose callers have all given up before its batch is cut is dropped. It
// signs each batch with the identity's key and keeps up to MaxInFlight
// transactions in flight on one SubmitStream. An agency's and a ministry's
// transactions are unordered (ledger, "Ordered and unordered
// transactions"): a random 16-byte nonce and a valid_until_height half the
// chain's max_unordered_window after the latest height known, so that any
// number of clients and processes of one key submit at once. With
// Options.Ordered, for a citizen, and on a chain whose window is 0, each
// transaction carries the next sequence of the account (read with
// GetAccount), consecutive ones in flight. Each caller
// gets its own result: the batch (height and transaction index), its leaf,
// the block time, read from the batch record after checking that the record
// is this very transaction's. Submit and Revoke (and so any other signed
// message, such as RecordExchange, Propose or Vote, given to Submit) go
// through the same pipeline, so they never race the batches for a sequence
// number.
//
// # Retries never anchor twice
//
// The chain anchors a digest at most once and a refused transaction changes
// nothing, not even its sequence; the pipeline relies on that and never
// acknowledges a value the chain has not committed:
//
//   - a duplicate (AlreadyExists, TxResult.existing) is a success carrying
//     the original record (Anchored.Existing is false only if the record is
//     a transaction this client sent). The chain refuses the whole
//     transaction for one duplicate: the pipeline splits that value out and
//     resubmits the others; from the second duplicate in a batch on, it
//     looks the rest up first and resubmits only those not found. A value
//     the chain reports as pending in another, uncommitted transaction is
//     looked up until it is committed (or RetryTimeout ends);
//   - with sequences, any refusal means that the transactions sent after it
//     fail too, with a sequence error; so does another process using the
//     key. The pipeline
//     then stops sending new transactions, waits for the answers of those
//     in flight, reads the account's next sequence (GetAccount) and re-signs
//     what is still pending, in its original order;
//   - a transient failure (a broken stream; a transaction answered
//     Unavailable, DeadlineExceeded, ResourceExhausted, Aborted or Canceled
//     before the chain judged it) makes the fate of the transactions
//     concerned unknown. The pipeline backs off (100 ms doubling to 5 s),
//     opens a new stream if needed and resubmits each of them with
//     identical bytes, in sequence order: the gateway answers identical
//     bytes with the committed result if it remembers it, waits for them if
//     they are in the mempool, and otherwise the chain checks them afresh.
//     Only if the answer is "sequence already used" (unordered: "nonce
//     already used" or "unordered transaction expired") is the outcome
//     looked up: a batch by its first value (found in this very transaction: it
//     was committed; else it is re-signed); any other transaction fails
//     with ErrUnknownOutcome;
//   - an unordered transaction that expired before a block took it is
//     signed again with a new nonce;
//   - a unary call refused by a gateway rate limit (ResourceExhausted: the
//     processes of one agency share its limits) is retried with backoff;
//   - when nothing has progressed for RetryTimeout during such failures,
//     all pending work fails with the last error (ErrUnknownOutcome for
//     what was in flight).
//
// A gateway whose max_digests_per_request is below the batch size makes
// the pipeline halve its batches until they pass. Errors that retrying
// cannot fix (PermissionDenied, InvalidArgument, ...) are returned to the
// callers as *TxError, which carries the chain's code and maps to its gRPC
// status.
//
// # Receipts
//
// Receipt fetches a receipt from the gateway and fills in what only the
// agency knows: the document digest and salt of the document binding.
package client
