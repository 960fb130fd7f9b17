// Package receipt builds v1 receipts (docs/receipt.md) on a node: for an
// anchored digest, the batch record and its ICS23 proof with the digest's
// RFC 6962 path (the digests come from the AnchorBatch transaction in the
// block store), the issuing agency's record and proof, the checkpoint that
// carries the app hash they are proven against (header H+1 and a commit for
// it, trimmed to the signatures for the block), the revocation status at a
// later height, and the validator-set transitions from the genesis set to
// the sets that signed those headers (found by walking the ValsetChange
// records of the state). Signers outside the trust bundle get their ministry
// records proven next to the commit, so a verifier can name them.
//
// A Builder reads a Source: NodeSource adapts a running app.Node, and
// receipttest provides a synthetic chain (real application, real IAVL, real
// CometBFT headers and signatures, no consensus) for tests and benchmarks
// that need validator sets or commits a real network would not produce.
//
// A v2 receipt (docs/receipt.md, "Receipt v2"; ReceiptV2) carries the
// document binding and the digest's path in its batch, then the batch's
// leaf in the evidence log, its inclusion proof in the log of the latest
// valid checkpoint and that checkpoint's note, read from the node's tiles
// and checkpoints (LogSource, through app/logproof).
//
// Builder.GetReceipt and Builder.GetCheckpoint answer the gateway's methods
// of the same names.
package receipt
