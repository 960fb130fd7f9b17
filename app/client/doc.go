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
// # Batching and the submit pipeline
//
// Anchor, AnchorAsync and AnchorAll may be called from many goroutines. The
// pipeline collects their digests into AnchorBatch transactions of up to
// MaxBatch digests (capped by the chain's max_digests_per_batch), closing a
// batch when it is full or BatchWindow after its first digest (Flush closes
// it at once). It signs each batch with the identity's key and the next
// sequence of its account and keeps up to MaxInFlight transactions in flight
// on one SubmitStream, with consecutive sequences. Each caller gets its own
// result: the batch (height and transaction index), its leaf, the block
// time. Revoke, RecordExchange, Propose and Vote go through the same
// pipeline, so they never race the batches for a sequence number.
//
// # Retries never anchor twice
//
// The chain anchors a digest at most once; the pipeline relies on that and
// never acknowledges a digest the chain has not committed:
//
//   - a duplicate (AlreadyExists, TxResult.existing) is a success carrying
//     the original record (Anchored.Existing says whether it predates this
//     client's own transactions). The chain refuses the whole transaction
//     for one duplicate digest: the pipeline splits that digest out and
//     resubmits the others; from the second duplicate in a batch on, it looks
//     the rest up before resubmitting;
//   - a sequence error (replayed or skipped: another process used the key,
//     or an earlier transaction failed) stops sending, waits for the
//     transactions in flight, reads the account's next sequence (GetAccount)
//     and re-signs what is still pending;
//   - a transient failure (Unavailable, DeadlineExceeded, a broken stream)
//     backs off, reconnects, and checks each transaction whose fate is
//     unknown: a batch whose sequence was consumed is looked up by its first
//     digest (found in the same transaction: it was committed); one whose
//     sequence is still next is resubmitted with identical bytes, which the
//     gateway and the mempool treat as the same transaction.
//
// Errors that retrying cannot fix (PermissionDenied, InvalidArgument, ...)
// are returned to the callers as *TxError, which carries the chain's code
// and maps to its gRPC status.
package client
